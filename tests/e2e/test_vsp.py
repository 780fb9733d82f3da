"""VECOZO-style IndienenBericht on the provider node, end to end over the real broker."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from lxml import etree

from adapters.rabbitmq import BrokerSettings
from gateway.interfaces import soap
from gateway.interfaces.vsp import VSP_NS
from gateway.interfaces.xmlparse import parse_envelope
from tests.harness import GatewayUnderTest, gateway_under_test
from tests.interfaces.helpers import indienen, ref, routering, zip_of
from tests.messages import example, new_id, set_all, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE = "0384"
AANBIEDER = "42420001"


def message(name: str, afzender: str = AANBIEDER, ontvanger: str = GEMEENTE) -> bytes:
    return set_header(example(name), Afzender=afzender, Ontvanger=ontvanger, Identificatie=new_id())


def submission(files: Sequence[tuple[str, bytes]], subtypes: Sequence[str], **routing: str) -> bytes:
    geadresseerden = routing.pop("geadresseerde", GEMEENTE)
    agb = routing.pop("agb", AANBIEDER)
    return indienen(zip_of(files), routering(agb, [geadresseerden], subtypes, **routing))


async def post(gw: GatewayUnderTest, data: bytes, party: str = AANBIEDER) -> httpx.Response:
    headers = {**gw.auth(party), "Content-Type": "text/xml; charset=utf-8", "SOAPAction": "IndienenBericht"}
    return await gw.clients["vecozo"].post("/soap/vsp", content=data, headers=headers)


def _v(name: str) -> str:
    return f"{{{VSP_NS}}}{name}"


async def fault_code(gw: GatewayUnderTest, data: bytes, party: str = AANBIEDER) -> tuple[int, str, str]:
    """(HTTP status, faultcode, chain code) of a refused IndienenBericht."""
    response = await post(gw, data, party)
    faultcode, _, detail = soap.read_fault(parse_envelope(response.content))
    assert detail is not None and detail.tag == _v("Fout")
    return response.status_code, faultcode, detail.findtext(_v("Code")) or ""


async def only_marker_arrives(gw: GatewayUnderTest, recipient: str = GEMEENTE) -> None:
    """Nothing refused was delivered: the next message in the mailbox is a marker sent afterwards."""
    marker = message("WMO315", ontvanger=recipient)
    assert 202 == (await gw.submit(AANBIEDER, marker)).status_code
    body, _ = await gw.receive(recipient)
    assert marker == body


async def test_zip_of_two_messages_arrives_as_two(gw_any_db: GatewayUnderTest) -> None:
    """An IndienenBericht with a ZIP of a JW315 and a JW323 reaches the municipality as two messages."""
    gw = gw_any_db
    jw315, jw323 = message("JW315"), message("JW323")
    conversatie, traceer = ref(), ref()
    header = routering(
        AANBIEDER, [GEMEENTE], ["JW315", "JW323"], conversatie_id=conversatie, traceer_id=traceer
    )
    response = await post(gw, indienen(zip_of([("a.xml", jw315), ("b.xml", jw323)]), header))
    assert 200 == response.status_code, response.text
    answer = soap.body_of(parse_envelope(response.content))
    tracking = [e.findtext(_v("TrackingId")) for e in answer.iter(_v("Bericht"))]
    assert (conversatie, traceer, 2) == (
        answer.findtext(_v("ConversatieId")),
        answer.findtext(_v("TraceerId")),
        len(tracking),
    )
    first_body, first_item = await gw.receive(GEMEENTE)
    second_body, second_item = await gw.receive(GEMEENTE)
    assert {jw315, jw323} == {first_body, second_body}
    assert set(tracking) == {first_item["trackingId"], second_item["trackingId"]}


async def test_same_submission_again_is_answered_without_delivering_twice(gw: GatewayUnderTest) -> None:
    """Resending the same archive under the same TraceerId answers the same tracking ids, delivered once."""
    data = submission([("a.xml", message("JW315"))], ["JW315"])
    first_response, second_response = await post(gw, data), await post(gw, data)
    ids = [
        [e.text for e in soap.body_of(parse_envelope(r.content)).iter(_v("TrackingId"))]
        for r in (first_response, second_response)
    ]
    assert ids[0] == ids[1]
    await gw.receive(GEMEENTE)
    await only_marker_arrives(gw)


# --- refusals ----------------------------------------------------------------------------------------


async def test_payload_not_schema_conform_is_cc02(gw: GatewayUnderTest) -> None:
    """A message in the archive that breaks its XSD is CC02 and neither message is delivered."""
    broken = message("JW323").replace(b"<jw323:Header>", b"<jw323:Header><jw323:Onzin/>", 1)
    data = submission([("a.xml", message("JW315")), ("b.xml", broken)], ["JW315", "JW323"])
    assert (500, "soap:Client", "CC02") == await fault_code(gw, data)
    await only_marker_arrives(gw)


async def test_berichtsubtype_not_matching_is_refused(gw: GatewayUnderTest) -> None:
    """Routing that names JW315 for an archive holding a JW323 is refused (CC02) and nothing travels."""
    data = submission([("a.xml", message("JW323"))], ["JW315"])
    assert (500, "soap:Client", "CC02") == await fault_code(gw, data)
    await only_marker_arrives(gw)


async def test_geadresseerde_not_matching_is_refused(gw: GatewayUnderTest) -> None:
    """Routing addressed to another municipality than the message is refused (CC02)."""
    data = submission([("a.xml", message("JW315"))], ["JW315"], geadresseerde="0363")
    assert (500, "soap:Client", "CC02") == await fault_code(gw, data)
    await only_marker_arrives(gw)


async def test_berichttype_not_matching_is_refused(gw: GatewayUnderTest) -> None:
    """Berichttype WMO for an iJw message is refused (CC02)."""
    data = submission([("a.xml", message("JW315"))], ["JW315"], berichttype="WMO")
    assert (500, "soap:Client", "CC02") == await fault_code(gw, data)


async def test_traceer_id_not_uuid4_is_cc04(gw: GatewayUnderTest) -> None:
    """A TraceerId that is no UUID v4 is CC04."""
    data = submission([("a.xml", message("JW315"))], ["JW315"], traceer_id="12345")
    assert (500, "soap:Client", "CC04") == await fault_code(gw, data)
    await only_marker_arrives(gw)


async def test_conversatie_id_not_uuid4_is_cc04(gw: GatewayUnderTest) -> None:
    """A ConversatieId that is an uppercase UUID is CC04."""
    data = submission([("a.xml", message("JW315"))], ["JW315"], conversatie_id=ref().upper())
    assert (500, "soap:Client", "CC04") == await fault_code(gw, data)


async def test_reused_traceer_id_is_cc08(gw: GatewayUnderTest) -> None:
    """A TraceerId used again for another archive is CC08."""
    traceer = ref()
    assert (
        200
        == (
            await post(gw, submission([("a.xml", message("JW315"))], ["JW315"], traceer_id=traceer))
        ).status_code
    )
    await gw.receive(GEMEENTE)
    again = submission([("a.xml", message("JW315"))], ["JW315"], traceer_id=traceer)
    assert (500, "soap:Client", "CC08") == await fault_code(gw, again)
    await only_marker_arrives(gw)


async def test_reused_identificatie_is_cc08(gw: GatewayUnderTest) -> None:
    """A message whose Identificatie was used before with other content is CC08, before anything travels."""
    earlier = message("JW315")
    assert 202 == (await gw.submit(AANBIEDER, earlier)).status_code
    await gw.receive(GEMEENTE)
    reused = set_all(
        set_header(earlier, Identificatie=_identificatie(earlier)),
        "ReferentieAanbieder",
        new_id(),
        numbered=True,
    )
    data = submission([("a.xml", message("JW323")), ("b.xml", reused)], ["JW315", "JW323"])
    assert (500, "soap:Client", "CC08") == await fault_code(gw, data)
    await only_marker_arrives(gw)


async def test_same_identificatie_twice_in_archive_is_cc08(gw: GatewayUnderTest) -> None:
    """Two messages of one type with one Identificatie in one archive are CC08."""
    one = message("JW315")
    other = set_header(message("JW315"), Identificatie=_identificatie(one))
    data = submission([("a.xml", one), ("b.xml", other)], ["JW315"])
    assert (500, "soap:Client", "CC08") == await fault_code(gw, data)
    await only_marker_arrives(gw)


async def test_unknown_addressee_is_ib210(gw: GatewayUnderTest) -> None:
    """A message to an unregistered municipality is IB210."""
    data = submission([("a.xml", message("JW315", ontvanger="0999"))], ["JW315"], geadresseerde="0999")
    assert (500, "soap:Client", "IB210") == await fault_code(gw, data)


async def test_retired_sender_is_ib213(gw: GatewayUnderTest) -> None:
    """A provider whose registration ended (42420005) cannot submit: IB213."""
    data = submission([("a.xml", message("JW315", afzender="42420005"))], ["JW315"], agb="42420005")
    assert (500, "soap:Client", "IB213") == await fault_code(gw, data, party="42420005")
    await only_marker_arrives(gw)


async def test_unauthorised_sender_is_ib002(gw: GatewayUnderTest) -> None:
    """A provider submitting an archive of another provider's messages is IB002."""
    data = submission([("a.xml", message("JW315"))], ["JW315"])
    assert (500, "soap:Client", "IB002") == await fault_code(gw, data, party="65656055")
    await only_marker_arrives(gw)


async def test_wrong_role_is_ib234(gw: GatewayUnderTest) -> None:
    """Only a Zorgaanbieder submits on the provider node (IB234)."""
    data = submission([("a.xml", message("JW315"))], ["JW315"], rol="Gemeente")
    assert (500, "soap:Client", "IB234") == await fault_code(gw, data)


async def test_not_a_zip_is_ib901(gw: GatewayUnderTest) -> None:
    """A Bestand that is no ZIP archive is IB901."""
    header = routering(AANBIEDER, [GEMEENTE], ["JW315"])
    assert (500, "soap:Client", "IB901") == await fault_code(gw, indienen(message("JW315"), header))
    await only_marker_arrives(gw)


async def test_bestand_not_base64_is_cc02(gw: GatewayUnderTest) -> None:
    """A Bestand that is no strict base64 is CC02."""
    header = routering(AANBIEDER, [GEMEENTE], ["JW315"])
    assert (500, "soap:Client", "CC02") == await fault_code(gw, indienen(b"", header, content="UEsD=BBQ"))


async def test_password_protected_zip_is_ib903(gw: GatewayUnderTest) -> None:
    """An archive whose entry is marked encrypted is IB903."""
    header = routering(AANBIEDER, [GEMEENTE], ["JW315"])
    assert (500, "soap:Client", "IB903") == await fault_code(
        gw, indienen(encrypted_zip(message("JW315")), header)
    )
    await only_marker_arrives(gw)


async def test_empty_zip_is_ib905(gw: GatewayUnderTest) -> None:
    """An archive without files is IB905."""
    header = routering(AANBIEDER, [GEMEENTE], ["JW315"])
    assert (500, "soap:Client", "IB905") == await fault_code(gw, indienen(zip_of([]), header))


async def test_more_than_30_files_is_ib902(gw: GatewayUnderTest) -> None:
    """31 messages in one archive is IB902, and none of them is delivered."""
    files = [(f"{i}.xml", message("JW315")) for i in range(31)]
    assert (500, "soap:Client", "IB902") == await fault_code(gw, submission(files, ["JW315"]))
    await only_marker_arrives(gw)


async def test_zip_bomb_is_cc03(gw: GatewayUnderTest) -> None:
    """An entry that expands more than 200 times (4 MB of blanks) is CC03 without being expanded."""
    bomb = message("JW315").replace(b"<jw315:Header>", b" " * 4_000_000 + b"<jw315:Header>", 1)
    assert (500, "soap:Client", "CC03") == await fault_code(gw, submission([("a.xml", bomb)], ["JW315"]))
    await only_marker_arrives(gw)


@pytest.fixture
async def small_gw(sqlite_url: str, e2e_broker_settings: BrokerSettings) -> AsyncIterator[GatewayUnderTest]:
    """The gateway with a 20 000 byte message limit."""
    async with gateway_under_test(sqlite_url, e2e_broker_settings, max_bytes=20_000) as found:
        yield found


async def test_entry_too_large_is_cc03(small_gw: GatewayUnderTest) -> None:
    """An entry above the size limit is CC03."""
    big = message("JW315").replace(b"<jw315:Header>", b" " * 30_000 + b"<jw315:Header>", 1)
    assert (500, "soap:Client", "CC03") == await fault_code(small_gw, submission([("a.xml", big)], ["JW315"]))
    await only_marker_arrives(small_gw)


async def test_entries_too_large_together_are_cc03(small_gw: GatewayUnderTest) -> None:
    """Entries each within the limit but above it together are CC03."""
    files = [
        (f"{i}.xml", message("JW315").replace(b"<jw315:Header>", b" " * 6_000 + b"<jw315:Header>", 1))
        for i in range(3)
    ]
    assert (500, "soap:Client", "CC03") == await fault_code(small_gw, submission(files, ["JW315"]))
    await only_marker_arrives(small_gw)


async def test_no_routing_header_is_cc02(gw: GatewayUnderTest) -> None:
    """An IndienenBericht without the vsp:Routering header is CC02."""
    assert (500, "soap:Client", "CC02") == await fault_code(
        gw, indienen(zip_of([("a.xml", message("JW315"))]), "")
    )


async def test_indienen_on_the_municipal_node_is_refused(gw: GatewayUnderTest) -> None:
    """The municipal node has no VSP interface: 404 problem+json with IB102, not a 500 SOAP fault."""
    headers = {**gw.auth(GEMEENTE), "Content-Type": "text/xml"}
    data = submission([("a.xml", message("JW315"))], ["JW315"])
    response = await gw.clients["ggk"].post("/soap/vsp", content=data, headers=headers)
    assert (404, "application/problem+json", "IB102") == (
        response.status_code,
        response.headers["content-type"],
        response.json()["code"],
    )


def _identificatie(data: bytes) -> str:
    root = etree.fromstring(data)
    found = next(root.iter("{*}Identificatie"))
    return found.text or ""


def encrypted_zip(data: bytes) -> bytes:
    """A ZIP whose only entry has the 'encrypted' flag set in its local and central headers."""
    archive = bytearray(zip_of([("a.xml", data)]))
    archive[6] |= 0x01  # local file header: general purpose bit flag
    central = archive.rfind(b"PK\x01\x02")
    archive[central + 8] |= 0x01  # central directory header: general purpose bit flag
    return bytes(archive)


def test_helper_encodes_archive() -> None:
    """(sanity) the helper's request carries the archive as base64."""
    assert base64.b64encode(b"PK").decode()[:2] in indienen(b"PK", "").decode()
