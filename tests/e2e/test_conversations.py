"""Whole conversations through both nodes, the real broker and a real database."""

from __future__ import annotations

import pytest

from tests.harness import GatewayUnderTest
from tests.koppeling.vendor import Vendor, metadata
from tests.messages import first, heen, new_id, retour, set_all, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE = "0384"
AANBIEDER = "42420001"


async def send_and_receive(gw: GatewayUnderTest, sender: str, recipient: str, data: bytes) -> dict[str, str]:
    """Submit ``data`` as ``sender``; assert it arrives byte-identical at ``recipient``; the 202 answer."""
    response = await gw.submit(sender, data)
    assert 202 == response.status_code, response.text
    accepted: dict[str, str] = response.json()
    body, item = await gw.receive(recipient)
    assert (data, accepted["trackingId"]) == (body, item["trackingId"])
    assert accepted["conversationId"] == item["conversationId"]
    return accepted


@pytest.mark.parametrize("std", ["JW", "WMO"])
async def test_request_gets_retour_and_answer_in_one_conversation(
    gw_any_db: GatewayUnderTest, std: str
) -> None:
    """315 -> 316 + 319: the retour and the answer arrive at the provider, linked to the request."""
    gw = gw_any_db
    request = set_all(heen(f"{std}315", AANBIEDER, GEMEENTE), "ReferentieAanbieder", new_id(), numbered=True)
    first_answer = await send_and_receive(gw, AANBIEDER, GEMEENTE, request)
    ack = await send_and_receive(gw, GEMEENTE, AANBIEDER, retour(f"{std}316", request))
    answer = set_all(
        heen(f"{std}319", GEMEENTE, AANBIEDER), "ReferentieAanbieder", first(request, "ReferentieAanbieder")
    )
    answered = await send_and_receive(gw, GEMEENTE, AANBIEDER, answer)
    conversation = first_answer["conversationId"]
    assert [conversation, conversation] == [ack["conversationId"], answered["conversationId"]]
    trace = await gw.trace(AANBIEDER, ack["trackingId"])
    assert first_answer["trackingId"] == trace["answers"]
    members = [m["trackingId"] for m in trace["conversation"]]
    assert [first_answer["trackingId"], ack["trackingId"], answered["trackingId"]] == members


@pytest.mark.parametrize(
    ("heen_name", "retour_name", "sender", "recipient"),
    [
        ("301", "302", GEMEENTE, AANBIEDER),
        ("305", "306", "65656055", "0363"),
        ("307", "308", "65656055", "0363"),
        ("317", "318", "65656055", GEMEENTE),
        ("319", "320", GEMEENTE, "65656055"),
    ],
)
@pytest.mark.parametrize("std", ["JW", "WMO"])
async def test_message_and_its_retour(
    gw: GatewayUnderTest, std: str, heen_name: str, retour_name: str, sender: str, recipient: str
) -> None:
    """Each heen-message arrives at its recipient and its retour comes back in the same conversation."""
    message = heen(f"{std}{heen_name}", sender, recipient)
    sent = await send_and_receive(gw, sender, recipient, message)
    back = await send_and_receive(gw, recipient, sender, retour(f"{std}{retour_name}", message))
    assert (sent["conversationId"], sent["trackingId"]) == (
        back["conversationId"],
        (await gw.trace(recipient, back["trackingId"]))["answers"],
    )


@pytest.mark.parametrize("std", ["JW", "WMO"])
async def test_change_request_gets_retour_and_answer(gw: GatewayUnderTest, std: str) -> None:
    """317 -> 318 + 319: both answers join the change request's conversation."""
    provider = "65656055"
    request = set_all(heen(f"{std}317", provider, GEMEENTE), "ReferentieAanbieder", new_id(), numbered=True)
    sent = await send_and_receive(gw, provider, GEMEENTE, request)
    ack = await send_and_receive(gw, GEMEENTE, provider, retour(f"{std}318", request))
    answer = set_all(
        heen(f"{std}319", GEMEENTE, provider), "ReferentieAanbieder", first(request, "ReferentieAanbieder")
    )
    answered = await send_and_receive(gw, GEMEENTE, provider, answer)
    assert [sent["conversationId"]] * 2 == [ack["conversationId"], answered["conversationId"]]


@pytest.mark.parametrize("std", ["JW", "WMO"])
async def test_declaration_gets_its_answer(gw: GatewayUnderTest, std: str) -> None:
    """323 -> 325: the declaration answer names the declaration and joins its conversation."""
    provider = "65656055"
    declaration = heen(f"{std}323", provider, GEMEENTE)
    sent = await send_and_receive(gw, provider, GEMEENTE, declaration)
    answer = _with_declaratie(heen(f"{std}325", GEMEENTE, provider), first(declaration, "Identificatie"))
    answered = await send_and_receive(gw, GEMEENTE, provider, answer)
    assert sent["conversationId"] == answered["conversationId"]


def _with_declaratie(data: bytes, identificatie: str) -> bytes:
    """Point the 325's DeclaratieIdentificatie/Identificatie at the declaration."""
    head, sep, rest = data.partition(b"DeclaratieIdentificatie>")
    return head + sep + set_header(rest, Identificatie=identificatie)


async def test_lifecycle_is_recorded(gw: GatewayUnderTest) -> None:
    """Track & trace shows the life of a delivered message, readable by sender and receiver."""
    sent = await send_and_receive(gw, AANBIEDER, GEMEENTE, heen("WMO315", AANBIEDER, GEMEENTE))
    events = [e["event"] for e in (await gw.trace(AANBIEDER, sent["trackingId"]))["events"]]
    assert ["received", "routed", "published", "crossed-link", "in-mailbox", "fetched", "acked"] == events
    assert sent["trackingId"] == (await gw.trace(GEMEENTE, sent["trackingId"]))["trackingId"]


async def test_a_retour_to_another_partys_message_is_refused(gw: GatewayUnderTest) -> None:
    """A provider quoting the Identificatie of a 301 sent to another provider gets IB102, not a link."""
    original = heen("WMO301", GEMEENTE, AANBIEDER)
    sent = await send_and_receive(gw, GEMEENTE, AANBIEDER, original)
    intruder = "42420002"
    hijack = set_header(retour("WMO302", original), Ontvanger=intruder)
    refused = await gw.submit(intruder, hijack)
    assert (422, "IB102") == (refused.status_code, refused.json()["code"])
    members = [m["trackingId"] for m in (await gw.trace(GEMEENTE, sent["trackingId"]))["conversation"]]
    assert [sent["trackingId"]] == members


async def test_a_refused_retour_does_not_tell_whether_the_quoted_message_exists(gw: GatewayUnderTest) -> None:
    """The refusal for another party's Identificatie equals the one for an Identificatie never used."""
    original = heen("WMO301", GEMEENTE, AANBIEDER)
    await send_and_receive(gw, GEMEENTE, AANBIEDER, original)
    intruder = "42420002"
    someone_elses = set_header(retour("WMO302", original), Ontvanger=intruder)
    unknown = set_header(someone_elses, Identificatie=new_id())
    answers = [await gw.submit(intruder, data) for data in (someone_elses, unknown)]
    first_, second = (
        (a.status_code, a.json()["code"], a.json()["detail"], a.json()["title"]) for a in answers
    )
    assert first_ == second


@pytest.mark.parametrize("std", ["JW", "WMO"])
async def test_an_answer_joins_only_its_senders_conversation(gw: GatewayUnderTest, std: str) -> None:
    """A 319 or 325 of another gemeente quoting a provider's request or declaration starts its own
    conversation instead of joining the one between the provider and its gemeente."""
    provider, other_gemeente = "65656055", "0363"
    request = set_all(heen(f"{std}315", provider, GEMEENTE), "ReferentieAanbieder", new_id(), numbered=True)
    declaration = heen(f"{std}323", provider, GEMEENTE)
    sent = [await send_and_receive(gw, provider, GEMEENTE, m) for m in (request, declaration)]
    answer = set_all(
        heen(f"{std}319", other_gemeente, provider),
        "ReferentieAanbieder",
        first(request, "ReferentieAanbieder"),
    )
    declared = _with_declaratie(
        heen(f"{std}325", other_gemeente, provider), first(declaration, "Identificatie")
    )
    answered = [await send_and_receive(gw, other_gemeente, provider, m) for m in (answer, declared)]
    assert [None, None] == [(await gw.trace(provider, a["trackingId"])).get("answers") for a in answered]
    assert all(s["conversationId"] != a["conversationId"] for s, a in zip(sent, answered, strict=True))


async def test_a_retour_pushed_over_vecozo_rest_to_another_partys_message_is_refused(
    gw: GatewayUnderTest,
) -> None:
    """The VECOZO REST push (added after the review) keeps the same rule: another provider's WMO302 quoting a
    301 sent to 42420001 is 422 IB102, answered exactly as one quoting an Identificatie never used, and the
    original's conversation holds only the original."""
    original = heen("WMO301", GEMEENTE, AANBIEDER)
    sent = await send_and_receive(gw, GEMEENTE, AANBIEDER, original)
    intruder = "42420002"
    hijack = set_header(retour("WMO302", original), Ontvanger=intruder)
    unknown = set_header(hijack, Identificatie=new_id())
    rest = Vendor(gw.clients["vecozo"], gw.auth(intruder))
    answers = [await rest.push(metadata(intruder, GEMEENTE, "WMO302"), data) for data in (hijack, unknown)]
    told = [(a.status_code, a.json()["code"], a.json()["detail"], a.json()["title"]) for a in answers]
    members = [m["trackingId"] for m in (await gw.trace(GEMEENTE, sent["trackingId"]))["conversation"]]
    assert ((422, "IB102"), True, [sent["trackingId"]]) == (told[0][:2], told[0] == told[1], members)
