"""StUF-GGk ggk0210 on the municipal node, end to end over the real broker: envelopes in, envelopes out."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.rabbitmq import BrokerSettings
from gateway.http.stuf import parse_answer
from gateway.interfaces.stufanswer import Answer, read_answer
from gateway.interfaces.stufenvelope import Envelope, read_envelope
from gateway.interfaces.stufschema import stuf_schema
from gateway.interfaces.xmlparse import parse_envelope
from tests.harness import GatewayUnderTest, gateway_under_test
from tests.interfaces.helpers import GGK_DI01, in_soap, ref, stuf
from tests.messages import example, first, new_id, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE = "0384"
AANBIEDER = "42420001"


def jw301(afzender: str = GEMEENTE, ontvanger: str = AANBIEDER) -> bytes:
    return set_header(example("JW301"), Afzender=afzender, Ontvanger=ontvanger, Identificatie=new_id())


def retour(name: str, original: bytes) -> bytes:
    return set_header(
        example(name),
        Afzender=first(original, "Afzender"),
        Ontvanger=first(original, "Ontvanger"),
        Identificatie=first(original, "Identificatie"),
        IdentificatieRetour=new_id(),
    )


async def post(gw: GatewayUnderTest, party: str, data: bytes, soap: bool = False) -> httpx.Response:
    headers = {**gw.auth(party), "Content-Type": "text/xml; charset=utf-8"}
    if soap:
        headers["SOAPAction"] = GGK_DI01
        data = in_soap(data)
    return await gw.clients["ggk"].post(
        "/soap/ggk0210" if soap else "/stuf/ggk0210", content=data, headers=headers
    )


def answer_of(response: httpx.Response) -> Answer:
    """The Bv03/Fo01 of a response, checked against the ggk0210 schema."""
    element = parse_answer(response.content)
    schema = stuf_schema()
    assert schema(element), str(schema.error_log)
    return read_answer(element)


def envelope_of(body: bytes) -> Envelope:
    return read_envelope(parse_envelope(body), stuf_schema())


async def receives_stuf(gw: GatewayUnderTest, party: str) -> None:
    registry = gw.runtime.db.registry
    found = await registry.participant(party)
    assert found is not None
    await registry.update_participant(dataclasses.replace(found, delivery_format="stuf"))


async def code_of(
    gw: GatewayUnderTest, data: bytes, party: str = GEMEENTE, soap: bool = False
) -> tuple[int, str]:
    response = await post(gw, party, data, soap)
    answer = answer_of(response)
    assert "Fo01" == answer.berichtcode
    assert answer.code is not None
    return response.status_code, answer.code


async def only_marker_arrives(gw: GatewayUnderTest, recipient: str = AANBIEDER) -> None:
    """Nothing refused was delivered: the next message in the mailbox is a marker sent afterwards."""
    marker = jw301(ontvanger=recipient)
    assert 202 == (await gw.submit(GEMEENTE, marker)).status_code
    body, _ = await gw.receive(recipient)
    assert marker == body


@pytest.mark.parametrize("soap", [False, True])
async def test_di01_is_acknowledged_and_delivered(gw: GatewayUnderTest, soap: bool) -> None:
    """A municipality's Di01 with a JW301 gets a Bv03 and the JW301 reaches the provider unchanged."""
    message = jw301()
    referentienummer = ref()
    response = await post(
        gw, GEMEENTE, stuf(message, GEMEENTE, AANBIEDER, "JW301", referentienummer=referentienummer), soap
    )
    assert 200 == response.status_code, response.text
    answer = answer_of(response)
    assert ("Bv03", referentienummer, GEMEENTE) == (
        answer.berichtcode,
        answer.stuurgegevens.cross_refnummer,
        answer.stuurgegevens.ontvanger.organisatie if answer.stuurgegevens.ontvanger else None,
    )
    body, item = await gw.receive(AANBIEDER)
    assert (message, response.headers["X-Tracking-Id"]) == (body, item["trackingId"])


async def test_retour_reaches_stuf_municipality_as_du01(gw_any_db: GatewayUnderTest) -> None:
    """The provider's JW302 comes back as a Du01 whose crossRefnummer is the Di01's referentienummer."""
    gw = gw_any_db
    await receives_stuf(gw, GEMEENTE)
    original = jw301()
    referentienummer = ref()
    sent = await post(
        gw, GEMEENTE, stuf(original, GEMEENTE, AANBIEDER, "JW301", referentienummer=referentienummer)
    )
    assert 200 == sent.status_code, sent.text
    await gw.receive(AANBIEDER)
    answer = retour("JW302", original)
    assert 202 == (await gw.submit(AANBIEDER, answer)).status_code
    body, item = await gw.receive(GEMEENTE)
    envelope = envelope_of(body)
    assert ("Du01", "JW302", referentienummer, answer) == (
        envelope.kind,
        envelope.functie,
        envelope.cross_refnummer,
        envelope.payload,
    )
    assert ("Du01", referentienummer) == (item["headers"]["envelope"], item["headers"]["crossRefnummer"])


async def test_heen_to_stuf_municipality_is_di01_and_du01_answers_it(gw: GatewayUnderTest) -> None:
    """A JW315 reaches a stuf municipality as Di01 (referentienummer = tracking id); its Du01 JW316 answers it."""
    await receives_stuf(gw, GEMEENTE)
    request = set_header(example("JW315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())
    accepted = (await gw.submit(AANBIEDER, request)).json()
    body, _ = await gw.receive(GEMEENTE)
    envelope = envelope_of(body)
    assert ("Di01", accepted["trackingId"], request) == (
        envelope.kind,
        envelope.referentienummer,
        envelope.payload,
    )
    reply = retour("JW316", request)
    du01 = stuf(reply, GEMEENTE, AANBIEDER, "JW316", kind="Du01", cross_refnummer=envelope.referentienummer)
    response = await post(gw, GEMEENTE, du01, soap=True)
    assert ("Bv03", 200) == (answer_of(response).berichtcode, response.status_code)
    got, _ = await gw.receive(AANBIEDER)
    assert reply == got


async def test_resending_the_same_envelope_answers_bv03_again(gw: GatewayUnderTest) -> None:
    """The same envelope twice (a retry) is acknowledged twice and delivered once."""
    envelope = stuf(jw301(), GEMEENTE, AANBIEDER, "JW301")
    first_answer, second_answer = await post(gw, GEMEENTE, envelope), await post(gw, GEMEENTE, envelope)
    assert (200, 200) == (first_answer.status_code, second_answer.status_code)
    assert first_answer.headers["X-Tracking-Id"] == second_answer.headers["X-Tracking-Id"]
    await gw.receive(AANBIEDER)
    await only_marker_arrives(gw)


# --- refusals: each chain code, nothing delivered ----------------------------------------------------


async def test_reference_not_uuid4_is_ib009(gw: GatewayUnderTest) -> None:
    """A referentienummer that is no UUID v4 (here v1) is refused with IB009, though the schema pins it too."""
    envelope = stuf(
        jw301(), GEMEENTE, AANBIEDER, "JW301", referentienummer="9c0f7b90-5c69-11e5-a837-0800200c9a66"
    )
    assert (400, "IB009") == await code_of(gw, envelope)
    await only_marker_arrives(gw)


async def test_cross_reference_not_uuid4_is_ib009(gw: GatewayUnderTest) -> None:
    """A Du01 whose crossRefnummer is no UUID v4 is refused with IB009."""
    original = set_header(example("JW315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())
    du01 = stuf(retour("JW316", original), GEMEENTE, AANBIEDER, "JW316", kind="Du01", cross_refnummer="abc")
    assert (500, "IB009") == await code_of(gw, du01, soap=True)


async def test_envelope_not_schema_conform_is_stuf055(gw: GatewayUnderTest) -> None:
    """An envelope whose tijdstipBericht breaks the schema pattern is refused with StUF055."""
    envelope = stuf(jw301(), GEMEENTE, AANBIEDER, "JW301", tijdstip="2026-03-02")
    assert (422, "StUF055") == await code_of(gw, envelope)
    await only_marker_arrives(gw)


async def test_impossible_tijdstip_is_stuf055(gw: GatewayUnderTest) -> None:
    """A tijdstipBericht that matches the pattern but is no real moment (13th month) is StUF055."""
    envelope = stuf(jw301(), GEMEENTE, AANBIEDER, "JW301", tijdstip="20261301120000")
    assert (422, "StUF055") == await code_of(gw, envelope)


async def test_payload_not_base64_is_stuf055(gw: GatewayUnderTest) -> None:
    """Text in xmlBestand that libxml2 lets pass but is no strict base64 is StUF055."""
    envelope = stuf(b"", GEMEENTE, AANBIEDER, "JW301", content="PD94bWwg=dmVyc2lvbj0i")
    assert (422, "StUF055") == await code_of(gw, envelope)


async def test_payload_not_schema_conform_is_stuf055(gw: GatewayUnderTest) -> None:
    """A carried JW301 that breaks its XSD is StUF055 with the element path in the details."""
    broken = jw301().replace(b"<jw301:Geslacht>1</jw301:Geslacht>", b"<jw301:Geslacht>7</jw301:Geslacht>", 1)
    response = await post(gw, GEMEENTE, stuf(broken, GEMEENTE, AANBIEDER, "JW301"))
    answer = answer_of(response)
    assert (422, "StUF055", "client") == (response.status_code, answer.code, answer.plek)
    assert "Geslacht" in (answer.details or "")
    await only_marker_arrives(gw)


async def test_unknown_zender_is_ib213(gw: GatewayUnderTest) -> None:
    """A zender organisation that is not registered is IB213."""
    assert (422, "IB213") == await code_of(gw, stuf(jw301(afzender="0999"), "0999", AANBIEDER, "JW301"))


async def test_retired_ontvanger_is_ib210(gw: GatewayUnderTest) -> None:
    """An ontvanger whose registration ended (42420005) is IB210 and receives nothing."""
    envelope = stuf(jw301(ontvanger="42420005"), GEMEENTE, "42420005", "JW301")
    assert (422, "IB210") == await code_of(gw, envelope)
    assert [] == await _after_a_while(gw.lease("42420005"))


async def test_functie_not_allowed_is_ib234(gw: GatewayUnderTest) -> None:
    """A municipality may not send a provider's functie (JW315)."""
    assert (403, "IB234") == await code_of(gw, stuf(jw301(), GEMEENTE, AANBIEDER, "JW315"))
    await only_marker_arrives(gw)


async def test_retour_functie_in_di01_is_ib234(gw: GatewayUnderTest) -> None:
    """A retour functie (JW316) travels in a Du01, never in a Di01."""
    assert (403, "IB234") == await code_of(gw, stuf(jw301(), GEMEENTE, AANBIEDER, "JW316"))


async def test_functie_not_matching_payload_is_ib240(gw: GatewayUnderTest) -> None:
    """Functie JW319 carrying a JW301 is IB240, and the refusal is in track & trace."""
    response = await post(gw, GEMEENTE, stuf(jw301(), GEMEENTE, AANBIEDER, "JW319"))
    assert (422, "IB240") == (response.status_code, answer_of(response).code)
    trace = await gw.trace(GEMEENTE, response.headers["X-Tracking-Id"])
    assert ["refused"] == [e["event"] for e in trace["events"]]
    await only_marker_arrives(gw)


async def test_ontvanger_not_matching_payload_is_ib240(gw: GatewayUnderTest) -> None:
    """An envelope addressed to another provider than the carried message is IB240."""
    assert (422, "IB240") == await code_of(gw, stuf(jw301(), GEMEENTE, "65656055", "JW301"))
    assert [] == await _after_a_while(gw.lease("65656055"))


async def test_reused_referentienummer_is_ib216(gw: GatewayUnderTest) -> None:
    """A sender reusing a referentienummer for another message is refused with IB216."""
    referentienummer = ref()
    first_message = stuf(jw301(), GEMEENTE, AANBIEDER, "JW301", referentienummer=referentienummer)
    assert 200 == (await post(gw, GEMEENTE, first_message)).status_code
    await gw.receive(AANBIEDER)
    second = stuf(jw301(), GEMEENTE, AANBIEDER, "JW301", referentienummer=referentienummer)
    assert (409, "IB216") == await code_of(gw, second)
    await only_marker_arrives(gw)


async def test_sending_for_another_municipality_is_ib002(gw: GatewayUnderTest) -> None:
    """0363 posting an envelope whose zender and message are 0384's is IB002."""
    assert (403, "IB002") == await code_of(gw, stuf(jw301(), GEMEENTE, AANBIEDER, "JW301"), party="0363")
    await only_marker_arrives(gw)


async def test_no_credential_is_ib002_in_a_soap_fault(gw: GatewayUnderTest) -> None:
    """Without a credential the SOAP answer is a soap:Client fault whose Fo01 carries IB002."""
    headers = {"Content-Type": "text/xml"}
    envelope = in_soap(stuf(jw301(), GEMEENTE, AANBIEDER, "JW301"))
    response = await gw.clients["ggk"].post("/soap/ggk0210", content=envelope, headers=headers)
    assert (500, "IB002") == (response.status_code, answer_of(response).code)
    assert b"soap:Client" in response.content


async def test_text_file_is_stuf055(gw: GatewayUnderTest) -> None:
    """A tekstBestand is no standard message: StUF055."""
    envelope = stuf(b"x", GEMEENTE, AANBIEDER, "JW301").replace(b"xmlBestand>", b"tekstBestand>")
    envelope = envelope.replace(b"<GGK:tekstBestand>", b'<GGK:tekstBestand bestandsnaam="a.csv">')
    assert (422, "StUF055") == await code_of(gw, envelope)


async def test_not_an_envelope_is_stuf055(gw: GatewayUnderTest) -> None:
    """A bare iJw message posted to the envelope endpoint is StUF055."""
    assert (400, "StUF055") == await code_of(gw, jw301())


@pytest.fixture
async def small_gw(sqlite_url: str, e2e_broker_settings: BrokerSettings) -> AsyncIterator[GatewayUnderTest]:
    """The gateway with a 20 000 byte message limit."""
    async with gateway_under_test(sqlite_url, e2e_broker_settings, max_bytes=20_000) as found:
        yield found


async def test_too_large_is_ib007(small_gw: GatewayUnderTest) -> None:
    """A carried message above the size limit is IB007, and so is an envelope beyond what it can carry."""
    big = jw301().replace(b"<jw301:Client>", b"<jw301:Client>" + b" " * 30_000)
    assert (413, "IB007") == await code_of(small_gw, stuf(big, GEMEENTE, AANBIEDER, "JW301"))
    huge = stuf(jw301(), GEMEENTE, AANBIEDER, "JW301").replace(
        b"<GGK:parameters>", b" " * 100_000 + b"<GGK:parameters>"
    )
    assert (413, "IB007") == await code_of(small_gw, huge)
    await only_marker_arrives(small_gw)


async def test_envelope_on_the_provider_node_is_refused(gw: GatewayUnderTest) -> None:
    """The provider node has no StUF-GGk interface: 404 problem+json with IB102 (the other node serves it)."""
    headers = {**gw.auth(AANBIEDER), "Content-Type": "text/xml"}
    response = await gw.clients["vecozo"].post(
        "/stuf/ggk0210", content=stuf(jw301(), GEMEENTE, AANBIEDER, "JW301"), headers=headers
    )
    assert (404, "application/problem+json", "IB102") == (
        response.status_code,
        response.headers["content-type"],
        response.json()["code"],
    )


async def _after_a_while(lease: object) -> object:
    await asyncio.sleep(0.5)
    return await lease  # type: ignore[misc]


def test_base64_of_payload_is_kept() -> None:
    """(sanity) the helper's envelope carries the payload as base64."""
    assert base64.b64encode(b"<x/>") in stuf(b"<x/>", GEMEENTE, AANBIEDER, "JW301")
