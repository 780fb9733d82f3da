"""Ack, dead-letter or requeue: decided in one place for every message the gateway consumes.

Success acks. A :class:`gateway.errors.Rejection` (refused for good) rejects without requeue, so the queue
dead-letters it to ``dlx`` -> ``dlq``. Anything else is transient: after ``retry_delay`` the message is
nacked with requeue; the quorum queue counts the return, and past its delivery limit dead-letters it too.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import aiormq
import structlog
from aio_pika.abc import AbstractIncomingMessage

from gateway.errors import Rejection

log = structlog.get_logger("adapters.rabbitmq")

Outcome = Literal["pending", "acked", "rejected", "requeued"]


@dataclass(slots=True)
class Settlement:
    """How a message was settled; ``reason`` is an error slug or class name, never message content."""

    outcome: Outcome = "pending"
    reason: str | None = None
    settled: bool = True


@asynccontextmanager
async def settle(
    message: AbstractIncomingMessage, *, retry_delay: float = 0.0, acks: BatchAcks | None = None
) -> AsyncIterator[Settlement]:
    """Run the block, then ack, reject (dead-letter) or requeue ``message``. Errors do not propagate.

    If the channel is gone before the settlement reaches the broker, ``settled`` is False: the broker
    requeues the message itself, so it will be offered again. With ``acks`` (the consumer's, which
    :meth:`BatchAcks.hold` the message on arrival) the ack goes out together with others.
    """
    result = Settlement()
    try:
        yield result
    except Rejection as exc:
        result.outcome, result.reason = "rejected", exc.reason
        if acks is not None:
            acks.failing(message)
        result.settled = await _send(message.reject(requeue=False))
    except Exception as exc:
        result.outcome, result.reason = "requeued", type(exc).__name__
        if acks is not None:
            acks.failing(message)
        if retry_delay > 0:
            await asyncio.sleep(retry_delay)
        result.settled = await _send(message.nack(requeue=True))
    else:
        result.outcome = "acked"
        result.settled = await _send(message.ack() if acks is None else acks.ack(message))
    finally:
        if acks is not None:
            acks.release(message)


class BatchAcks:
    """One consumer channel's acks, sent in batches: ``basic.ack`` with ``multiple`` for the run of done
    deliveries at the head of the channel's window (RabbitMQ settles a quorum queue's batch as one log
    entry instead of one per message), once per turn of the event loop.

    Every delivery is :meth:`hold` on arrival, in delivery-tag order, and leaves with :meth:`release`. A
    multiple ack never covers a delivery still in hand or about to be rejected or requeued: a done delivery
    behind one of those waits for it, but no longer than ``straggle`` seconds (or not at all behind one
    that is :meth:`failing`), and is then acked alone. After a reconnect the tags start again on a new
    channel: what the old one held is the broker's to redeliver, and its acks fail as before.

    The acks go out one after the other, in the order they were decided (:meth:`_write`). A multiple ack
    that overtook an earlier lone ack of a tag below it would settle that tag first, and the lone ack then
    names a tag the broker no longer knows: it closes the channel (``PRECONDITION_FAILED``) and requeues
    every delivery of it, including those already in their mailbox. aiormq does not keep the order of
    frames written from different tasks when its frame buffer is full (a waiting writer can be passed).
    """

    def __init__(self, straggle: float = 0.05) -> None:
        self._straggle = straggle
        self._channel: object | None = None
        # delivery tag -> None while in hand, "failing", or the future of a done delivery's ack
        self._open: dict[int, asyncio.Future[None] | str | None] = {}
        self._flush_due = False
        self._stragglers: asyncio.TimerHandle | None = None
        self._outbox: deque[tuple[object, int, bool, list[asyncio.Future[None]]]] = deque()
        self._writer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"BatchAcks(open={len(self._open)}, queued={self.queued})"

    @property
    def queued(self) -> int:
        """Acks decided and not yet written (the one being written included)."""
        return len(self._outbox)

    def hold(self, message: AbstractIncomingMessage) -> None:
        tag = message.delivery_tag
        try:
            channel = message.channel
        except aiormq.exceptions.ChannelInvalidStateError:
            return
        if tag is None:
            return
        if channel is not self._channel:
            self._channel = channel
            self._abandon()
        self._open[tag] = None

    def failing(self, message: AbstractIncomingMessage) -> None:
        """The delivery will be rejected or requeued (alone): done ones behind it need not wait."""
        if self._held(message):
            self._open[message.delivery_tag] = "failing"  # type: ignore[index]
            self._due()

    def release(self, message: AbstractIncomingMessage) -> None:
        """The delivery's settlement is sent. One still in hand (its handling was cancelled) stays: no
        multiple ack may cover it, and the broker requeues it when the channel closes."""
        if self._held(message) and self._open.get(message.delivery_tag) == "failing":  # type: ignore[arg-type]
            del self._open[message.delivery_tag]  # type: ignore[arg-type]
            self._due()

    async def ack(self, message: AbstractIncomingMessage) -> None:
        """Ack ``message`` with the next batch; raises as :meth:`AbstractIncomingMessage.ack` would."""
        if not self._held(message):
            await message.ack()
            return
        done = asyncio.get_running_loop().create_future()
        self._open[message.delivery_tag] = done  # type: ignore[index]
        self._due()
        await done

    def _held(self, message: AbstractIncomingMessage) -> bool:
        try:
            channel = message.channel
        except aiormq.exceptions.ChannelInvalidStateError:
            return False
        return channel is self._channel and message.delivery_tag in self._open

    def _due(self) -> None:
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        channel = self._channel
        head: list[asyncio.Future[None]] = []
        top = None
        for tag, state in self._open.items():  # in delivery-tag order
            if not isinstance(state, asyncio.Future):
                break
            top = tag
            head.append(state)
        if top is not None:
            for _ in head:
                del self._open[next(iter(self._open))]
            self._send(channel, top, True, head)
        behind_failing = waiting = False
        for tag, state in list(self._open.items()):
            if state == "failing":
                behind_failing = True
            elif isinstance(state, asyncio.Future):
                if behind_failing:
                    del self._open[tag]
                    self._send(channel, tag, False, [state])
                else:
                    waiting = True
        if waiting and self._stragglers is None:
            self._stragglers = asyncio.get_running_loop().call_later(self._straggle, self._straggling)

    def _straggling(self) -> None:
        """Done deliveries still behind one in hand: ack them alone."""
        self._stragglers = None
        channel = self._channel
        for tag, state in list(self._open.items()):
            if isinstance(state, asyncio.Future):
                del self._open[tag]
                self._send(channel, tag, False, [state])
        self._due()

    def _send(self, channel: object, tag: int, multiple: bool, waiting: list[asyncio.Future[None]]) -> None:
        self._outbox.append((channel, tag, multiple, waiting))
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        """Send the queued acks one at a time: the next only once the last is written (class docstring)."""
        try:
            while self._outbox:
                channel, tag, multiple, waiting = self._fold()
                error: BaseException | None = None
                try:
                    await channel.basic_ack(delivery_tag=tag, multiple=multiple)  # type: ignore[attr-defined]
                except Exception as exc:  # the channel is gone: the broker redelivers what it held
                    error = exc
                self._outbox.popleft()
                for future in waiting:
                    if not future.done():
                        if error is None:
                            future.set_result(None)
                        else:
                            future.set_exception(error)
        finally:
            self._writer = None
            for _, _, _, waiting in self._outbox:  # cancelled (the loop is closing)
                for future in waiting:
                    future.cancel()
            self._outbox.clear()

    def _fold(self) -> tuple[object, int, bool, list[asyncio.Future[None]]]:
        """The next ack to send. A multiple ack queued behind others of its channel settles every one of
        them up to its tag (each was decided before it, so was done), and goes first in their place: one
        frame instead of several when the acks queue up behind a slow write."""
        outbox = self._outbox
        channel = outbox[0][0]
        covering = next((item for item in reversed(outbox) if item[2] and item[0] is channel), None)
        if covering is None or covering is outbox[0]:
            return outbox[0]
        top, waiting = covering[1], covering[3]
        rest: deque[tuple[object, int, bool, list[asyncio.Future[None]]]] = deque([covering])
        for item in outbox:
            if item is covering:
                continue
            if item[0] is channel and item[1] <= top:
                waiting.extend(item[3])
            else:
                rest.append(item)
        self._outbox = rest
        return covering

    def _abandon(self) -> None:
        """The channel changed: whatever waited on the old one fails as an ack on a closed channel would."""
        for state in self._open.values():
            if isinstance(state, asyncio.Future) and not state.done():
                state.set_exception(aiormq.exceptions.ChannelInvalidStateError("channel changed"))
        self._open.clear()


async def _send(settling: Awaitable[None]) -> bool:
    try:
        await settling
    except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, OSError) as exc:
        log.warning("settle.lost", error=type(exc).__name__)
        return False
    return True
