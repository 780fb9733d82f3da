"""A queue of the gateway's own that one node's processes consume to learn what the broker did.

:class:`QueueWatcher` declares its queue and binding on the node's vhost, consumes it and stops cleanly;
a subclass says which queue (:attr:`QueueWatcher.queue`, :attr:`QueueWatcher.binding`) and what to do with
each message (:meth:`QueueWatcher.on_message`). Used for dead letters (``adapters.rabbitmq.deadletters``)
and AMQP deliveries (``adapters.rabbitmq.deliveries``).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import BindingSpec, QueueSpec
from gateway.errors import NodeRole

log = structlog.get_logger("adapters.rabbitmq")


def header_text(value: Any) -> str:
    """A header value the broker set (bytes or text) as text; empty for none."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


class QueueWatcher:
    """Consumes :attr:`queue` (bound by :attr:`binding`) on ``node``'s vhost; see the module docstring."""

    queue: ClassVar[QueueSpec]
    binding: ClassVar[BindingSpec]
    durable: ClassVar[bool] = True
    purpose: ClassVar[str] = "watch"

    def __init__(self, settings: BrokerSettings, node: NodeRole, *, sessions: Sessions | None = None) -> None:
        self.settings = settings
        self.node = node
        self._own_sessions = sessions is None
        self._sessions = sessions or Sessions(settings, purpose=self.purpose)
        self._channel: AbstractChannel | None = None
        self._tag: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(node={self.node!r}, running={self._tag is not None})"

    async def start(self) -> None:
        """Declare the queue and its binding and consume it; Unavailable when the broker is away."""
        if self._tag is not None:
            return
        channel = await self._sessions[self.node].channel(prefetch=32)
        try:
            queue = await channel.declare_queue(
                self.queue.name, durable=self.durable, arguments=self.queue.declare_arguments
            )
            await queue.bind(self.binding.exchange, routing_key=self.binding.routing_key)
            self._tag = await queue.consume(self.on_message)
        except Exception:
            await channel.close()
            raise
        self._channel = channel
        log.info(f"{self.purpose}.watching", node=self.node, queue=self.queue.name)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        channel, self._channel = self._channel, None
        tag, self._tag = self._tag, None
        if channel is not None and not channel.is_closed:
            try:
                if tag is not None:
                    queue = await channel.get_queue(self.queue.name, ensure=False)
                    await queue.cancel(tag)
            except Exception as exc:  # the channel may be gone with the broker: nothing left to cancel
                log.debug(f"{self.purpose}.cancel_failed", error=type(exc).__name__)
            await asyncio.shield(channel.close())
        if self._own_sessions:
            await self._sessions.close()
