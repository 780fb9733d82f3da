"""An in-memory broker that behaves like :class:`adapters.rabbitmq.broker.RabbitBroker`, for tests that are
not about the broker. The same behavioural suite (``tests/broker/test_behaviour.py``) runs against both.

What it keeps of the real thing: a publish to a node without the recipient's mailbox is unroutable
(:class:`Unavailable`); a message for the other node goes through the link callback first (Rejection ->
that node's DLQ, other errors are retried up to the link delivery limit, then DLQ); a lease that ends
unacked returns the message, and the return that goes past the delivery limit dead-letters it. What it
leaves out: concurrency, persistence, AMQP subscribers. ``down = True`` makes every publish Unavailable.
The link is crossed synchronously inside ``publish``, so a test sees the result at once.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from adapters.rabbitmq.link import LinkCallback, accept_all, ignore_delivered
from adapters.rabbitmq.mailbox import MailboxMissing
from adapters.rabbitmq.properties import LinkMessage, MessageProperties
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import mailbox_queue
from gateway.errors import NodeRole, Rejection, Unavailable
from gateway.ports import NODES, Delivery, Leased


@dataclass(eq=False, slots=True)
class StoredMessage:
    """A message held by the fake broker."""

    properties: MessageProperties
    body: bytes = field(repr=False)
    returns: int = 0


@dataclass(eq=False, slots=True)
class _Lease:
    node: NodeRole
    code: str
    message: StoredMessage
    timer: asyncio.TimerHandle


class FakeBroker:
    """In-memory stand-in for :class:`RabbitBroker` (same methods, same refusals)."""

    def __init__(
        self,
        settings: BrokerSettings | None = None,
        *,
        nodes: Iterable[NodeRole] = NODES,
        on_link_message: LinkCallback = accept_all,
        on_delivered: LinkCallback = ignore_delivered,
    ) -> None:
        self.settings = settings or BrokerSettings()
        self.nodes = tuple(nodes)
        self.on_link_message = on_link_message
        self.on_delivered = on_delivered
        self.down = False
        self.published: list[Delivery] = []
        self._mailboxes: dict[tuple[NodeRole, str], deque[StoredMessage]] = {}
        self._dlq: dict[NodeRole, list[StoredMessage]] = {node: [] for node in NODES}
        self._leases: dict[str, _Lease] = {}
        self._users: set[str] = set()
        self.publisher = FakePublisher(self)
        self.reader = FakeMailboxReader(self)

    def __repr__(self) -> str:
        return f"FakeBroker(mailboxes={len(self._mailboxes)}, leases={len(self._leases)}, down={self.down})"

    # --- life -------------------------------------------------------------------------------------------

    async def start(self, mailboxes: Mapping[NodeRole, Iterable[str]] | None = None) -> None:
        for node, codes in (mailboxes or {}).items():
            await self.ensure_mailboxes(node, codes)

    async def close(self) -> None:
        for lease_id in list(self._leases):
            self._return(lease_id)

    async def ensure_mailboxes(self, node: NodeRole, codes: Iterable[str]) -> None:
        for code in codes:
            mailbox_queue(code)  # same validation as the real queue name
            self._mailboxes.setdefault((node, code), deque())

    async def provision_mailbox(self, node: NodeRole, code: str, *, rotate: bool = False) -> str | None:
        await self.ensure_mailboxes(node, [code])
        user = self.settings.participant_user(code)
        if user in self._users and not rotate:
            return None
        self._users.add(user)
        return secrets.token_urlsafe(24)

    def vhost(self, node: NodeRole) -> str:
        return self.settings.vhost(node)

    async def reachable(self, node: NodeRole) -> None:
        if self.down:
            raise Unavailable("the broker is not reachable")

    async def dlq_depth(self, node: NodeRole) -> int:
        return len(self._dlq[node])

    async def mailbox_depth(self, node: NodeRole, code: str) -> int:
        queue = self._mailboxes.get((node, code))
        if queue is None:
            raise MailboxMissing(mailbox_queue(code))
        held = sum(1 for lease in self._leases.values() if (lease.node, lease.code) == (node, code))
        return len(queue) + held

    # --- inspection for tests ---------------------------------------------------------------------------

    def messages(self, node: NodeRole, code: str) -> list[StoredMessage]:
        """What waits (not leased) in ``code``'s mailbox on ``node``."""
        return list(self._mailboxes.get((node, code), ()))

    def dead_letters(self, node: NodeRole) -> list[StoredMessage]:
        return list(self._dlq[node])

    # --- the broker's work ------------------------------------------------------------------------------

    async def _publish(self, delivery: Delivery) -> None:
        if self.down:
            raise Unavailable("broker down")
        stored = StoredMessage(MessageProperties.of_delivery(delivery), delivery.body)
        if delivery.target_node == delivery.origin_node:
            queue = self._mailboxes.get((delivery.origin_node, delivery.recipient))
            if queue is None:
                raise Unavailable("message could not be routed (no queue for it)")
            queue.append(stored)
        else:
            await self._cross_link(delivery.target_node, stored)
        self.published.append(delivery)

    async def _cross_link(self, node: NodeRole, stored: StoredMessage) -> None:
        for attempt in range(self.settings.link_delivery_limit + 1):
            try:
                link = LinkMessage(stored.properties, stored.body, attempt)
                link.check_intact()
                if await self.on_link_message(link) is False:
                    return  # a redelivery of one already in its mailbox
                queue = self._mailboxes.get((node, link.recipient))
                if queue is None:
                    raise Unavailable("message could not be routed (no queue for it)")
            except Rejection:
                break
            except Exception:
                continue
            queue.append(stored)
            await self.on_delivered(link)
            return
        self._dlq[node].append(stored)

    def _lease(self, node: NodeRole, code: str, max_messages: int, lease_seconds: float) -> list[Leased]:
        queue = self._mailboxes.get((node, code))
        if queue is None:
            raise MailboxMissing(mailbox_queue(code))
        loop = asyncio.get_running_loop()
        leased: list[Leased] = []
        while queue and len(leased) < max_messages:
            stored = queue.popleft()
            lease_id = uuid.uuid4().hex
            timer = loop.call_later(lease_seconds, self._return, lease_id)
            self._leases[lease_id] = _Lease(node, code, stored, timer)
            p = stored.properties
            leased.append(
                Leased(
                    lease_id, p.message_id, p.correlation_id, dict(p.headers), stored.body, stored.returns > 0
                )
            )
        return leased

    def _ack(self, node: NodeRole, code: str, lease_id: str) -> str | None:
        lease = self._leases.get(lease_id)
        if lease is None or (lease.node, lease.code) != (node, code):
            return None
        del self._leases[lease_id]
        lease.timer.cancel()
        return lease.message.properties.message_id

    def _return(self, lease_id: str) -> None:
        lease = self._leases.pop(lease_id, None)
        if lease is None:
            return
        lease.timer.cancel()
        lease.message.returns += 1
        if lease.message.returns > self.settings.delivery_limit:
            self._dlq[lease.node].append(lease.message)
        else:
            self._mailboxes[(lease.node, lease.code)].appendleft(lease.message)


class FakePublisher:
    """:class:`gateway.ports.Publisher` into a :class:`FakeBroker`."""

    def __init__(self, broker: FakeBroker) -> None:
        self._broker = broker

    def __repr__(self) -> str:
        return "FakePublisher()"

    async def publish(self, delivery: Delivery) -> None:
        await self._broker._publish(delivery)


class FakeMailboxReader:
    """:class:`gateway.ports.MailboxReader` on a :class:`FakeBroker`."""

    def __init__(self, broker: FakeBroker) -> None:
        self._broker = broker

    def __repr__(self) -> str:
        return "FakeMailboxReader()"

    async def lease(self, node: NodeRole, code: str, max_messages: int, lease_seconds: int) -> list[Leased]:
        return self._broker._lease(node, code, max_messages, lease_seconds)

    async def ack(self, node: NodeRole, code: str, lease_id: str) -> str | None:
        return self._broker._ack(node, code, lease_id)
