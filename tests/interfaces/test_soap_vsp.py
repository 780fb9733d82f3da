"""SOAP 1.1 unwrapping and faults; the VSP routing header and its agreement with the messages."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.errors import ReferenceNotUuid, SchemaInvalid, WrongDirection
from gateway.interfaces import soap
from gateway.interfaces.errors import EnvelopeMismatch, NotAnEnvelope
from gateway.interfaces.vsp import (
    VSP_NS,
    Routering,
    Submitted,
    check_routing,
    fout,
    read_bestand,
    read_routering,
    response,
)
from gateway.interfaces.xmlparse import parse_envelope
from gateway.standard.header import Header
from tests.interfaces.helpers import SOAP11, in_soap, indienen, ref, routering, zip_of


def request(header: str, archive: bytes = b"PK") -> soap.Request:
    return soap.unwrap(parse_envelope(indienen(archive, header)))


def test_unwrap_gives_headers_and_body() -> None:
    """The routing header block and the IndienenBericht come out of the envelope."""
    found = request(routering("42420001", ["0384"], ["JW315"]))
    assert (1, f"{{{VSP_NS}}}IndienenBericht") == (len(found.headers), found.body.tag)


@pytest.mark.parametrize(
    "data",
    [
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><a/></e:Body></e:Envelope>',
        f'<e:Envelope xmlns:e="{SOAP11}"><e:Header/></e:Envelope>'.encode(),
        f'<e:Envelope xmlns:e="{SOAP11}"><e:Body><a/><b/></e:Body></e:Envelope>'.encode(),
        b"<Envelope/>",
    ],
)
def test_not_soap11_is_refused(data: bytes) -> None:
    """SOAP 1.2, no Body, two body elements, no SOAP at all."""
    with pytest.raises(NotAnEnvelope):
        soap.unwrap(parse_envelope(data))


def test_fault_round_trip() -> None:
    """A client fault carries faultcode, faultstring and the detail element."""
    detail = fout(SchemaInvalid("bad"), "vecozo", volgnummer=2)
    code, text, found = soap.read_fault(parse_envelope(soap.fault(True, "bad", detail)))
    assert ("soap:Client", "bad", "CC02", "2") == (
        code,
        text,
        found.findtext(f"{{{VSP_NS}}}Code") if found is not None else None,
        found.findtext(f"{{{VSP_NS}}}Volgnummer") if found is not None else None,
    )


def test_routering_is_read() -> None:
    """Every routing field comes out of the header block."""
    conversatie, traceer = ref(), ref()
    found = read_routering(
        request(
            routering(
                "42420001",
                ["0384", "0363"],
                ["JW315", "JW323"],
                conversatie_id=conversatie,
                traceer_id=traceer,
            )
        ).headers
    )
    assert (
        Routering(
            "Zorgaanbieder",
            "42420001",
            ("0384", "0363"),
            "JW",
            ("JW315", "JW323"),
            "3",
            "2",
            conversatie,
            traceer,
        )
        == found
    )


@pytest.mark.parametrize(
    ("field", "value"), [("traceer_id", "1"), ("conversatie_id", "9c0f7b90-5c69-11e5-a837-0800200c9a66")]
)
def test_routing_ids_not_uuid4_are_cc04(field: str, value: str) -> None:
    """TraceerId and ConversatieId must be UUID v4."""
    with pytest.raises(ReferenceNotUuid) as caught:
        read_routering(request(routering("42420001", ["0384"], ["JW315"], **{field: value})).headers)
    assert "CC04" == caught.value.code_for("vecozo")


def test_missing_field_is_cc02() -> None:
    """A routing block without Berichtsubtype is CC02 naming the field."""
    with pytest.raises(NotAnEnvelope) as caught:
        read_routering(request(routering("42420001", ["0384"], [])).headers)
    assert ("CC02", "/Envelope/Header/Routering/Berichtsubtype") == (
        caught.value.code_for("vecozo"),
        caught.value.errors[0].path,
    )


def test_other_role_is_ib234() -> None:
    """Only a Zorgaanbieder submits."""
    with pytest.raises(WrongDirection):
        read_routering(request(routering("42420001", ["0384"], ["JW315"], rol="Gemeente")).headers)


def test_bestand_is_decoded() -> None:
    """The archive comes out of vsp:Bestand byte-identical."""
    archive = zip_of([("a", b"<a/>")])
    assert archive == read_bestand(request("", archive).body)


def header(message: str, release: str = "3.2", standard: str = "ijw") -> Header:
    return Header(standard, release, message, "446", "42420001", "0384", "X1", date(2026, 3, 2))


ROUTING = Routering("Zorgaanbieder", "42420001", ("0384",), "JW", ("JW315", "JW323"), "3", "2", ref(), ref())


def test_routing_matching_the_messages_passes() -> None:
    """Routing naming exactly the two message types, the sender and the addressee passes."""
    check_routing(ROUTING, [(header("JW315"), "42420001", "0384"), (header("JW323"), "42420001", "0384")])


@pytest.mark.parametrize(
    "messages",
    [
        [(header("JW315"), "42420001", "0384")],
        [(header("JW315"), "42420001", "0384"), (header("JW323", release="3.1"), "42420001", "0384")],
        [(header("JW315"), "42420002", "0384"), (header("JW323"), "42420002", "0384")],
        [(header("JW315"), "42420001", "0363"), (header("JW323"), "42420001", "0384")],
        [(header("WMO315", standard="iwmo"), "42420001", "0384"), (header("JW323"), "42420001", "0384")],
    ],
)
def test_routing_not_matching_is_refused(messages: list[tuple[Header, str, str]]) -> None:
    """A type not present, another release, another sender, another addressee, another standard."""
    with pytest.raises(EnvelopeMismatch):
        check_routing(ROUTING, messages)


def test_response_lists_every_message() -> None:
    """The response repeats the submission's ids and names a tracking id per message."""
    element = response(
        ROUTING, [Submitted(1, "JW315", "0384", "t1", "c1"), Submitted(2, "JW323", "0384", "t2", "c2")]
    )
    body = soap.body_of(parse_envelope(soap.envelope(element)))
    assert (ROUTING.traceer_id, ["t1", "t2"]) == (
        body.findtext(f"{{{VSP_NS}}}TraceerId"),
        [e.text for e in body.iter(f"{{{VSP_NS}}}TrackingId")],
    )


def test_in_soap_helper_drops_declaration() -> None:
    """(helper) the body document's XML declaration is not repeated inside the envelope."""
    assert 1 == in_soap(b'<?xml version="1.0"?><a/>').count(b"<?xml")
