"""Who sees deliveries over AMQP: RabbitMQ's firehose on a node's vhost, read for the mailboxes only.

A subscriber that reads its mailbox over AMQP with its own broker user never talks to the gateway, so the
gateway cannot see the read. The broker can: with tracing on for a vhost (``rabbitmqctl trace_on -p VHOST``,
here through the management API) it copies every publish and delivery of that vhost to the exchange
``amq.rabbitmq.trace``. :class:`DeliveryWatcher` binds the queue ``trace.deliveries`` to it with
``deliver.mailbox.*`` and reports each delivery made to the mailbox owner's own broker user
(:meth:`BrokerSettings.participant_user`; the gateway's own reads, the HTTP leases, are recorded by the HTTP
route) as an :class:`AmqpDelivery`: tracking id, mailbox, user, redelivered. A delivery is not an ack: the
subscriber may still return the message.

The copies carry the message body (the payload): the watcher reads only the headers and acks every copy at
once; the queue is a classic one (no replicated log of payload copies) that keeps a copy at most a minute
and holds at most 100,000. Several processes of a node share it, so each delivery is recorded once. Opt-in
(``GATEWAY_TRACE_AMQP_DELIVERIES``): the broker copies every publish and delivery of the vhost whatever is
bound, which costs it CPU on every message (``python -m bench firehose``; docs/security.md gives the
figures).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage

from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import BindingSpec, QueueSpec
from adapters.rabbitmq.watch import QueueWatcher, header_text
from gateway.errors import NodeRole

log = structlog.get_logger("adapters.rabbitmq")

TRACE_EXCHANGE = "amq.rabbitmq.trace"
DELIVERIES_QUEUE = "trace.deliveries"
_PREFIX = "deliver.mailbox."

DELIVERIES_QUEUE_SPEC = QueueSpec(
    DELIVERIES_QUEUE,
    MappingProxyType(
        {
            "x-queue-type": "classic",
            "x-message-ttl": 60_000,
            "x-max-length": 100_000,
            "x-overflow": "drop-head",
        }
    ),
)
DELIVERIES_BINDING = BindingSpec(TRACE_EXCHANGE, DELIVERIES_QUEUE, _PREFIX + "*")


@dataclass(frozen=True, slots=True)
class AmqpDelivery:
    """A mailbox message handed to a subscriber over AMQP (not yet acked): ids and codes only."""

    tracking_id: str
    node: NodeRole
    code: str
    user: str
    redelivered: bool
    at: datetime


DeliveryCallback = Callable[[AmqpDelivery], Awaitable[None]]


def delivery_of(
    node: NodeRole, routing_key: str, headers: Mapping[str, Any], at: datetime
) -> AmqpDelivery | None:
    """The delivery a firehose copy describes (its headers, never its body); None for anything else."""
    if not routing_key.startswith(_PREFIX):
        return None
    properties = headers.get("properties")
    message_id = header_text(properties.get("message_id")) if isinstance(properties, Mapping) else ""
    if not message_id:
        return None
    return AmqpDelivery(
        tracking_id=message_id,
        node=node,
        code=routing_key.removeprefix(_PREFIX),
        user=header_text(headers.get("user")),
        redelivered=bool(headers.get("redelivered")),
        at=at,
    )


async def trace_deliveries(api: ManagementApi, settings: BrokerSettings, node: NodeRole, on: bool) -> None:
    """Switch the firehose of ``node``'s vhost on or off (``rabbitmqctl trace_on|trace_off``): a node started
    without the setting also stops the copying an earlier start switched on."""
    await api.set_tracing(settings.vhost(node), on)


class DeliveryWatcher(QueueWatcher):
    """Reports every AMQP delivery from a mailbox of one node to a participant's user (module docstring)."""

    queue = DELIVERIES_QUEUE_SPEC
    binding = DELIVERIES_BINDING
    purpose = "delivery-watch"

    def __init__(
        self,
        settings: BrokerSettings,
        node: NodeRole,
        callback: DeliveryCallback,
        *,
        sessions: Sessions | None = None,
    ) -> None:
        super().__init__(settings, node, sessions=sessions)
        self._callback = callback

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        delivery = delivery_of(self.node, message.routing_key or "", message.headers or {}, datetime.now(UTC))
        try:
            if delivery is not None and delivery.user == self.settings.participant_user(delivery.code):
                await self._callback(delivery)
        except Exception as exc:  # a copy is never kept for a retry: it holds the payload
            log.warning("delivery.not_reported", node=self.node, error=type(exc).__name__)
        finally:
            await message.ack()
