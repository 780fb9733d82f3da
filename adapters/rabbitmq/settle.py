"""Ack, dead-letter or requeue: decided in one place for every message the gateway consumes.

Success acks. A :class:`gateway.errors.Rejection` (refused for good) rejects without requeue, so the queue
dead-letters it to ``dlx`` -> ``dlq``. Anything else is transient: after ``retry_delay`` the message is
nacked with requeue; the quorum queue counts the return, and past its delivery limit dead-letters it too.
"""

from __future__ import annotations

import asyncio
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
async def settle(message: AbstractIncomingMessage, *, retry_delay: float = 0.0) -> AsyncIterator[Settlement]:
    """Run the block, then ack, reject (dead-letter) or requeue ``message``. Errors do not propagate.

    If the channel is gone before the settlement reaches the broker, ``settled`` is False: the broker
    requeues the message itself, so it will be offered again.
    """
    result = Settlement()
    try:
        yield result
    except Rejection as exc:
        result.outcome, result.reason = "rejected", exc.reason
        result.settled = await _send(message.reject(requeue=False))
    except Exception as exc:
        result.outcome, result.reason = "requeued", type(exc).__name__
        if retry_delay > 0:
            await asyncio.sleep(retry_delay)
        result.settled = await _send(message.nack(requeue=True))
    else:
        result.outcome = "acked"
        result.settled = await _send(message.ack())


async def _send(settling: Awaitable[None]) -> bool:
    try:
        await settling
    except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, OSError) as exc:
        log.warning("settle.lost", error=type(exc).__name__)
        return False
    return True
