"""HTTP mailbox reading over AMQP: lease a batch with basic.get, ack each, return what is not acked in time.

A lease batch holds its messages unacked on a channel of its own. ``ack`` acks one of them; when the lease
time ends, what is left is nacked with requeue, so it goes back to the mailbox (the quorum queue counts the
return towards its delivery limit, and past that limit dead-letters the message). The state lives in the
broker: if this process dies, its channels close and the broker requeues every unacked message.

A lease id is only known to the process that handed it out: a node running several processes behind one
HTTP address needs sticky routing for ``ack``, else the ack finds no lease and the message comes back.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from adapters.rabbitmq.properties import delivery_count, gateway_headers
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.topology import mailbox_queue
from gateway.errors import NodeRole, Unavailable
from gateway.ports import Leased

log = structlog.get_logger("adapters.rabbitmq")

_GET_TIMEOUT = 5.0


class MailboxMissing(LookupError):
    """The participant has no mailbox queue on this node (not provisioned)."""


@dataclass(eq=False, slots=True)
class _Batch:
    node: NodeRole
    code: str
    channel: AbstractChannel
    messages: dict[str, AbstractIncomingMessage] = field(default_factory=dict)
    expiry: asyncio.Task[None] | None = None


class RabbitMailboxReader:
    """:class:`gateway.ports.MailboxReader` on the nodes' mailbox queues."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._leases: dict[str, _Batch] = {}
        self._batches: set[_Batch] = set()

    def __repr__(self) -> str:
        return f"RabbitMailboxReader(leases={len(self._leases)}, batches={len(self._batches)})"

    async def lease(self, node: NodeRole, code: str, max_messages: int, lease_seconds: int) -> list[Leased]:
        """Up to ``max_messages`` messages from ``code``'s mailbox, each held for ``lease_seconds``."""
        queue_name = mailbox_queue(code)
        channel = await self._sessions[node].channel()
        batch = _Batch(node, code, channel)
        leased: list[Leased] = []
        try:
            queue = await channel.get_queue(queue_name, ensure=False)
            for _ in range(max_messages):
                message = await queue.get(no_ack=False, fail=False, timeout=_GET_TIMEOUT)
                if message is None:
                    break
                lease_id = uuid.uuid4().hex
                batch.messages[lease_id] = message
                leased.append(_leased(lease_id, message))
        except aiormq.exceptions.ChannelNotFoundEntity as exc:
            await _close(channel)
            raise MailboxMissing(queue_name) from exc
        except (TimeoutError, aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as exc:
            await _close(channel)  # the broker requeues whatever this batch got
            raise Unavailable("mailbox could not be read") from exc
        if not batch.messages:
            await _close(channel)
            return []
        for lease_id in batch.messages:
            self._leases[lease_id] = batch
        self._batches.add(batch)
        batch.expiry = asyncio.create_task(self._expire(batch, lease_seconds), name=f"lease-expiry-{code}")
        return leased

    async def ack(self, node: NodeRole, code: str, lease_id: str) -> str | None:
        """The acked message's tracking id if the lease was still held by ``code`` on ``node``, else None."""
        batch = self._leases.get(lease_id)
        if batch is None or batch.node != node or batch.code != code:
            return None
        del self._leases[lease_id]
        message = batch.messages.pop(lease_id)
        try:
            await message.ack()
        except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, OSError):
            return None  # the channel is gone: the broker has requeued the message
        finally:
            if not batch.messages:
                await self._retire(batch)
        return message.message_id or ""

    async def close(self) -> None:
        """Return every held message to its mailbox now."""
        for batch in list(self._batches):
            await self._release(batch)

    async def _expire(self, batch: _Batch, lease_seconds: float) -> None:
        await asyncio.sleep(lease_seconds)
        returned = await self._release(batch, from_expiry=True)
        if returned:
            log.info("mailbox.lease_expired", node=batch.node, code=batch.code, returned=returned)

    async def _release(self, batch: _Batch, *, from_expiry: bool = False) -> int:
        """Nack with requeue what the batch still holds and close its channel; returns how many."""
        held = list(batch.messages.items())
        batch.messages.clear()
        for lease_id, _ in held:
            self._leases.pop(lease_id, None)
        for _, message in held:
            try:
                await message.nack(requeue=True)
            except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, OSError):
                break  # channel gone: the broker requeues the rest itself
        await self._retire(batch, from_expiry=from_expiry)
        return len(held)

    async def _retire(self, batch: _Batch, *, from_expiry: bool = False) -> None:
        self._batches.discard(batch)
        if batch.expiry is not None and not from_expiry:
            batch.expiry.cancel()
        await _close(batch.channel)


def _leased(lease_id: str, message: AbstractIncomingMessage) -> Leased:
    return Leased(
        lease_id=lease_id,
        tracking_id=message.message_id or "",
        conversation_id=message.correlation_id or "",
        headers=gateway_headers(message.headers),
        body=bytes(message.body),
        redelivered=bool(message.redelivered) or delivery_count(message) > 0,
    )


async def _close(channel: AbstractChannel) -> None:
    try:
        if not channel.is_closed:
            await channel.close()
    except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, OSError):
        pass
