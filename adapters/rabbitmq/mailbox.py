"""HTTP mailbox reading over AMQP: lease a batch with basic.get, ack each, return what is not acked in time.

A lease batch holds its messages unacked on a channel of its own. ``ack`` acks one of them; when the lease
time ends, what is left is nacked with requeue, so it goes back to the mailbox (the quorum queue counts the
return towards its delivery limit, and past that limit dead-letters the message). The state lives in the
broker: if this process dies, its channels close and the broker requeues every unacked message.

A lease id is only known to the process that handed it out: a node running several processes behind one
HTTP address needs sticky routing for ``ack``, else the ack finds no lease and the message comes back.

Each held batch holds a channel of the node's one connection (RabbitMQ allows 2047 by default), so the
batches held at once are capped per party (:data:`LEASES_PER_PARTY`) and per node
(:data:`LEASES_PER_NODE`): one more gets :class:`TooManyLeases` (429 with Retry-After) until a batch is
acked or expires, and no party can take the channels every other party's leases need.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass, field

import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from adapters.rabbitmq.properties import delivery_count, gateway_headers
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.topology import mailbox_queue
from gateway.errors import Busy, NodeRole, Unavailable
from gateway.ports import Leased

log = structlog.get_logger("adapters.rabbitmq")

_GET_TIMEOUT = 5.0
LEASES_PER_PARTY = 16  # lease batches one party may hold at once on a node (each holds a channel)
LEASES_PER_NODE = (
    1000  # lease batches of all parties on one node and process (the broker allows 2047 channels)
)


class MailboxMissing(LookupError):
    """The participant has no mailbox queue on this node (not provisioned)."""


class TooManyLeases(Busy):
    """The party (or the node) holds as many lease batches as allowed; ``retry_after``: when one ends."""

    reason = "too-many-leases"
    title = "Too many mailbox leases held at once; ack or let one expire, retry after the Retry-After seconds"


@dataclass(eq=False, slots=True)
class _Batch:
    node: NodeRole
    code: str
    channel: AbstractChannel | None = None
    ends: float = 0.0  # loop time at which the lease runs out
    messages: dict[str, AbstractIncomingMessage] = field(default_factory=dict)
    expiry: asyncio.Task[None] | None = None


class RabbitMailboxReader:
    """:class:`gateway.ports.MailboxReader` on the nodes' mailbox queues."""

    def __init__(
        self, sessions: Sessions, *, per_party: int = LEASES_PER_PARTY, per_node: int = LEASES_PER_NODE
    ) -> None:
        self._sessions = sessions
        self._leases: dict[str, _Batch] = {}
        self._batches: set[_Batch] = set()  # every batch holding (or opening) a channel
        self.per_party = per_party
        self.per_node = per_node

    def __repr__(self) -> str:
        return f"RabbitMailboxReader(leases={len(self._leases)}, batches={len(self._batches)})"

    async def lease(self, node: NodeRole, code: str, max_messages: int, lease_seconds: int) -> list[Leased]:
        """Up to ``max_messages`` messages from ``code``'s mailbox, each held for ``lease_seconds``."""
        queue_name = mailbox_queue(code)
        batch = self._reserve(node, code, lease_seconds)
        try:
            channel = batch.channel = await self._sessions[node].channel()
        except BaseException:
            self._batches.discard(batch)
            raise
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
            await self._retire(batch)
            raise MailboxMissing(queue_name) from exc
        except (TimeoutError, aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as exc:
            await self._retire(batch)  # the broker requeues whatever this batch got
            raise Unavailable("mailbox could not be read") from exc
        except BaseException:
            await self._retire(batch)
            raise
        if not batch.messages:
            await self._retire(batch)
            return []
        for lease_id in batch.messages:
            self._leases[lease_id] = batch
        batch.expiry = asyncio.create_task(self._expire(batch, lease_seconds), name=f"lease-expiry-{code}")
        return leased

    def _reserve(self, node: NodeRole, code: str, lease_seconds: float) -> _Batch:
        """A new batch counted against the caps before its channel is opened; TooManyLeases when full."""
        on_node = [b for b in self._batches if b.node == node]
        own = [b for b in on_node if b.code == code]
        full = own if len(own) >= self.per_party else on_node if len(on_node) >= self.per_node else None
        if full is not None:
            now = asyncio.get_running_loop().time()
            wait = max(1, math.ceil(min(b.ends for b in full) - now))
            who = f"party {code}" if full is own else "this node"
            raise TooManyLeases(f"{who} holds {len(full)} mailbox leases, the most allowed at once", wait)
        batch = _Batch(node, code, ends=asyncio.get_running_loop().time() + lease_seconds)
        self._batches.add(batch)
        return batch

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
        if batch.channel is not None:
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
