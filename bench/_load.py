"""Load generators and measuring clients, each run in a process of its own (``python -m bench._load SPEC OUT``).

- ``http``: POSTs one message per request over keep-alive HTTP/1.1 connections, each with an Identificatie of
  its own. Closed loop (``concurrency`` connections, each sends its next request when the answer came) or
  open loop (``rate`` requests per second on a fixed schedule, latency counted from the *scheduled* time, so
  a stalled server cannot hide its stall by slowing the generator down: no coordinated omission).
  A bare asyncio protocol on uvloop: about 10 times the rate of an httpx client on the same core.
- ``publish``: the baseline, raw aio-pika publishing of the same bytes, persistent, with publisher confirms,
  to a quorum queue; closed or open loop like ``http``.
- ``consume``: an AMQP consumer on a mailbox queue (prefetch, ack per message) that records when each
  tracking id arrived, until it has ``expect`` messages or ``seconds`` passed.

Times are ``time.monotonic()`` (one clock for every process on the machine), so the parent can join what the
generator sent with what the consumer received. Results are JSON written to OUT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLACEHOLDER = b"123456789012"  # the Identificatie of the official example messages
SUCCESS = ("202", "confirmed")  # the answers whose latency counts: accepted, confirmed


@dataclass
class Template:
    """A message whose Identificatie (12 characters) is replaced per request: run tag + counter."""

    body: bytes
    tag: str

    def __post_init__(self) -> None:
        at = self.body.find(PLACEHOLDER)
        if at < 0 or len(self.tag) > 4:
            raise ValueError("message without the placeholder Identificatie, or a tag over 4 characters")
        self.head, self.tail = self.body[:at], self.body[at + len(PLACEHOLDER) :]
        self.count = 0

    def next(self) -> bytes:
        self.count += 1
        ident = f"{self.tag}{self.count:0{12 - len(self.tag)}d}".encode()
        return self.head + ident + self.tail


# --- HTTP -----------------------------------------------------------------------------------------------


class StaleConnection(ConnectionError):
    """The server closed the idle connection before a request went out: safe to send it again."""


class _Http(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head.split(" ", 2)[1])
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.lost or self.transport is None:
            raise StaleConnection("closed before the request was sent (idle keep-alive timeout)")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


@dataclass
class HttpSpec:
    host: str
    port: int
    token: str
    message: str  # path of the message file
    tag: str
    seconds: float
    concurrency: int = 16  # closed loop: connections; open loop: most requests in flight
    rate: float = 0.0  # > 0: open loop at this many requests per second
    warmup: float = 1.0
    record_ids: bool = False  # (tracking id, sent, answered, scheduled) of every 202, in the window or not
    drain: float = 30.0  # after the last send, wait this long for answers; what is still open is cut off


@dataclass
class Samples:
    """What a generator measured inside its timed window."""

    started: float = 0.0
    ended: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of the successes (202, confirmed)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    ids: list[tuple[str, float, float, float]] = field(default_factory=list)  # id, sent, answered, scheduled
    late: int = 0  # open loop: requests sent more than 100 ms after their scheduled time
    unfinished: int = 0  # requests still without an answer when the drain time was over
    completed: int = 0  # every success of the run, warm-up and drain included: the divisor of CPU per message
    cpu_s: float = 0.0  # this process's own CPU over the run (connect to close): the client's cost
    last: float = 0.0  # open loop: the last answer to a request scheduled in the window

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def timed(self, scheduled: float, done: float, status: str, seconds: float, *, opened: bool) -> None:
        """Count one answer in the timed window. Closed loop: sent and answered inside it. Open loop: every
        request scheduled inside it, whenever its answer came (within the drain): those answered after the
        window are the slowest, and leaving them out would cut the tail off the p99; the window then ends
        at the last such answer, so that the rate is what was carried."""
        end = self.started + seconds
        if scheduled < self.started or scheduled >= end or (not opened and done > end):
            return
        self.count(status)
        if status in SUCCESS:  # a refusal (a 503 of the in-flight bound) is quick: it would lower the p99
            self.latencies.append(done - scheduled)
        if opened:
            self.last = max(self.last, done)

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "ended": self.ended,
            "latencies": self.latencies,
            "statuses": self.statuses,
            "errors": self.errors,
            "ids": self.ids,
            "late": self.late,
            "unfinished": self.unfinished,
            "completed": self.completed,
            "cpu_s": self.cpu_s,
        }


def _request_bytes(spec: HttpSpec, body: bytes) -> bytes:
    head = (
        f"POST /v1/berichten HTTP/1.1\r\nHost: {spec.host}:{spec.port}\r\n"
        f"Authorization: Bearer {spec.token}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _tracking_id(body: bytes) -> str:
    at = body.find(b'"trackingId":"')
    return body[at + 14 : at + 50].decode() if at >= 0 else ""


async def _connect(spec: HttpSpec) -> _Http:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(_Http, spec.host, spec.port)
    return protocol


async def run_http(spec: HttpSpec, message: bytes) -> Samples:
    template = Template(message, spec.tag)
    conns = [await _connect(spec) for _ in range(spec.concurrency)]
    samples = Samples()
    loop = asyncio.get_running_loop()
    start = loop.time()
    samples.started = time.monotonic() + spec.warmup
    stop = start + spec.warmup + spec.seconds

    async def one(conn: _Http, scheduled: float) -> _Http:
        sent = time.monotonic()
        data = _request_bytes(spec, template.next())
        try:
            try:
                status, body = await conn.request(data)
            except StaleConnection:
                conn = await _connect(spec)
                status, body = await conn.request(data)
        except ConnectionError:
            samples.errors += 1
            return await _connect(spec)
        done = time.monotonic()
        if status == 202:
            samples.completed += 1
            if spec.record_ids:
                samples.ids.append((_tracking_id(body), sent, done, scheduled))
        samples.timed(scheduled, done, str(status), spec.seconds, opened=spec.rate > 0)
        return conn

    if spec.rate <= 0:

        async def closed(conn: _Http) -> None:
            while loop.time() < stop:
                conn = await one(conn, time.monotonic())

        workers = {asyncio.create_task(closed(c)) for c in conns}
        _, pending = await asyncio.wait(workers, timeout=spec.warmup + spec.seconds + spec.drain)
        samples.unfinished = _cut(pending)
    else:
        free: asyncio.Queue[_Http] = asyncio.LifoQueue()  # the most recently used first: idle ones expire
        for c in conns:
            free.put_nowait(c)

        async def scheduled_request(at: float) -> None:
            conn = await free.get()  # the pool of connections bounds what is in flight
            if time.monotonic() - at > 0.1:
                samples.late += 1
            free.put_nowait(await one(conn, at))

        samples.unfinished = await _open_loop(spec.rate, stop, scheduled_request, len(conns), spec.drain)
    samples.ended = max(samples.started + spec.seconds, samples.last)
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    return samples


def _cut(pending: set[asyncio.Task[Any]]) -> int:
    for task in pending:
        task.cancel()
    return len(pending)


# --- AMQP -----------------------------------------------------------------------------------------------


@dataclass
class PublishSpec:
    url: str  # AMQP URL with the vhost
    queue: str
    message: str
    seconds: float
    concurrency: int = 16
    rate: float = 0.0
    warmup: float = 1.0
    loop: str = "asyncio"


async def run_publish(spec: PublishSpec, body: bytes) -> Samples:
    import aio_pika
    from aio_pika.abc import DeliveryMode

    cpu_start = time.process_time()
    connection = await aio_pika.connect(spec.url)
    channel = await connection.channel(publisher_confirms=True)
    queue = await channel.declare_queue(spec.queue, durable=True, arguments={"x-queue-type": "quorum"})
    exchange = channel.default_exchange
    samples = Samples()
    loop = asyncio.get_running_loop()
    samples.started = time.monotonic() + spec.warmup
    stop = loop.time() + spec.warmup + spec.seconds

    async def one(scheduled: float) -> None:
        message = aio_pika.Message(body, delivery_mode=DeliveryMode.PERSISTENT)
        try:
            await exchange.publish(message, routing_key=spec.queue)
        except Exception:
            samples.errors += 1
            return
        samples.completed += 1
        samples.timed(scheduled, time.monotonic(), "confirmed", spec.seconds, opened=spec.rate > 0)

    if spec.rate <= 0:

        async def closed() -> None:
            while loop.time() < stop:
                await one(time.monotonic())

        await asyncio.gather(*(closed() for _ in range(spec.concurrency)))
    else:
        await _open_loop(spec.rate, stop, one, spec.concurrency)
    samples.ended = max(samples.started + spec.seconds, samples.last)
    await queue.purge()
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()
    samples.cpu_s = time.process_time() - cpu_start
    return samples


async def _open_loop(
    rate: float,
    stop: float,
    one: Callable[[float], Awaitable[None]],
    most: int,
    drain: float | None = None,
) -> int:
    """Start ``one(scheduled)`` ``rate`` times per second until ``stop``; at most ``most`` in flight. After
    the last start wait ``drain`` seconds (None: until all are done); returns how many were cut off."""
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(most)
    tasks: set[asyncio.Task[None]] = set()

    async def guarded(at: float) -> None:
        async with slots:
            await one(at)

    interval = 1.0 / rate
    begin = time.monotonic()
    i = 0
    while loop.time() < stop:
        at = begin + i * interval
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(guarded(at))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
    if not tasks:
        return 0
    _, pending = await asyncio.wait(set(tasks), timeout=drain)
    return _cut(pending)


@dataclass
class ConsumeSpec:
    url: str
    queue: str
    expect: int
    seconds: float
    prefetch: int = 300
    idle: float = 5.0  # stop this long after the last message (once at least one came)
    acks: str = "single"  # "single": one ack per message; "multiple": what came since the last, in one


async def run_consume(spec: ConsumeSpec) -> dict[str, Any]:
    import aio_pika

    connection = await aio_pika.connect(spec.url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=spec.prefetch)
    queue = await channel.get_queue(spec.queue, ensure=True)
    arrived: list[tuple[str, float]] = []
    enough = asyncio.Event()

    latest: list[aio_pika.abc.AbstractIncomingMessage] = []
    waiting = asyncio.Event()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        arrived.append((message.message_id or "", time.monotonic()))
        if spec.acks == "multiple":  # the acker settles everything up to the latest in one frame
            latest[:] = [message]
            waiting.set()
        else:
            await message.ack()
        if spec.expect and len(arrived) >= spec.expect:
            enough.set()

    async def acker() -> None:
        """One multiple ack at a time, each after the one before is written: never one naming a tag that
        an earlier ack, overtaking it, already settled."""
        while True:
            await waiting.wait()
            waiting.clear()
            await asyncio.sleep(0.002)  # what arrives within it goes with this ack
            if latest:
                await latest.pop().ack(multiple=True)

    acking = asyncio.create_task(acker()) if spec.acks == "multiple" else None
    await queue.consume(on_message)
    print("consuming", flush=True)
    deadline = time.monotonic() + spec.seconds
    while not enough.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if arrived and time.monotonic() - arrived[-1][1] > spec.idle:
            break
    if acking is not None:
        acking.cancel()
        if latest:
            await latest.pop().ack(multiple=True)
    await connection.close()
    return {"arrived": arrived}


def main(argv: list[str]) -> int:
    kind, spec_json, out = argv
    raw = json.loads(spec_json)
    if kind == "http":
        import uvloop

        # the HTTP generator stands for clients on other machines: ahead of the measured processes on the
        # cores they share (where the OS lets it), so that its own lag (scheduled -> sent, counted against the
        # node in the open loop) is not the machine's queue; the raw baseline's client is measured, not raised
        with contextlib.suppress(OSError):
            os.nice(-10)
        spec = HttpSpec(**raw)
        result: dict[str, Any] = uvloop.run(run_http(spec, Path(spec.message).read_bytes())).as_dict()
    elif kind == "publish":
        pub = PublishSpec(**raw)
        body = Path(pub.message).read_bytes()
        if pub.loop == "uvloop":
            import uvloop

            result = uvloop.run(run_publish(pub, body)).as_dict()
        else:
            result = asyncio.run(run_publish(pub, body)).as_dict()
    elif kind == "consume":
        import uvloop

        result = uvloop.run(run_consume(ConsumeSpec(**raw)))
    else:
        raise SystemExit(f"unknown generator {kind}")
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
