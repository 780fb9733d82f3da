"""One robust AMQP connection to one vhost, with a small pool of confirming channels for publishing.

Every broker fault that reaches a caller is a :class:`gateway.errors.Unavailable`: refused or timed-out
connects, a connection being restored, a nack, a returned (unroutable) message, a missing confirm. Nothing
here waits without a bound: connects are bounded by ``connect_timeout``, publishes by ``confirm_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from itertools import count
from typing import cast

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractRobustChannel, AbstractRobustConnection
from yarl import URL

from adapters.rabbitmq.frames import Behind, Outbox
from adapters.rabbitmq.settings import BrokerSettings
from gateway.errors import NodeRole, Unavailable

_RECONNECT_INTERVAL = 1.0
_RETRY_INTERVAL = 1.0  # after a failed connect, fail fast this long before trying again


class AmqpSession:
    """Connects lazily; after a failed connect, callers get :class:`Unavailable` at once for
    ``_RETRY_INTERVAL`` seconds. ``settings`` give the node's URL, the channel count and the timeouts."""

    def __init__(self, settings: BrokerSettings, node: NodeRole, *, purpose: str = "gateway") -> None:
        self._url = settings.node_url(node)
        self.name = f"{purpose}-{node}"
        self._size = settings.publish_channels
        self._connect_timeout = settings.connect_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channels: list[AbstractRobustChannel] = []
        self._turn = count()
        self._lock = asyncio.Lock()
        self._failed_at: float | None = None
        self._closed = False
        self._outbox = Outbox(settings.confirm_timeout, _not_in_time)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"AmqpSession(name={self.name!r}, {state})"

    @property
    def connected(self) -> bool:
        conn = self._connection
        return conn is not None and not conn.is_closed and conn.connected.is_set()

    async def connection(self) -> AbstractRobustConnection:
        """The live connection; :class:`Unavailable` when there is none now."""
        conn = self._connection
        if conn is None or conn.is_closed:
            conn = await self._connect()
        if not conn.connected.is_set():
            raise Unavailable("broker connection is being restored")
        return conn

    async def _connect(self) -> AbstractRobustConnection:
        async with self._lock:
            if self._closed:
                raise Unavailable("broker session closed")
            if self._connection is not None and not self._connection.is_closed:
                return self._connection
            if self._failed_at is not None and time.monotonic() - self._failed_at < _RETRY_INTERVAL:
                raise Unavailable("broker not reachable (recent connect failed)")
            conn = aio_pika.RobustConnection(
                URL(self._url),
                client_properties={"connection_name": self.name},
                reconnect_interval=_RECONNECT_INTERVAL,
            )
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await conn.connect(timeout=self._connect_timeout)
                    channels = [
                        await conn.channel(publisher_confirms=True, on_return_raises=True)
                        for _ in range(self._size)
                    ]
            except (TimeoutError, OSError, aiormq.exceptions.AMQPError, RuntimeError) as exc:
                self._failed_at = time.monotonic()
                await asyncio.shield(_quiet_close(conn))
                raise Unavailable("broker not reachable") from exc
            self._failed_at = None
            self._connection = conn
            self._channels = channels
            return conn

    async def channel(self, *, prefetch: int | None = None, confirms: bool = False) -> AbstractChannel:
        """A new robust channel of its own (consumers, mailbox leases); the caller closes it."""
        conn = await self.connection()
        try:
            async with asyncio.timeout(self._connect_timeout):
                channel = await conn.channel(publisher_confirms=confirms, on_return_raises=confirms)
                if prefetch is not None:
                    await channel.set_qos(prefetch_count=prefetch)
        except (TimeoutError, aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as exc:
            raise Unavailable("broker channel could not be opened") from exc
        return channel

    async def publish(self, exchange: str, routing_key: str, message: aio_pika.Message) -> None:
        """Publish mandatory and return once the broker confirmed; any failure is :class:`Unavailable`."""
        await self.publish_body(exchange, routing_key, message.body, message.properties)

    async def publish_body(
        self, exchange: str, routing_key: str, body: bytes, properties: aiormq.spec.Basic.Properties
    ) -> None:
        """As :meth:`publish`, for a body and its properties (no message object on the hot path)."""
        await self.connection()
        channel = self._pick()
        try:
            underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
            # the frames' bytes written directly, the publishes of one loop turn in one write (frames.py)
            await self._outbox.publish(underlay, exchange, routing_key, body, properties)
        except Behind as exc:
            raise Unavailable("broker connection is not taking publishes") from exc
        except aiormq.exceptions.PublishError as exc:
            raise Unavailable("message could not be routed (no queue for it)") from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise Unavailable("broker refused the message (nack)") from exc
        except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, OSError) as exc:
            raise Unavailable("broker connection lost while publishing") from exc

    def _pick(self) -> AbstractRobustChannel:
        for _ in range(len(self._channels)):
            channel = self._channels[next(self._turn) % len(self._channels)]
            if not channel.is_closed:
                return channel
        raise Unavailable("no open broker channel")

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            conn, self._connection = self._connection, None
            self._channels = []
        if conn is not None:
            await _quiet_close(conn)


def _not_in_time() -> Unavailable:
    return Unavailable("broker did not confirm in time")


async def _quiet_close(conn: AbstractRobustConnection) -> None:
    with contextlib.suppress(Exception):  # closing a connection that never opened, or is already gone
        await conn.close()


class Sessions:
    """One :class:`AmqpSession` per node vhost, made on first use and shared by publisher, link and mailbox."""

    def __init__(self, settings: BrokerSettings, *, purpose: str = "gateway") -> None:
        self._settings = settings
        self._purpose = purpose
        self._sessions: dict[NodeRole, AmqpSession] = {}

    def __repr__(self) -> str:
        return f"Sessions(purpose={self._purpose!r}, nodes={sorted(self._sessions)!r})"

    def __getitem__(self, node: NodeRole) -> AmqpSession:
        session = self._sessions.get(node)
        if session is None:
            session = self._sessions[node] = AmqpSession(self._settings, node, purpose=self._purpose)
        return session

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
