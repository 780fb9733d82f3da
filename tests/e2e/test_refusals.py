"""Refusals at the door: each with its chain code, and nothing delivered."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import GatewayUnderTest
from tests.messages import example, new_id, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE = "0384"
AANBIEDER = "42420001"


def request(afzender: str = AANBIEDER, ontvanger: str = GEMEENTE) -> bytes:
    return set_header(example("WMO315"), Afzender=afzender, Ontvanger=ontvanger, Identificatie=new_id())


async def refused(
    gw: GatewayUnderTest, party: str, data: bytes, node: str | None = None
) -> tuple[int, str, str]:
    """Submit and return (status, chain code, reason) of the refusal."""
    response = await gw.submit(party, data, node)  # type: ignore[arg-type]
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code, body["code"], body["type"].rsplit(":", 1)[-1]


async def nothing_delivered(gw: GatewayUnderTest, party: str) -> list[dict[str, object]]:
    await asyncio.sleep(0.5)
    return await gw.lease(party)


async def test_unknown_recipient_is_ib210(gw: GatewayUnderTest) -> None:
    """A message to a party that is not registered is refused with IB210."""
    assert (422, "IB210", "unknown-receiver") == await refused(gw, AANBIEDER, request(ontvanger="0999"))


async def test_retired_recipient_is_ib210_and_gets_nothing(gw: GatewayUnderTest) -> None:
    """A municipality whose registration ended never receives anything new."""
    assert (422, "IB210", "unknown-receiver") == await refused(gw, AANBIEDER, request(ontvanger="0370"))
    assert [] == await nothing_delivered(gw, "0370")


async def test_retired_after_registration_gets_nothing(gw: GatewayUnderTest) -> None:
    """Retiring a participant through the admin API stops new messages to it at once."""
    client = gw.clients["ggk"]
    headers = {"Authorization": "Bearer operator-test-token"}
    response = await client.post("/v1/admin/participants/0518/retire", json={}, headers=headers)
    assert 200 == response.status_code, response.text
    assert (422, "IB210", "unknown-receiver") == await refused(gw, AANBIEDER, request(ontvanger="0518"))
    assert [] == await nothing_delivered(gw, "0518")


async def test_sending_as_another_party_is_ib002(gw: GatewayUnderTest) -> None:
    """A provider posting a message whose Afzender is another provider is refused with IB002."""
    assert (403, "IB002", "not-authorised") == await refused(gw, "65656055", request(afzender=AANBIEDER))
    assert [] == await nothing_delivered(gw, GEMEENTE)


async def test_municipality_cannot_send_a_provider_message(gw: GatewayUnderTest) -> None:
    """Wrong direction: a municipality posting a provider's request is refused and nothing travels."""
    assert (403, "IB002", "not-authorised") == await refused(gw, GEMEENTE, request(), node="vecozo")
    assert [] == await nothing_delivered(gw, GEMEENTE)


async def test_provider_posting_to_the_municipal_node_has_no_route(gw: GatewayUnderTest) -> None:
    """Wrong node: a provider's message belongs on the provider node (IB102)."""
    assert (422, "IB102", "no-route") == await refused(gw, AANBIEDER, request(), node="ggk")


async def test_registered_submitter_may_send_for_its_party(gw: GatewayUnderTest) -> None:
    """The demo umbrella organisation 42420099 submits for 42420001."""
    response = await gw.submit("42420099", request(), node="vecozo")
    assert (202, AANBIEDER) == (response.status_code, response.json()["sender"])


async def test_same_bytes_again_return_the_first_answer(gw: GatewayUnderTest) -> None:
    """A client retry with the same bytes is answered with the first tracking id and delivered once."""
    data = request()
    first = (await gw.submit(AANBIEDER, data)).json()
    again = await gw.submit(AANBIEDER, data)
    assert (202, first["trackingId"], True) == (
        again.status_code,
        again.json()["trackingId"],
        again.json()["duplicate"],
    )
    await gw.receive(GEMEENTE)
    assert [] == await nothing_delivered(gw, GEMEENTE)


async def test_reused_identificatie_with_other_bytes_is_refused(gw: GatewayUnderTest) -> None:
    """The same Identificatie with other content is refused with IB216 (CC08 on the provider node)."""
    data = request()
    assert 202 == (await gw.submit(AANBIEDER, data)).status_code
    await gw.receive(GEMEENTE)
    other = data.replace(b"<wmo315:Bericht", b"<!-- other -->\n<wmo315:Bericht", 1)
    assert (409, "CC08", "not-unique") == await refused(gw, AANBIEDER, other)
    assert [] == await nothing_delivered(gw, GEMEENTE)


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"<?xml version='1.0'?><Bericht xmlns='urn:example:not-standard'/>", 422, "not-standard-message"),
        (b"this is not XML", 400, "not-well-formed"),
        (
            b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
            400,
            "unsafe-xml",
        ),
    ],
)
async def test_non_standard_xml_is_cc02(gw: GatewayUnderTest, data: bytes, status: int, reason: str) -> None:
    """Anything but a standard message is refused on the provider node with CC02."""
    assert (status, "CC02", reason) == await refused(gw, AANBIEDER, data)


async def test_schema_errors_name_every_element(gw: GatewayUnderTest) -> None:
    """The official JW315 example (date 2027-06-31) is refused listing both bad elements."""
    from tests.messages import example_path

    data = example_path("JW315").read_bytes()
    response = await gw.submit(AANBIEDER, data)
    paths = [e["path"] for e in response.json()["errors"]]
    assert (422, 2) == (response.status_code, len([p for p in paths if p.endswith("ToewijzingEinddatum")]))


async def test_no_credential_is_401(gw: GatewayUnderTest) -> None:
    """A request without a credential is refused before anything is read."""
    response = await gw.clients["vecozo"].post(
        "/v1/berichten", content=request(), headers={"Content-Type": "application/xml"}
    )
    assert (401, "IB002") == (response.status_code, response.json()["code"])


async def test_wrong_content_type_is_415(gw: GatewayUnderTest) -> None:
    """Only application/xml (or text/xml) is taken."""
    response = await gw.clients["vecozo"].post(
        "/v1/berichten", content=request(), headers={**gw.auth(AANBIEDER), "Content-Type": "application/json"}
    )
    assert 415 == response.status_code


async def test_refusal_is_traceable_by_its_sender(gw: GatewayUnderTest) -> None:
    """A refused message has a tracking id whose trace shows the refusal and its code."""
    response = await gw.submit(AANBIEDER, request(ontvanger="0999"))
    trace = await gw.trace(AANBIEDER, response.json()["trackingId"])
    assert [("refused", "IB210")] == [(e["event"], e["detail"]["code"]) for e in trace["events"]]


async def test_openapi_is_published(gw: GatewayUnderTest) -> None:
    """Each node publishes its OpenAPI document with the ingest operation."""
    spec = (await gw.clients["ggk"].get("/openapi.json")).json()
    assert "post" in spec["paths"]["/v1/berichten"]


async def test_mailbox_on_the_other_node_is_404(gw: GatewayUnderTest) -> None:
    """A municipality asking the provider node for its mailbox is told where its mailbox is."""
    response = await gw.clients["vecozo"].get("/v1/mailbox", headers=gw.auth(GEMEENTE))
    assert (404, "mailbox-elsewhere") == (response.status_code, response.json()["type"].rsplit(":", 1)[-1])
