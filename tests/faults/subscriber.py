"""A mailbox subscriber in a process of its own, so a test can SIGKILL it in the middle of a message.

``python -m tests.faults.subscriber OUT VHOST QUEUE HOLD URL [URL ...]``: consumes QUEUE on VHOST with
manual acks; for each message it appends ``tracking-id identificatie unix-time redelivered`` to OUT (flushed), waits
HOLD seconds (the message is then in hand but not acked), and acks. Connection lost: it tries the next URL
(the nodes of a cluster) until one answers. Ends on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from itertools import cycle
from typing import TextIO

import aio_pika
from yarl import URL


async def consume(out: TextIO, vhost: str, queue_name: str, hold: float, urls: list[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    for url in cycle(urls):
        if stop.is_set():
            return
        try:
            connection = await aio_pika.connect(str(URL(url).with_path("/" + vhost)), timeout=5)
        except Exception:
            await asyncio.sleep(0.5)
            continue
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_, lost=lost: lost.set())
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=100)
            channel.close_callbacks.add(lambda *_, lost=lost: lost.set())
            queue = await channel.get_queue(queue_name, ensure=False)

            async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                ident = (message.headers or {}).get("identificatie", "")
                if isinstance(ident, bytes):
                    ident = ident.decode()
                again = int(bool(message.redelivered))
                out.write(f"{message.message_id} {ident} {time.time():.6f} {again}\n")
                out.flush()
                await asyncio.sleep(hold)
                await message.ack()

            await queue.consume(on_message)
            print("consuming", flush=True)
            done = asyncio.create_task(stop.wait())
            broken = asyncio.create_task(lost.wait())
            await asyncio.wait({done, broken}, return_when=asyncio.FIRST_COMPLETED)
            done.cancel()
            broken.cancel()
        except Exception:
            await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(Exception):
                await connection.close()


def main(argv: list[str]) -> int:
    out_path, vhost, queue, hold, *urls = argv
    with open(out_path, "a", encoding="utf-8") as out:
        asyncio.run(consume(out, vhost, queue, float(hold), urls))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
