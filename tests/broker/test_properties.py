"""What a gateway message carries as AMQP properties, and what the link consumer makes of it again."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from types import MappingProxyType
from typing import Any

import aiormq
import pytest

from adapters.rabbitmq.properties import (
    BrokenLinkMessage,
    Encoded,
    LinkMessage,
    MessageProperties,
    gateway_headers,
    properties_for,
)
from gateway.ports import Delivery
from tests.broker.conftest import delivery


def _link(sent_body: bytes | None = None, **header_changes: str) -> tuple[LinkMessage, Delivery]:
    sent = delivery("0363", origin="vecozo", target="ggk")
    props = MessageProperties.of_delivery(sent)
    props = dataclasses.replace(props, headers=MappingProxyType({**props.headers, **header_changes}))
    return LinkMessage(props, sent.body if sent_body is None else sent_body), sent


def test_properties_carry_ids_type_and_headers() -> None:
    """A delivery's AMQP message is persistent XML with tracking id, conversation id, time and headers."""
    sent = delivery("0363", origin="ggk", target="ggk")
    message = MessageProperties.of_delivery(sent).message(sent.body)
    expected = (sent.body, sent.tracking_id, sent.conversation_id, "application/xml", 2, sent.amqp_headers())
    got = (
        message.body,
        message.message_id,
        message.correlation_id,
        message.content_type,
        int(message.delivery_mode),
        message.headers,
    )
    assert expected == got


def test_the_publish_path_sends_the_same_properties_as_the_message_would() -> None:
    """The properties built for the publish path encode to the very bytes the aio-pika message's would."""
    sent = delivery("0363", origin="vecozo", target="ggk")
    props = MessageProperties.of_delivery(sent)
    assert props.message(sent.body).properties.marshal() == props.amqp().marshal()


def test_the_publisher_s_properties_are_the_message_s() -> None:
    """What the publisher sends (built directly, the body's digest handed in by the pipeline) encodes to the
    very bytes of the aio-pika message's properties."""
    sent = delivery("0363", origin="vecozo", target="ggk")
    digested = dataclasses.replace(sent, digest=sent.sha256)
    expected = MessageProperties.of_delivery(sent).message(sent.body).properties.marshal()
    assert properties_for(sent).marshal() == properties_for(digested).marshal() == expected


_GATEWAY = {
    "content_type": "application/xml",
    "correlation_id": "c-1",
    "delivery_mode": 2,
    "headers": {"sha256": "ab" * 32, "afzender": "0363", "recipient": "Zoë €"},
    "message_id": "t-1",
    "priority": 0,
    "timestamp": datetime.fromisoformat("2026-05-04T09:30:00.123456+02:00"),
}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"headers": {}},
        {"headers": None},
        {"correlation_id": ""},
        {"timestamp": datetime(2026, 5, 4, 9, 30)},  # naive: pamqp takes it as UTC
        {"headers": {"n": 3, "yes": True, "list": ["a"], "table": {"b": "c"}}},
        {"headers": {"k" * 200: "a name pamqp shortens"}},
        {"headers": {"afzender": 363, "sha256": None}},  # names written before with text values
        {"delivery_mode": None, "priority": None, "message_id": ""},
        {"reply_to": "elsewhere", "app_id": "gateway"},
    ],
)
def test_encoded_properties_are_the_bytes_pamqp_writes(changes: dict[str, Any]) -> None:
    """The publish path's own encoder writes exactly what pamqp's generic one writes, for the gateway's
    properties and for anything else (which it hands to pamqp)."""
    fields = {**_GATEWAY, **changes}
    assert Encoded(**fields).marshal() == aiormq.spec.Basic.Properties(**fields).marshal()


def test_broker_headers_are_left_off() -> None:
    """Headers the broker adds (x-delivery-count, x-death) are not part of the gateway's headers."""
    assert gateway_headers({"message": b"WMO315", "n": 3, "x-delivery-count": 2, "x-death": []}) == {
        "message": "WMO315",
        "n": "3",
    }


def test_link_message_repr_shows_no_body() -> None:
    """A link message prints its tracking id and size, never its bytes."""
    message = LinkMessage(MessageProperties("t-1", "c-1", headers={"recipient": "0363"}), b"<geheim/>")
    assert repr(message) == "LinkMessage(tracking_id='t-1', size=9, delivery_count=0)"


def test_link_message_without_recipient_is_refused() -> None:
    """A link message without the recipient header is a permanent refusal."""
    with pytest.raises(BrokenLinkMessage):
        _ = LinkMessage(MessageProperties("t-1", "c-1"), b"<x/>").recipient


def test_intact_link_message_passes() -> None:
    """A link message whose body matches its sha256 header passes the integrity check."""
    link, _ = _link()
    link.check_intact()


def test_link_message_with_other_bytes_is_refused() -> None:
    """A body that does not match the sha256 header is refused for good."""
    link, _ = _link(sent_body=b"<other/>")
    with pytest.raises(BrokenLinkMessage):
        link.check_intact()


def test_link_message_from_unknown_node_is_refused() -> None:
    """A link message naming no known origin node is refused for good."""
    link, _ = _link(**{"origin-node": "elsewhere"})
    with pytest.raises(BrokenLinkMessage):
        link.check_intact()


def test_link_message_gives_back_the_delivery() -> None:
    """With the re-read header, a link message is the very delivery that was published."""
    link, sent = _link()
    assert sent == link.delivery(sent.header, "ggk")
