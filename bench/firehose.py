"""What RabbitMQ's firehose costs the broker per message: the price of seeing AMQP reads in track & trace.

A subscriber reading its mailbox over AMQP never talks to the gateway; the only per-message signal the broker
offers is the firehose (``rabbitmqctl trace_on``): a copy of every publish and every delivery of the vhost to
``amq.rabbitmq.trace``. (The event exchange plugin tells of queues, consumers and connections, never of one
message; queue statistics count deliveries per queue, not which message.) A binding narrows what reaches the
gateway, not what the broker copies, so this section meters the narrow and the wide variant both:

- ``off``: no tracing;
- ``on, unbound``: tracing on, nothing bound to ``amq.rabbitmq.trace`` (the copies are routed and dropped);
- ``on, deliver.mailbox.#``: the gateway's opt-in (``GATEWAY_TRACE_AMQP_DELIVERIES``): a queue bound with
  ``deliver.mailbox.#``, consumed and acked at once, headers read only;
- ``on, #``: every copy queued and consumed (publishes too).

Each round publishes ``--messages`` persistent 3 KB messages with confirms to a quorum mailbox queue and a
consumer acks them; the broker's CPU (utime + stime of its Erlang VM) over the round is divided by the
messages. Variants alternate round by round on a RabbitMQ node of the bench's own, so the figures and their
ratios come from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

import aio_pika

import bench
from bench._own import OwnNode

TITLE = "RabbitMQ firehose: broker CPU per message with AMQP deliveries traced"

MAILBOX = "mailbox.42420001"
TRACE_QUEUE = "trace.deliveries"
BODY = b"x" * 3000
VARIANTS: dict[str, str | None] = {  # name -> binding key on amq.rabbitmq.trace (None: tracing off)
    "off": None,
    "on, unbound": "",
    "on, deliver.mailbox.#": "deliver.mailbox.#",
    "on, #": "#",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=3000, help="messages per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each variant (default 3)")


def _broker_cpu_s(pid: int) -> float:
    """utime + stime of the broker's Erlang VM, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _round(url: str, pid: int, node: OwnNode, binding: str | None, count: int) -> dict[str, float]:
    node.ctl("trace_on" if binding is not None else "trace_off")
    async with await aio_pika.connect(url) as connection:
        publish = await connection.channel(publisher_confirms=True)
        consume = await connection.channel()
        await consume.set_qos(prefetch_count=200)
        mailbox = await consume.declare_queue(MAILBOX, durable=True, arguments={"x-queue-type": "quorum"})
        traced: list[int] = [0]
        trace_queue = None
        if binding:
            trace_queue = await consume.declare_queue(
                TRACE_QUEUE, durable=True, arguments={"x-message-ttl": 60_000, "x-max-length": 100_000}
            )
            await trace_queue.bind("amq.rabbitmq.trace", routing_key=binding)
        got, copied = asyncio.Event(), asyncio.Event()
        received = [0]
        expected = {"deliver.mailbox.#": count, "#": 2 * count}.get(binding or "", 0)
        if expected == 0:
            copied.set()

        async def on_mail(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            received[0] += 1
            if received[0] >= count:
                got.set()

        async def on_trace(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            headers = message.headers or {}
            _ = (message.routing_key, headers.get("user"), headers.get("properties"))  # headers only
            traced[0] += 1
            await message.ack()
            if traced[0] >= expected:
                copied.set()

        await asyncio.sleep(0.5)  # the broker settles after the trace switch and the declarations
        cpu0, wall0 = _broker_cpu_s(pid), time.perf_counter()
        mail_tag = await mailbox.consume(on_mail)
        trace_tag = await trace_queue.consume(on_trace) if trace_queue is not None else None
        exchange = publish.default_exchange
        window = 100
        for start in range(0, count, window):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            BODY, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=f"m{start + i}"
                        ),
                        routing_key=MAILBOX,
                    )
                    for i in range(min(window, count - start))
                )
            )
        await asyncio.wait_for(asyncio.gather(got.wait(), copied.wait()), timeout=600)
        wall, cpu = time.perf_counter() - wall0, _broker_cpu_s(pid) - cpu0
        await mailbox.cancel(mail_tag)
        if trace_queue is not None and trace_tag is not None:
            await trace_queue.cancel(trace_tag)
            await trace_queue.delete(if_unused=False, if_empty=False)
    return {"cpu_us_per_message": cpu / count * 1e6, "messages_per_s": count / wall, "traced": traced[0]}


async def _measure(node: OwnNode, messages: int, rounds: int) -> dict[str, list[dict[str, float]]]:
    pid = int((node.base / "node.pid").read_text().split()[0])
    results: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    await _round(node.amqp_url, pid, node, None, 500)  # warm-up: queue made, code loaded
    for _ in range(rounds):
        for name, binding in VARIANTS.items():
            results[name].append(await _round(node.amqp_url, pid, node, binding, messages))
    node.ctl("trace_off")
    return results


def run(args: argparse.Namespace) -> bench.Report:
    node = OwnNode.create()
    try:
        node.start()
        results = asyncio.run(_measure(node, args.messages, args.rounds))
    finally:
        node.destroy()
    base_cpu = statistics.median(r["cpu_us_per_message"] for r in results["off"])
    base_rate = statistics.median(r["messages_per_s"] for r in results["off"])
    rows = []
    data: dict[str, Any] = {"messages": args.messages, "rounds": args.rounds, "variants": {}}
    for name, rounds in results.items():
        cpu = statistics.median(r["cpu_us_per_message"] for r in rounds)
        rate = statistics.median(r["messages_per_s"] for r in rounds)
        rows.append((name, f"{cpu:.0f}", f"{cpu / base_cpu:.2f}", f"{rate:.0f}", f"{rate / base_rate:.2f}"))
        data["variants"][name] = {"rounds": rounds, "cpu_us_per_message": cpu, "messages_per_s": rate}
    table = bench.Table(
        f"broker CPU per message, {args.messages} persistent 3 KB messages to a quorum mailbox with confirms "
        f"and consumer acks; medians of {args.rounds} alternating rounds on a RabbitMQ node of its own",
        ("firehose", "broker CPU µs/msg", "x off", "msg/s", "x off"),
        tuple(rows),
    )
    return bench.Report("firehose", (table,), data=data)
