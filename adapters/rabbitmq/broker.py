"""The broker as the gateway sees it: one object to start at start-up and close at shut-down.

:class:`RabbitBroker` is the real one; :class:`adapters.rabbitmq.testing.FakeBroker` behaves the same in
memory. Both satisfy :class:`Broker`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Protocol

from adapters.rabbitmq.declare import declare_mailboxes, declare_topology, provision_mailbox
from adapters.rabbitmq.link import LinkCallback, LinkConsumer, accept_all, ignore_delivered
from adapters.rabbitmq.mailbox import MailboxMissing, RabbitMailboxReader
from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.publisher import RabbitPublisher, link_seal, one_cluster
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import DLQ, mailbox_queue, shovel_name
from gateway.errors import NodeRole
from gateway.ports import NODES, MailboxReader, Publisher


class Broker(Protocol):
    """What the gateway's wiring uses of a broker."""

    @property
    def settings(self) -> BrokerSettings: ...

    @property
    def publisher(self) -> Publisher: ...

    @property
    def reader(self) -> MailboxReader: ...

    async def start(self, mailboxes: Mapping[NodeRole, Iterable[str]] | None = None) -> None: ...

    async def close(self) -> None: ...

    async def ensure_mailboxes(self, node: NodeRole, codes: Iterable[str]) -> None: ...

    async def provision_mailbox(self, node: NodeRole, code: str, *, rotate: bool = False) -> str | None: ...

    async def dlq_depth(self, node: NodeRole) -> int: ...

    async def mailbox_depth(self, node: NodeRole, code: str) -> int: ...

    def vhost(self, node: NodeRole) -> str:
        """The virtual host that serves ``node`` (where its mailboxes are)."""
        ...

    async def reachable(self, node: NodeRole) -> None:
        """Raise :class:`gateway.errors.Unavailable` while ``node``'s broker connection is down."""
        ...


class RabbitBroker:
    """Declares the topology, publishes, runs the link consumers of ``nodes`` and serves mailbox leases.

    ``on_link_message`` is called for every message that crossed the link into one of ``nodes``, before it
    is delivered to the mailbox: raise a Rejection to dead-letter it, anything else to retry it later;
    return False for a redelivery of one already in its mailbox (acked, not published again).
    ``on_delivered`` is called once the message is confirmed in the mailbox, before its ack (for track &
    trace, and to know a redelivery).
    """

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        nodes: Iterable[NodeRole] = NODES,
        on_link_message: LinkCallback = accept_all,
        on_delivered: LinkCallback = ignore_delivered,
    ) -> None:
        self.settings = settings
        self.nodes = tuple(nodes)
        self.sessions = Sessions(settings)
        self.api = ManagementApi(settings)
        self.publisher = RabbitPublisher(
            self.sessions,
            link_seal(settings),
            direct=one_cluster(settings),
            into_mailbox=settings.link_into_mailbox,
        )
        self.reader = RabbitMailboxReader(self.sessions)
        self._links = [
            LinkConsumer(self.sessions, settings, node, on_link_message, on_delivered=on_delivered)
            for node in self.nodes
        ]

    def __repr__(self) -> str:
        return f"RabbitBroker(nodes={self.nodes!r}, vhost_prefix={self.settings.vhost_prefix!r})"

    async def __aenter__(self) -> RabbitBroker:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self, mailboxes: Mapping[NodeRole, Iterable[str]] | None = None) -> None:
        """Declare the topology (idempotent) with these mailboxes, then start the link consumers.

        Raises :class:`gateway.errors.Unavailable` when the broker cannot be reached.
        """
        await declare_topology(self.settings, self.api, self.sessions, mailboxes)
        for link in self._links:
            await link.start()

    async def close(self) -> None:
        """Stop the link consumers, return held mailbox leases, close connections."""
        for link in self._links:
            await link.stop()
        await self.reader.close()
        await self.sessions.close()
        await self.api.aclose()

    async def ensure_mailboxes(self, node: NodeRole, codes: Iterable[str]) -> None:
        await declare_mailboxes(self.settings, self.sessions, node, codes)

    async def provision_mailbox(self, node: NodeRole, code: str, *, rotate: bool = False) -> str | None:
        """Mailbox plus the participant's own read-only broker user; the password is returned once."""
        return await provision_mailbox(self.settings, self.api, self.sessions, node, code, rotate=rotate)

    def vhost(self, node: NodeRole) -> str:
        return self.settings.vhost(node)

    async def reachable(self, node: NodeRole) -> None:
        await self.sessions[node].connection()  # Unavailable while the connection is down or restoring

    async def dlq_depth(self, node: NodeRole) -> int:
        """Messages in ``node``'s dead-letter queue (management statistics: a few seconds behind)."""
        return await self.api.queue_depth(self.settings.vhost(node), DLQ) or 0

    async def mailbox_depth(self, node: NodeRole, code: str) -> int:
        """Ready plus leased messages in ``code``'s mailbox (management statistics: a few seconds behind)."""
        depth = await self.api.queue_depth(self.settings.vhost(node), mailbox_queue(code))
        if depth is None:
            raise MailboxMissing(mailbox_queue(code))
        return depth

    async def link_states(self) -> dict[str, str]:
        """Shovel name -> state for both directions of the node link."""
        states: dict[str, str] = {}
        for node in NODES:
            found = await self.api.shovel_states(self.settings.vhost(node))
            states[shovel_name(node)] = found.get(shovel_name(node), "absent")
        return states
