"""The receiving end of the node link: what the other node's shovel brought, checked again, into a mailbox.

For node N it consumes ``link.from-{other}`` on N's vhost. A message whose ids or sha256 header do not match
is refused at once. Each other message goes to the injected callback (the
ingest core re-validates the bytes and records tracking), is then published to N's ``mailbox`` exchange
with a confirm, recorded as delivered (``on_delivered``) and only then acked. Refused for good (the
callback raises a Rejection) -> dead-lettered; anything else -> requeued after a short delay (see
:mod:`adapters.rabbitmq.settle`).

A message can come back after it reached its mailbox: the link's channel or connection broke before its ack
went out, and the broker redelivers what it had not seen acked. The callback answers False for such a
redelivery (the delivery was recorded before the ack was sent), and the link acks it without publishing it
again. The publish and its record are shielded from the cancellation a broken channel brings, so a message
that reached its mailbox is recorded as such.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from adapters.rabbitmq.properties import LinkMessage
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.settle import BatchAcks, settle
from adapters.rabbitmq.topology import MAILBOX, link_from
from gateway.errors import NodeRole
from gateway.pipeline.seal import SEAL_HEADER

log = structlog.get_logger("adapters.rabbitmq")

# returns False when the message is a redelivery of one already in its mailbox (acked, not published again)
LinkCallback = Callable[[LinkMessage], Awaitable[bool | None]]


async def accept_all(message: LinkMessage) -> None:
    """A link callback that checks nothing (tests of the broker alone)."""


async def ignore_delivered(message: LinkMessage) -> None:
    """An after-delivery callback that records nothing."""


class LinkConsumer:
    """Consumes one node's incoming link queue until :meth:`stop`."""

    def __init__(
        self,
        sessions: Sessions,
        settings: BrokerSettings,
        node: NodeRole,
        on_link_message: LinkCallback,
        *,
        on_delivered: LinkCallback = ignore_delivered,
        stop_timeout: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self.node = node
        self._callback = on_link_message
        self._delivered = on_delivered
        self._stop_timeout = stop_timeout
        self._channel: AbstractChannel | None = None
        self._tag: str | None = None
        self._busy = 0
        self._acks = BatchAcks()
        self._idle = asyncio.Event()
        self._idle.set()

    def __repr__(self) -> str:
        return f"LinkConsumer(node={self.node!r}, running={self._tag is not None}, busy={self._busy})"

    async def start(self) -> None:
        """Start consuming; :class:`Unavailable` when the broker cannot be reached."""
        if self._tag is not None:
            return
        session = self._sessions[self.node]
        channel = await session.channel(prefetch=self._settings.link_prefetch)
        try:
            queue = await channel.get_queue(link_from(self.node), ensure=True)
            self._tag = await queue.consume(self._on_message)
        except Exception:
            await channel.close()
            raise
        self._channel = channel
        log.info("link.consuming", node=self.node, queue=link_from(self.node))

    async def stop(self) -> None:
        """Stop taking messages, let those in hand finish (bounded), then close the channel.

        Whatever is still unacked when the channel closes goes back to the queue.
        """
        channel, tag = self._channel, self._tag
        self._channel, self._tag = None, None
        if channel is None:
            return
        try:
            if tag is not None and not channel.is_closed:
                queue = await channel.get_queue(link_from(self.node), ensure=False)
                await queue.cancel(tag)
            async with asyncio.timeout(self._stop_timeout):
                await self._idle.wait()
        except Exception as exc:  # broker gone or timeout: the broker requeues what is unacked
            log.warning("link.stop_unclean", node=self.node, error=type(exc).__name__)
        finally:
            if not channel.is_closed:
                await channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._acks.hold(message)  # before any await: in delivery order
        self._busy += 1
        self._idle.clear()
        try:
            await self._handle(message)
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        link: LinkMessage | None = None
        again = False
        async with settle(message, retry_delay=self._settings.retry_delay, acks=self._acks) as result:
            link = LinkMessage.of_incoming(message)
            link.check_intact()
            again = await self._callback(link) is False
            if not again:
                await asyncio.shield(self._into_mailbox(link))
        tracking_id = link.tracking_id if link is not None else (message.message_id or "")
        if result.outcome == "acked":
            event = "link.redelivery_dropped" if again else "link.delivered"
            log.info(event, node=self.node, tracking_id=tracking_id, settled=result.settled)
        else:
            log.warning(
                "link." + result.outcome,
                node=self.node,
                tracking_id=tracking_id,
                reason=result.reason,
                settled=result.settled,
            )

    async def _into_mailbox(self, link: LinkMessage) -> None:
        """Publish into the mailbox (confirmed), then record it as delivered, before the ack."""
        await self._deliver(link)
        try:
            await self._delivered(link)
        except Exception as exc:  # the message is in the mailbox: a failed record must not undo that
            log.warning("link.after_delivery_failed", node=self.node, error=type(exc).__name__)

    async def _deliver(self, link: LinkMessage) -> None:
        properties = link.properties.amqp()
        if properties.headers:
            properties.headers.pop(SEAL_HEADER, None)  # the link's own: a mailbox message is as before
        await self._sessions[self.node].publish_body(MAILBOX, link.recipient, link.body, properties)
