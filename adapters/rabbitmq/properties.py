"""What a gateway message carries as AMQP properties, and the values built from them on the way out.

The body always travels as the exact submitted bytes. Broker-added headers (``x-delivery-count``,
``x-death``, ``x-shovelled`` ...) are not part of the message: they are read into ``delivery_count`` and
left off when a message is handed on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractIncomingMessage, DeliveryMode

from gateway.errors import NodeRole, Rejection
from gateway.ports import NODES, Delivery
from gateway.standard.header import Header

CONTENT_TYPE = "application/xml"


@dataclass(frozen=True, slots=True)
class MessageProperties:
    """The AMQP properties of a gateway message: ids, content type, time and the gateway headers."""

    message_id: str
    correlation_id: str
    content_type: str = CONTENT_TYPE
    timestamp: datetime | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_delivery(cls, delivery: Delivery) -> MessageProperties:
        return cls(
            message_id=delivery.tracking_id,
            correlation_id=delivery.conversation_id,
            content_type=CONTENT_TYPE,
            timestamp=delivery.received_at,
            headers=MappingProxyType(delivery.amqp_headers()),
        )

    @classmethod
    def of_incoming(cls, message: AbstractIncomingMessage) -> MessageProperties:
        stamp = message.timestamp
        if stamp is not None and stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return cls(
            message_id=message.message_id or "",
            correlation_id=message.correlation_id or "",
            content_type=message.content_type or "",
            timestamp=stamp,
            headers=MappingProxyType(gateway_headers(message.headers)),
        )

    def amqp(self) -> aiormq.spec.Basic.Properties:
        """These properties as the AMQP client sends them: what :meth:`message` would carry, built without
        the message object (the publish path's own, once per message)."""
        return aiormq.spec.Basic.Properties(
            content_type=self.content_type,
            correlation_id=self.correlation_id,
            delivery_mode=DeliveryMode.PERSISTENT.value,
            headers=dict(self.headers),
            message_id=self.message_id,
            priority=0,
            timestamp=self.timestamp,
        )

    def message(self, body: bytes) -> aio_pika.Message:
        """A persistent AMQP message with these properties and exactly ``body``."""
        return aio_pika.Message(
            body,
            message_id=self.message_id,
            correlation_id=self.correlation_id,
            content_type=self.content_type,
            delivery_mode=DeliveryMode.PERSISTENT,
            timestamp=self.timestamp,
            headers=dict(self.headers),
        )


class BrokenLinkMessage(Rejection):
    """What arrived over the node link is not a complete gateway message (it is dead-lettered)."""

    reason = "broken-link-message"
    title = "Message on the node link lacks or contradicts the gateway's own properties"


@dataclass(frozen=True, slots=True)
class LinkMessage:
    """A message that crossed the node link, as the link consumer hands it to the ingest core.

    The core re-validates ``body`` with the engine and checks it against ``properties.headers``.
    """

    properties: MessageProperties
    body: bytes = field(repr=False)
    delivery_count: int = 0

    @property
    def tracking_id(self) -> str:
        return self.properties.message_id

    @property
    def recipient(self) -> str:
        """The party whose mailbox receives the message (the ``recipient`` header, set by the sending node)."""
        recipient = self.properties.headers.get("recipient")
        if not recipient:
            raise BrokenLinkMessage("message on the node link lacks the recipient header")
        return recipient

    def check_intact(self) -> None:
        """Refuse for good a message whose ids or sha256 header do not match what it carries."""
        headers = self.properties.headers
        if not self.properties.message_id or not self.properties.correlation_id:
            raise BrokenLinkMessage("message on the node link lacks its tracking or conversation id")
        if headers.get("sha256") != hashlib.sha256(self.body).hexdigest():
            raise BrokenLinkMessage("message on the node link does not match its sha256 header")
        if headers.get("origin-node") not in NODES:
            raise BrokenLinkMessage("message on the node link names no known origin node")

    def delivery(self, header: Header, target_node: NodeRole) -> Delivery:
        """The :class:`Delivery` again, from the header the engine re-read out of ``body``.

        Call :meth:`check_intact` first; a ``received-at`` header that is not an ISO time is refused.
        """
        headers = self.properties.headers
        origin = headers.get("origin-node")
        try:
            received_at = datetime.fromisoformat(headers.get("received-at", ""))
        except ValueError:
            raise BrokenLinkMessage("message on the node link has no valid received-at header") from None
        return Delivery(
            tracking_id=self.properties.message_id,
            conversation_id=self.properties.correlation_id,
            header=header,
            received_at=received_at,
            body=self.body,
            origin_node="ggk" if origin == "ggk" else "vecozo",
            target_node=target_node,
        )

    @property
    def size(self) -> int:
        return len(self.body)

    def __repr__(self) -> str:
        return f"LinkMessage(tracking_id={self.tracking_id!r}, size={self.size}, delivery_count={self.delivery_count})"

    @classmethod
    def of_incoming(cls, message: AbstractIncomingMessage) -> LinkMessage:
        return cls(MessageProperties.of_incoming(message), bytes(message.body), delivery_count(message))


def message_for(delivery: Delivery) -> aio_pika.Message:
    """The AMQP message that carries ``delivery``."""
    return MessageProperties.of_delivery(delivery).message(delivery.body)


def properties_for(delivery: Delivery) -> aiormq.spec.Basic.Properties:
    """The AMQP properties of :func:`message_for`, without the message object."""
    return MessageProperties.of_delivery(delivery).amqp()


def gateway_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """The gateway's own headers as text, without the broker's ``x-`` headers."""
    out: dict[str, str] = {}
    for key, value in (headers or {}).items():
        if key.startswith("x-"):
            continue
        out[key] = value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)
    return out


def delivery_count(message: AbstractIncomingMessage) -> int:
    """How often the broker handed this message out before (quorum queues count returns)."""
    raw = (message.headers or {}).get("x-delivery-count")
    if isinstance(raw, int):
        return raw
    return 1 if message.redelivered else 0
