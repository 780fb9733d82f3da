"""Abuse limits at the HTTP edge: a token bucket per party and node, and deadlines for slow clients.

The rate limit is checked once the caller is authenticated (so only registered parties hold a bucket);
too many requests get ``429`` with ``Retry-After`` and problem+json (IB103: temporarily unavailable for
this party). Slow clients are bounded in the HTTP protocol itself (:class:`GuardedHttpToolsProtocol`): the
request line and headers must arrive within ``header_timeout`` and be at most ``max_header_bytes``, the body
within ``body_timeout``; otherwise the connection gets ``408`` (or ``431``) and is closed, so an idle or
trickling connection never keeps a request task, a body buffer or a database connection waiting. An answer
sent before the body is in closes the connection, so an unauthenticated upload never holds a slot.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE

from gateway.errors import Busy, GatewayError, NodeRole
from gateway.security.tls import PeerCertHttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
# how long a closing connection may take to say goodbye (a TLS close_notify the peer never answers would
# otherwise hold it, and a server's shutdown, for asyncio's 30 s SSL shutdown timeout)
CLOSE_GRACE = 1.0
# after an answer sent before the request body was in, the rest of the body is read and dropped this long at
# most (so the client, still sending, gets to read the answer instead of a reset), then the connection closes
LINGER = 2.0


class RateLimited(Busy):
    """More requests from one party than its rate allows; ``retry_after`` says when a token is free."""

    reason = "rate-limited"
    title = "Too many requests from this party; retry after the Retry-After seconds"


class RequestAbandoned(GatewayError):
    """The connection closed before the request body was complete (nothing was received or recorded)."""

    code, vecozo_code, status, reason = "IB103", "IB103", 408, "request-abandoned"
    title = "The request was not received completely"
    transient = True


@dataclass
class TokenBucket:
    """``rate`` tokens per second up to ``burst``, one bucket per key; a request takes one token."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict, repr=False)

    def take(self, key: tuple[str, str]) -> float:
        """0 when a token was taken; otherwise the seconds until one is free (nothing taken)."""
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


@dataclass(frozen=True)
class Limits:
    """The limits of one node's HTTP edge (``NodeServices.limits``)."""

    bucket: TokenBucket | None = None

    @classmethod
    def of(cls, rate: float, burst: int) -> Limits:
        """``rate`` requests per second per party (0: no rate limit), bursts of up to ``burst``."""
        return cls(TokenBucket(rate, burst) if rate > 0 else None)

    def check(self, node: NodeRole, party: str) -> None:
        """Raise :class:`RateLimited` when ``party`` has used up its tokens on ``node``."""
        if self.bucket is None:
            return
        wait = self.bucket.take((node, party))
        if wait > 0:
            raise RateLimited(
                f"party {party} sent more than {self.bucket.rate:g} requests per second",
                max(1, math.ceil(wait)),
            )

    def __repr__(self) -> str:
        if self.bucket is None:
            return "Limits(rate=None)"
        return f"Limits(rate={self.bucket.rate:g}, burst={self.bucket.burst})"


# --- slow clients ---------------------------------------------------------------------------------------


def _problem(status: int, phrase: str, reason: str, detail: str) -> bytes:
    body = json.dumps(
        {
            "type": f"urn:gegevensknooppunt:problem:{reason}",
            "title": phrase,
            "status": status,
            "detail": detail,
            "code": "IB103",
            "errors": [{"code": "IB103", "line": None, "path": None, "text": detail}],
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


@dataclass(frozen=True)
class SlowClientLimits:
    """Deadlines of one connection; 0 switches a deadline off."""

    header_timeout: float = 10.0
    body_timeout: float = 120.0
    max_header_bytes: int = MAX_HEADER_BYTES


class GuardedHttpToolsProtocol(PeerCertHttpToolsProtocol):
    """uvicorn's httptools protocol (with the client certificate for the app) plus deadlines.

    Use :func:`guarded_protocol` to bind the limits: uvicorn builds the protocol with its own arguments.
    """

    limits = SlowClientLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        # the deadline the request's phase asks for, (when, phase) or (None, phase) for none, set while the
        # parser reads and armed once the data it was given is read (a request that arrives whole is
        # complete by then and arms nothing)
        self._wanted: tuple[float | None, str] | None = None
        self._abort: asyncio.TimerHandle | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._in_head = True

    def _arm(self, seconds: float, phase: str) -> None:
        self._disarm()
        if seconds > 0:
            self._deadline = self.loop.call_later(seconds, self._too_slow, phase)

    def _want(self, seconds: float, phase: str) -> None:
        self._wanted = (self.loop.time() + seconds if seconds > 0 else None, phase)

    def _arm_wanted(self) -> None:
        wanted, self._wanted = self._wanted, None
        if wanted is None or self.transport.is_closing():
            return
        when, phase = wanted
        self._disarm()
        if when is not None:
            self._deadline = self.loop.call_at(when, self._too_slow, phase)

    def _disarm(self) -> None:
        self._wanted = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, data: bytes) -> None:
        self._disarm()
        transport = self.transport
        if not transport.is_closing():
            transport.write(data)
            transport.close()
        self._bound_close()

    def _bound_close(self) -> None:
        """A connection that is closing is gone within :data:`CLOSE_GRACE` seconds, said goodbye or not."""
        if self._abort is None and self.transport.is_closing():
            self._abort = self.loop.call_later(CLOSE_GRACE, self.transport.abort)

    def shutdown(self) -> None:
        """The server is stopping: idle connections close now (within the grace), a request in flight is
        answered first and its connection closes after it."""
        super().shutdown()
        self._bound_close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._bound_close()  # answered with ``connection: close`` (shutdown, or answered before the body)

    def timeout_keep_alive_handler(self) -> None:
        super().timeout_keep_alive_handler()
        self._bound_close()

    def _too_slow(self, phase: str) -> None:
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and cycle.response_started:
            if cycle.response_complete:  # answered without the whole body (e.g. 401): do not wait for it
                self.transport.close()
                self._bound_close()
            return  # the app is answering; let it finish
        seconds = self.limits.header_timeout if phase == "headers" else self.limits.body_timeout
        self._refuse(
            _problem(
                408, "Request Timeout", "slow-client", f"the request {phase} took longer than {seconds:g} s"
            )
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout, "headers")

    def data_received(self, data: bytes) -> None:
        if self._linger is not None:
            return  # the rest of a body already answered: dropped
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        limit = self.limits.max_header_bytes
        if self._in_head and limit and self._head_bytes > limit:
            self._refuse(
                _problem(431, "Request Header Fields Too Large", "headers-too-large", f"over {limit} bytes")
            )
        if self._wanted is not None:
            self._arm_wanted()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # (the connection's first request: armed when it was made)
            self._want(self.limits.header_timeout, "headers")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._want(self.limits.body_timeout, "body")
        super().on_headers_complete()
        self._close_when_answered_early()

    def _close_when_answered_early(self) -> None:
        """An answer that starts before the request body is in (a 401 or 413 to a large upload) says
        ``connection: close``; once sent, what still comes of the body is dropped unparsed for at most
        :data:`LINGER` seconds and the connection closes, instead of waiting for a body nobody will read."""
        cycle = self.cycle
        if cycle is None:
            return
        cycle.send = _Send(cycle, cycle.send, self)  # type: ignore[method-assign]

    def _start_lingering(self) -> None:
        if self._linger is not None or self.transport.is_closing():
            return
        self._disarm()
        self._linger = self.loop.call_later(LINGER, self._stop_lingering)
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the client reads the answer, then the end
        self.flow.resume_reading()

    def _stop_lingering(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()
        self._bound_close()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head, self._head_bytes = True, 0  # the next request's head starts
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        for handle in (self._abort, self._linger):
            if handle is not None:
                handle.cancel()
        self._abort = None
        super().connection_lost(exc)


class _Send:
    """The request cycle's ``send`` as the app gets it: an answer that starts before the request body is in
    closes the connection after it (see ``_close_when_answered_early``); a whole answer goes out in one write
    (:func:`_answer_at_once`, or :meth:`whole` for a route that has its answer's parts at hand)."""

    __slots__ = ("_cycle", "_held", "_protocol", "_send")

    def __init__(self, cycle: Any, send: Callable[[Any], Any], protocol: GuardedHttpToolsProtocol) -> None:
        self._cycle = cycle
        self._send = send
        self._protocol = protocol
        self._held: Any = None

    async def __call__(self, message: Any) -> None:
        cycle = self._cycle
        if message["type"] == "http.response.start":
            if cycle.more_body:
                protocol = self._protocol
                cycle.keep_alive = False
                cycle.transport = cast(
                    asyncio.Transport, _Lingering(protocol.transport, protocol._start_lingering)
                )
            else:  # the status line and headers go out with the first part of the body, in one write
                self._held = message
                return
        try:
            start = self._held
            if start is not None:
                self._held = None
                if not _answer_at_once(cycle, start, message):
                    await _corked(cycle, self._send, start, message)
                return
            await self._send(message)
        finally:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self._forget()

    def whole(self, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> bool:
        """Send the answer ``status``, ``headers`` (after the server's own), ``body`` in one write, as the
        start and the one body message with these would be sent through :meth:`__call__`: False, having
        done nothing, when that would not take the one-write path (then send them so)."""
        cycle = self._cycle
        if cycle.more_body or self._held is not None or not _whole(cycle, status, headers, body):
            return False
        self._forget()
        return True

    def _forget(self) -> None:
        # the answer is out: the cycle forgets this object, so that the two are no reference cycle (freed at
        # once, not by a full garbage collection)
        vars(self._cycle).pop("send", None)


def _answer_at_once(cycle: Any, start: Any, body: Any) -> bool:
    """Write a whole answer (its head and its only body part, with a content-length; or a 204 or 304 without
    either) to the socket in one write, as uvicorn's ``send`` writes it in two calls, and finish the request
    cycle as it does (keep-alive or close, then the protocol's next request). False, having done nothing, for
    any other answer (no content-length, ``HEAD``, a paused or lost connection, access logging): those take
    uvicorn's ``send`` (the same bytes either way: tests/privacy/test_answer_write.py). It saves the two
    calls through uvicorn's ``send`` and the write held back to join them, a few microseconds of a 202 (or
    of the VECOZO push's 204)."""
    if body.get("type") != "http.response.body" or body.get("more_body", False):
        return False
    if start.get("type") != "http.response.start":
        return False
    return _whole(cycle, start["status"], start.get("headers", ()), body.get("body", b""))


# the server's own headers (uvicorn's date and server, made anew once a second) as the head of an answer
# writes them, checked once per list: (the list, its bytes, its content-length, whether an answer after it
# can take the one-write path)
_defaults: tuple[Any, bytes, bytes | None, bool] = (None, b"", None, False)


def _server_headers(headers: list[tuple[bytes, bytes]]) -> tuple[Any, bytes, bytes | None, bool]:
    global _defaults
    if _defaults[0] is headers:
        return _defaults
    parts: list[bytes] = []
    length = None
    fit = True
    for name, value in headers:
        if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
            fit = False  # uvicorn's send refuses it (500)
        name = name.lower()
        if name == b"content-length" and length is None:
            length = value
        elif name in (b"transfer-encoding", b"connection"):
            fit = False
        parts += (name, b": ", value, b"\r\n")
    _defaults = (headers, b"".join(parts), length, fit)
    return _defaults


def _whole(cycle: Any, status: int, headers: Sequence[tuple[bytes, bytes]], data: bytes) -> bool:
    """:func:`_answer_at_once` of an answer's parts."""
    if cycle.response_started or cycle.disconnected or cycle.flow.write_paused or cycle.access_log:
        return False
    if cycle.transport.is_closing() or cycle.scope["method"] == "HEAD":
        return False
    if not 200 <= status < 600:
        return False
    _, server, length, fit = _server_headers(cycle.default_headers)
    if not fit:
        return False
    content = [STATUS_LINE[status], server]
    for name, value in headers:
        if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
            return False  # uvicorn's send refuses it (500)
        name = name.lower()
        if name == b"content-length" and length is None:
            length = value
        elif name in (b"transfer-encoding", b"connection"):
            return False
        content += (name, b": ", value, b"\r\n")
    if status in (204, 304):  # no content-length and no body: uvicorn writes the head alone
        if length is not None or data:
            return False
    elif length is None or not length.isdigit() or int(length) != len(data):
        return False
    if not cycle.keep_alive:
        content.append(b"connection: close\r\n")
    content += (b"\r\n", data)
    cycle.response_started = cycle.response_complete = True
    cycle.waiting_for_100_continue = False
    cycle.expected_content_length = 0
    cycle.chunked_encoding = False
    cycle.transport.write(b"".join(content))
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
    return True


async def _corked(cycle: Any, send: Callable[[Any], Any], start: Any, body: Any) -> None:
    """Send the answer's head and the first part of its body in one write to the socket: one system call
    and one TCP segment where uvicorn makes two (a sixth of a node's CPU per message went to these)."""
    transport = cycle.transport
    corked = _Corked(transport)
    cycle.transport = corked
    try:
        await send(start)
        await send(body)
    finally:
        if cycle.transport is corked:
            cycle.transport = transport
        corked.uncork()


class _Corked:
    """The connection while an answer's head and first body part are sent: writes are joined, then written
    once (also before the connection closes)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._parts.append(data)

    def uncork(self) -> None:
        if self._parts:
            data = b"".join(self._parts)
            self._parts = []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.uncork()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Lingering:
    """The connection as the request cycle sees it after an early answer: ``close`` starts the linger."""

    def __init__(self, transport: asyncio.Transport, linger: Callable[[], None]) -> None:
        self._transport = transport
        self._linger = linger

    def close(self) -> None:
        self._linger()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def guarded_protocol(limits: SlowClientLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class for uvicorn's ``http=`` with these deadlines."""
    return type("GuardedHttpTools", (GuardedHttpToolsProtocol,), {"limits": limits})
