"""The node link's signed verdict: a message the sending node of the deployment sealed is not read twice;
anything unsealed, sealed with another key or changed after sealing is checked in full.

The real engine and the in-memory registry and tracking; the sending side is the real publisher's sealing
(its AMQP properties, no broker needed), the receiving side the link's judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from adapters.db import MemoryTracking
from adapters.rabbitmq.publisher import RabbitPublisher
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from gateway.errors import UnknownReceiver
from gateway.pipeline import Facts, Judge, LinkJudge, LinkMismatch
from gateway.pipeline.link import Crossing
from gateway.pipeline.seal import SEAL_HEADER, LinkSeal
from gateway.ports import Delivery
from tests.core.test_pipeline import AANBIEDER, GEMEENTE, T0, CountingChecker, node, request

pytestmark = pytest.mark.shared

KEY, OTHER_KEY = b"k" * 32, b"o" * 32


async def _sent() -> Delivery:
    """What the provider node published for the municipal node (accepted by the real pipeline)."""
    pipeline, _, publisher, _, _ = node()
    await pipeline.run((request(),), AANBIEDER, Facts(sender=AANBIEDER))
    (delivery,) = publisher.published
    assert delivery.target_node == "ggk"
    return delivery


def _headers(delivery: Delivery, seal: LinkSeal | None) -> Mapping[str, str]:
    properties = RabbitPublisher(Sessions(BrokerSettings()), seal)._crossing(delivery)
    assert properties.headers is not None
    return {k: str(v) for k, v in properties.headers.items()}


def _crossing(delivery: Delivery, headers: Mapping[str, str], body: bytes | None = None) -> Crossing:
    return Crossing(
        node="ggk",
        tracking_id=delivery.tracking_id,
        recipient=headers["recipient"],
        message=headers["message"],
        origin="vecozo",
        received_at=delivery.received_at,
        first=True,
        body=delivery.body if body is None else body,
        conversation_id=delivery.conversation_id,
        headers=headers,
        seal=headers.get(SEAL_HEADER),
    )


def _receiver(seal: LinkSeal | None) -> tuple[LinkJudge, CountingChecker]:
    pipeline, checker, _, _, _ = node()
    judge = Judge(checker, pipeline.judge.registry)
    return LinkJudge(judge, MemoryTracking(), clock=lambda: T0, seal=seal), checker


async def test_sealed_message_is_not_read_again() -> None:
    delivery = await _sent()
    headers = _headers(delivery, LinkSeal(KEY))
    assert headers[SEAL_HEADER].startswith("v1:")
    link, checker = _receiver(LinkSeal(KEY))
    await link.arrived(_crossing(delivery, headers))
    assert 0 == checker.checked


@pytest.mark.parametrize(
    "what",
    ["unsealed", "other key", "receiver without key", "header changed", "seal of another message"],
)
async def test_anything_but_a_good_seal_is_checked_in_full(what: str) -> None:
    delivery = await _sent()
    headers = dict(_headers(delivery, None if what == "unsealed" else LinkSeal(KEY)))
    receiver_seal: LinkSeal | None = LinkSeal(OTHER_KEY if what == "other key" else KEY)
    if what == "receiver without key":
        receiver_seal = None
    if what == "header changed":
        headers["identificatie"] = "X" + headers["identificatie"]
    if what == "seal of another message":
        other = await _sent()
        headers[SEAL_HEADER] = _headers(other, LinkSeal(KEY))[SEAL_HEADER]
    link, checker = _receiver(receiver_seal)
    await link.arrived(_crossing(delivery, headers))  # the message itself is good: it passes, read once
    assert 1 == checker.checked


async def test_a_sealed_claim_about_other_bytes_is_checked_and_refused() -> None:
    """The seal holds for the headers, but the bytes are another message: full check, link mismatch."""
    delivery, other = await _sent(), await _sent()
    headers = _headers(delivery, LinkSeal(KEY))
    link, checker = _receiver(LinkSeal(KEY))
    swapped = other.body.replace(GEMEENTE.encode(), b"0363", 1)
    with pytest.raises((LinkMismatch, UnknownReceiver)):
        await link.arrived(_crossing(delivery, headers, body=swapped))
    assert 1 == checker.checked


async def test_sealed_message_still_needs_an_active_recipient_here() -> None:
    delivery = await _sent()
    headers = _headers(delivery, LinkSeal(KEY))
    link, _ = _receiver(LinkSeal(KEY))
    with pytest.raises(UnknownReceiver):
        await link.arrived(replace(_crossing(delivery, headers), node="vecozo"))  # the recipient lives on ggk


def test_seal_binds_every_value() -> None:
    seal = LinkSeal(KEY)
    headers = {"sha256": "ab", "recipient": "0384", "message": "WMO315"}
    good = seal.sign("t", "c", "ggk", headers)
    assert seal.holds(good, "t", "c", "ggk", headers)
    assert not seal.holds(good, "t", "c", "vecozo", headers)
    assert not seal.holds(good, "t2", "c", "ggk", headers)
    assert not seal.holds(good, "t", "c", "ggk", {**headers, "sha256": "ac"})
    assert not seal.holds(good.replace("v1:", "v2:"), "t", "c", "ggk", headers)
    assert not seal.holds(None, "t", "c", "ggk", headers)
    assert not LinkSeal(OTHER_KEY).holds(good, "t", "c", "ggk", headers)
    assert "k" * 16 not in repr(seal)


async def test_a_redelivery_of_a_message_already_in_its_mailbox_is_not_delivered_again() -> None:
    """A link message back after its ack was lost: delivered again only if this node has not recorded it in
    its mailbox (a first delivery is never looked up)."""
    delivery = await _sent()
    crossing = _crossing(delivery, _headers(delivery, None))
    link, checker = _receiver(None)
    again = replace(crossing, first=False)
    assert (await link.arrived(crossing), await link.arrived(again)) == (True, True)  # not in it yet
    await link.delivered(crossing)
    assert await link.arrived(again) is False
    assert await link.arrived(crossing) is True
    assert 3 == checker.checked
