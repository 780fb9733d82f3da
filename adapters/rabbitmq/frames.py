"""A confirmed publish written as frame bytes directly, the publishes of one loop turn in one write.

aiormq's ``basic_publish`` builds a method, a content header and body frame objects per publish and
marshals them through pamqp's generic encoder, takes the channel's lock, enters a timeout and an async
context manager and hands each publish to the connection's writer task as an item of its own (one socket
send each). :class:`Outbox` writes the same frames' bytes itself (:func:`publish_frames`, tested against
aiormq's) and registers the confirmation as aiormq does (the channel's ``confirmations`` and
``message_id_delivery_tag``, a future of the channel's own store, so that a closing channel fails it); the
bytes of every publish made before the writer task runs go to it as one item: one send. That item
(:class:`Gathering`) is put into the writer's queue by the first publish, at once, and joins its parts only
when the writer takes it (the writer is woken for the next turn of the event loop, after every task woken
in this turn has run): no turn of the loop of its own before the write (a lone message's publish used to
wait one turn for a flush callback, then one for the writer).

Order: the broker numbers a channel's publishes in the order their frames arrive, so delivery tags are
taken in the order the bytes are appended and nothing else may put a publish of that channel into the
writer's queue in between: the channels an :class:`Outbox` publishes on are its session's own (nothing else
publishes on them; they are handed out opened, with confirms selected, and make no RPC after). When the writer is behind (its queue full: the broker
blocked the connection, or the socket is slow) the bytes wait here, up to :data:`MOST_HELD` publishes; beyond
that a publish is refused at once (:class:`Behind`) instead of holding more; as many at most wait in a
:class:`Gathering` the writer has not taken (a writer that stopped while its channels are not closed yet).
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import Callable

import aiormq
from aiormq.abc import ChannelFrame

_FRAME_END = b"\xce"
_METHOD_HEAD = struct.Struct(">BHI").pack  # frame type 1, channel, payload size
_PUBLISH = struct.Struct(">HHH").pack(60, 40, 0)  # Basic.Publish, ticket 0
_HEADER = struct.Struct(">BHIHHQ").pack  # frame type 2, channel, size; class 60, weight 0, body size
_BODY_HEAD = struct.Struct(">BHI").pack  # frame type 3, channel, size


def _short(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 255:
        raise ValueError("AMQP short string exceeds 255 bytes")
    return bytes((len(data),)) + data


def publish_frames(
    channel: int,
    exchange: str,
    routing_key: str,
    mandatory: bool,
    properties: bytes,
    body: bytes,
    max_content: int,
) -> bytes:
    """The bytes aiormq writes for ``basic_publish``: the Basic.Publish method frame, the content header
    (``properties`` already encoded) and the body in frames of at most ``max_content`` bytes (none when
    empty; one when shorter than ``max_content``, as aiormq splits)."""
    method = _PUBLISH + _short(exchange) + _short(routing_key) + (b"\x01" if mandatory else b"\x00")
    parts = [_METHOD_HEAD(1, channel, len(method)), method, _FRAME_END]
    parts += (_HEADER(2, channel, 12 + len(properties), 60, 0, len(body)), properties, _FRAME_END)
    if body:
        if len(body) < max_content:
            parts += (_BODY_HEAD(3, channel, len(body)), body, _FRAME_END)
        else:
            for start in range(0, len(body), max_content):
                chunk = body[start : start + max_content]
                parts += (_BODY_HEAD(3, channel, len(chunk)), chunk, _FRAME_END)
    return b"".join(parts)


MOST_HELD = 1024  # publishes held while the writer's queue is full; more are refused (Behind)


class Behind(Exception):
    """The connection's writer has not taken the publishes held for it: too many wait already."""


class Gathering(ChannelFrame):
    """An item of the connection writer's queue whose bytes are the publishes appended to it until the
    writer takes it (reads its ``payload``, once): put in the queue by the first of them."""

    should_close = False  # the frozen dataclass's fields, as class attributes (drain_future: None)

    def __init__(self) -> None:  # not the dataclass's: the payload is made when it is read
        self.parts: list[bytes] = []
        self.taken = False

    def __repr__(self) -> str:
        return f"Gathering(parts={len(self.parts)}, taken={self.taken})"

    @property
    def payload(self) -> bytes:
        self.taken = True
        parts, self.parts = self.parts, []
        return b"".join(parts)


class Outbox:
    """The publishes of one AMQP session not yet handed to its connection's writer (see the module)."""

    def __init__(self, confirm_within: float, expired: Callable[[], BaseException]) -> None:
        self._within = confirm_within
        self._expired = expired
        self._parts: list[bytes] = []  # held while the writer's queue is full
        self._queue: asyncio.Queue[ChannelFrame] | None = None
        self._open: Gathering | None = None  # in the writer's queue, not yet taken
        self._flushing: asyncio.Handle | None = None

    def __repr__(self) -> str:
        return f"Outbox(held={len(self._parts)})"

    async def publish(
        self,
        channel: aiormq.Channel,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: aiormq.spec.Basic.Properties,
    ) -> None:
        """Publish mandatory on ``channel`` (confirming) and return once the broker confirmed: a nack, a
        return and a closing channel raise as with aiormq's publish, no confirm within ``confirm_within``
        seconds raises ``expired()``, too many publishes waiting for the writer :class:`Behind`."""
        if channel.is_closed:
            raise aiormq.exceptions.ChannelInvalidStateError("the channel is closed")
        queue: asyncio.Queue[ChannelFrame] = channel.write_queue
        held = max(len(self._parts) if queue.full() else 0, self._waiting())
        if held >= MOST_HELD:
            raise Behind(f"{held} publishes wait for the connection's writer")
        if not properties.message_id:  # a returned message is matched to its publish by it (as aiormq)
            properties.message_id = uuid.uuid4().hex
        message_id = properties.message_id
        data = publish_frames(
            channel.number, exchange, routing_key, True, properties.marshal(), body, channel.max_content_size
        )
        channel.delivery_tag += 1
        tag = channel.delivery_tag
        confirmation = channel.create_future()
        channel.confirmations[tag] = confirmation
        channel.message_id_delivery_tag[message_id] = tag
        self._hold(queue, data)
        timer = asyncio.get_running_loop().call_later(self._within, confirmation.cancel)
        try:
            await confirmation
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this task was cancelled: not the confirm's time running out
            raise self._expired() from None
        finally:
            timer.cancel()
            if channel.message_id_delivery_tag.get(message_id) == tag:
                del channel.message_id_delivery_tag[message_id]

    def _waiting(self) -> int:
        """The publishes in the writer's queue that it has not taken (a writer that stopped taking them
        while its channels are not closed yet: they are bounded as the ones held here)."""
        gathering = self._open
        return 0 if gathering is None or gathering.taken else len(gathering.parts)

    def _hold(self, queue: asyncio.Queue[ChannelFrame], data: bytes) -> None:
        if self._queue is not queue:  # another connection (restored): what the old one held goes out first
            self._flush()
            self._parts = []  # the old writer is gone: its publishes' confirmations fail with its channels
            self._open = None
            self._queue = queue
        gathering = self._open
        if gathering is not None and not gathering.taken:  # the writer has not run since: one send
            gathering.parts.append(data)
            return
        if not self._parts and not queue.full():
            gathering = self._open = Gathering()
            gathering.parts.append(data)
            queue.put_nowait(gathering)
            return
        self._open = None  # the writer is behind: held here, after what is held already
        self._parts.append(data)
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        if self._flushing is not None:
            self._flushing.cancel()
            self._flushing = None
        queue, parts = self._queue, self._parts
        if not parts or queue is None:
            return
        if queue.full():  # the writer is behind (it empties its queue whenever it runs): try again soon
            self._flushing = asyncio.get_running_loop().call_later(0.001, self._flush)
            return
        self._parts = []
        queue.put_nowait(ChannelFrame(payload=b"".join(parts), should_close=False))
