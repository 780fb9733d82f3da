"""VECOZO REST Push on the provider node, end to end over the real broker, as a vendor's client sends it."""

from __future__ import annotations

import pytest

from tests.harness import GatewayUnderTest
from tests.koppeling.vendor import Vendor, metadata
from tests.messages import heen, new_id, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE = "0384"
AANBIEDER = "42420001"


def vendor(gw: GatewayUnderTest, party: str = AANBIEDER) -> Vendor:
    return Vendor(gw.clients["vecozo"], gw.auth(party))


def message(name: str, afzender: str = AANBIEDER, ontvanger: str = GEMEENTE) -> bytes:
    return heen(name, afzender, ontvanger)


async def test_a_pushed_message_reaches_the_municipality(gw: GatewayUnderTest) -> None:
    """A WMO315 pushed with matching metadata is answered 204 and arrives in the municipality's mailbox."""
    data = message("WMO315")
    response = await vendor(gw).push(metadata(AANBIEDER, GEMEENTE, "WMO315"), data)
    assert 204 == response.status_code, response.text
    body, _ = await gw.receive(GEMEENTE)
    assert data == body


async def _only_marker_arrives(gw: GatewayUnderTest) -> None:
    """Nothing refused was delivered: the next message in the mailbox is a marker pushed afterwards."""
    marker = message("WMO315")
    assert 204 == (await vendor(gw).push(metadata(AANBIEDER, GEMEENTE, "WMO315"), marker)).status_code
    body, _ = await gw.receive(GEMEENTE)
    assert marker == body


def _problem(response: object) -> dict[str, object]:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.headers["content-type"].startswith("application/json")
    found: dict[str, object] = response.json()
    return found


@pytest.mark.parametrize(
    ("meta", "payload", "field"),
    [
        (None, b"<x/>", "berichtMetadata"),
        (metadata(AANBIEDER, GEMEENTE, "WMO315"), None, "payload"),
        (b"{not json", b"<x/>", "berichtMetadata"),
        (
            {"routeringgegevens": {}, "referentiegegevens": {}},
            b"<x/>",
            "berichtMetadata.routeringgegevens.afzender",
        ),
        (
            metadata(AANBIEDER, GEMEENTE, "WMO315", traceer_id="not-a-uuid"),
            b"<x/>",
            "berichtMetadata.referentiegegevens.traceerId",
        ),
    ],
)
async def test_a_request_against_the_spec_is_400_and_stores_nothing(
    gw: GatewayUnderTest, meta: object, payload: bytes | None, field: str
) -> None:
    """A missing part, metadata that is not JSON or not as the spec: 400 naming the field, nothing sent."""
    response = await vendor(gw).push(meta, payload)  # type: ignore[arg-type]
    problem = _problem(response)
    assert (400, 400) == (response.status_code, problem["status"])
    assert field in problem["errors"]  # type: ignore[operator]
    await _only_marker_arrives(gw)


async def test_metadata_that_disagrees_with_the_payload_is_422_brs33(gw: GatewayUnderTest) -> None:
    """Metadata naming another addressee than the message header: 422 BRS33, the message is not sent."""
    response = await vendor(gw).push(metadata(AANBIEDER, "0363", "WMO315"), message("WMO315"))
    problem = _problem(response)
    assert (422, "BRS33") == (response.status_code, problem["code"])
    assert "berichtMetadata.routeringgegevens.geadresseerden" in problem["errors"]  # type: ignore[operator]
    await _only_marker_arrives(gw)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"<Bericht><niet-af>", "BRS14"),
        (b"<?xml version='1.0'?><Bericht xmlns='urn:other'/>", "BRS13"),
    ],
)
async def test_a_broken_payload_is_422_with_its_brs_code(
    gw: GatewayUnderTest, payload: bytes, code: str
) -> None:
    """A payload that is not well-formed is BRS14, one that is not a standard message BRS13."""
    response = await vendor(gw).push(metadata(AANBIEDER, GEMEENTE, "WMO315"), payload)
    assert (422, code) == (response.status_code, _problem(response)["code"])


async def test_a_payload_against_its_xsd_is_brs13_and_afgekeurd(gw: GatewayUnderTest) -> None:
    """The official JW315 with its impossible date: 422 BRS13, and its status is AfgekeurdDoorDienst."""
    from tests.messages import example_path

    data = set_header(example_path("JW315").read_bytes(), Identificatie=new_id())
    meta = metadata(AANBIEDER, GEMEENTE, "JW315")
    response = await vendor(gw).push(meta, data)
    assert (422, "BRS13") == (response.status_code, _problem(response)["code"])
    traceer = meta["referentiegegevens"]["traceerId"]
    status = await vendor(gw).status(traceerId=traceer)
    assert 200 == status.status_code
    [found] = status.json()
    assert ("AfgekeurdDoorDienst", "BRS13") == (found["berichtstatus"], found["meldingen"][0]["code"])


async def test_a_payload_over_the_limit_is_422_brs06(gw: GatewayUnderTest) -> None:
    """A payload larger than the node's limit is refused with BRS06 before anything is stored."""
    limit = gw.runtime.settings.max_bytes
    response = await vendor(gw).push(metadata(AANBIEDER, GEMEENTE, "WMO315"), b" " * (limit + 1))
    assert (422, "BRS06") == (response.status_code, _problem(response)["code"])


async def test_a_traceer_id_used_twice_is_422_brs114(gw: GatewayUnderTest) -> None:
    """A second message under a traceerId already used by the sender: 422 BRS114 naming the traceerId, not
    sent."""
    meta = metadata(AANBIEDER, GEMEENTE, "WMO315")
    assert 204 == (await vendor(gw).push(meta, message("WMO315"))).status_code
    await gw.receive(GEMEENTE)
    response = await vendor(gw).push(meta, message("WMO315"))
    refusal = _problem(response)
    assert (422, "BRS114", meta["referentiegegevens"]["traceerId"]) == (
        response.status_code,
        refusal["code"],
        refusal["traceerId"],
    )
    await _only_marker_arrives(gw)


async def test_the_same_push_again_is_answered_as_the_first(gw: GatewayUnderTest) -> None:
    """The same payload under the same traceerId (a retry after a lost answer) is 204 and sent once."""
    meta, data = metadata(AANBIEDER, GEMEENTE, "WMO315"), message("WMO315")
    assert [204, 204] == [(await vendor(gw).push(meta, data)).status_code for _ in range(2)]
    body, _ = await gw.receive(GEMEENTE)
    assert data == body
    await _only_marker_arrives(gw)


async def test_the_same_identificatie_under_a_new_traceer_id_is_brs20(gw: GatewayUnderTest) -> None:
    """The same message under a second traceerId: 422 BRS20 (Identificatie not unique per message type)."""
    data = message("WMO315")
    assert 204 == (await vendor(gw).push(metadata(AANBIEDER, GEMEENTE, "WMO315"), data)).status_code
    response = await vendor(gw).push(metadata(AANBIEDER, GEMEENTE, "WMO315"), data)
    assert (422, "BRS20") == (response.status_code, _problem(response)["code"])


async def test_pushing_for_another_provider_is_422_brs03(gw: GatewayUnderTest) -> None:
    """A party pushing with another provider as afzender, without a mandate: 422 BRS03, nothing stored."""
    data = message("WMO315", afzender="65656055")
    response = await vendor(gw).push(metadata("65656055", GEMEENTE, "WMO315"), data)
    assert (422, "BRS03") == (response.status_code, _problem(response)["code"])
    await _only_marker_arrives(gw)


async def test_a_push_without_credential_is_401(gw: GatewayUnderTest) -> None:
    """Without a client certificate or credential the node does not take the push."""
    response = await Vendor(gw.clients["vecozo"], {}).push(metadata(AANBIEDER, GEMEENTE, "WMO315"), b"<x/>")
    assert 401 == response.status_code


async def test_the_interfaces_are_not_on_the_municipal_node(gw: GatewayUnderTest) -> None:
    """The VECOZO paths exist on the provider node only."""
    response = await Vendor(gw.clients["ggk"], gw.auth(GEMEENTE)).berichten()
    assert 404 == response.status_code


async def test_the_same_push_at_once_is_answered_as_the_first(gw: GatewayUnderTest) -> None:
    """The same push twice at the same moment (a client retrying too early): both 204, sent once."""
    import asyncio

    meta, data = metadata(AANBIEDER, GEMEENTE, "WMO315"), message("WMO315")
    answers = await asyncio.gather(*(vendor(gw).push(meta, data) for _ in range(2)))
    assert [204, 204] == [a.status_code for a in answers]
    body, _ = await gw.receive(GEMEENTE)
    assert data == body
    await _only_marker_arrives(gw)


async def test_a_refused_push_again_gets_its_refusal_again(gw: GatewayUnderTest) -> None:
    """A refused push sent again under its traceerId is refused with the same code, not as BRS114."""
    meta = metadata(AANBIEDER, GEMEENTE, "WMO315")
    payload = b"<Bericht><niet-af>"
    first, again = [await vendor(gw).push(meta, payload) for _ in range(2)]
    assert [(422, "BRS14")] * 2 == [(r.status_code, _problem(r)["code"]) for r in (first, again)]


async def test_a_broken_payload_under_a_taken_traceer_id_leaves_the_first_alone(gw: GatewayUnderTest) -> None:
    """A refused payload under the traceerId of an accepted push is BRS114; its refusal is recorded under
    a tracking id of its own, so the first message's status is not touched."""
    meta = metadata(AANBIEDER, GEMEENTE, "WMO315")
    assert 204 == (await vendor(gw).push(meta, message("WMO315"))).status_code
    await gw.receive(GEMEENTE)
    response = await vendor(gw).push(meta, b"<Bericht><niet-af>")
    assert (422, "BRS114") == (response.status_code, _problem(response)["code"])
    [status] = (await vendor(gw).status(traceerId=meta["referentiegegevens"]["traceerId"])).json()
    assert "AfgekeurdDoorDienst" != status["berichtstatus"]
    assert "meldingen" not in status
