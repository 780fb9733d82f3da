"""Reading StUF-GGk ggk0210 envelopes: the official examples, the fixtures and each refusal."""

from __future__ import annotations

import pytest

from gateway.errors import NotWellFormed, ReferenceNotUuid, SchemaInvalid, TooDeep, UnsafeXml
from gateway.interfaces.errors import NotAnEnvelope
from gateway.interfaces.stufanswer import read_answer
from gateway.interfaces.stufenvelope import Envelope, decode_base64, parse_tijdstip, read_envelope
from gateway.interfaces.stufschema import stuf_schema
from gateway.interfaces.xmlparse import parse_envelope
from tests.interfaces.helpers import stuf
from tests.messages import FIXTURES, SHARED

OFFICIAL = SHARED / "ggk-stuf-envelop" / "examples"
OFFICIAL_ENVELOPES = [
    "envelopHeenbericht-ggk_Di01_v21-tekst.xml",
    "envelopHeenbericht-ggk_Di01_v21-xml.xml",
    "envelopRetourbericht-ggk_Du01-v21.xml",
]


def read(data: bytes) -> Envelope:
    return read_envelope(parse_envelope(data), stuf_schema())


def official(name: str) -> bytes:
    path = OFFICIAL / name
    if not path.exists():
        pytest.skip("../shared/istandaarden is absent")
    return path.read_bytes()


@pytest.mark.shared
@pytest.mark.parametrize("name", OFFICIAL_ENVELOPES)
def test_official_envelopes_are_accepted(name: str) -> None:
    """Each official Di01/Du01 example passes the envelope parser (their payloads are placeholders)."""
    envelope = read(official(name))
    assert envelope.kind == ("Du01" if "Du01" in name else "Di01")


@pytest.mark.shared
def test_official_du01_points_at_its_di01() -> None:
    """The official Du01's crossRefnummer is the official Di01's referentienummer."""
    di01 = read(official(OFFICIAL_ENVELOPES[1]))
    du01 = read(official(OFFICIAL_ENVELOPES[2]))
    assert di01.referentienummer == du01.cross_refnummer


@pytest.mark.shared
def test_official_fo01_is_schema_conform_and_readable() -> None:
    """The official Fo01 example validates against the project's schema and reads as an IB210."""
    root = parse_envelope(official("Fo01.xml"))
    assert stuf_schema()(root)
    assert ("Fo01", "IB210", "client") == (
        read_answer(root).berichtcode,
        read_answer(root).code,
        read_answer(root).plek,
    )


@pytest.mark.parametrize("name", ["Di01-JW301.xml", "Du01-JW302.xml"])
def test_fixture_envelopes_carry_a_standard_message(name: str) -> None:
    """The project's fixture envelopes decode to an iJw message."""
    envelope = read((FIXTURES / "stuf" / name).read_bytes())
    assert envelope.payload.startswith(b"<?xml") and b"istandaarden.nl/ijw/3_2" in envelope.payload


def test_payload_is_decoded_byte_identical() -> None:
    """The payload comes out exactly as it went in."""
    payload = b"<?xml version='1.0'?>\n<a>\xc3\xa9</a>\n"
    assert payload == read(stuf(payload, "0384", "42420001", "JW301")).payload


def test_reference_v1_is_ib009() -> None:
    """A UUID version 1 referentienummer is IB009, not the schema's StUF055."""
    with pytest.raises(ReferenceNotUuid) as caught:
        read(
            stuf(
                b"<a/>", "0384", "42420001", "JW301", referentienummer="9c0f7b90-5c69-11e5-a837-0800200c9a66"
            )
        )
    assert ("IB009", "/envelopHeenbericht-ggk_Di01/stuurgegevens/referentienummer") == (
        caught.value.code,
        caught.value.errors[0].path,
    )


def test_cross_reference_not_uuid4_is_ib009() -> None:
    """A Du01 whose crossRefnummer is no UUID v4 is IB009."""
    with pytest.raises(ReferenceNotUuid):
        read(stuf(b"<a/>", "0384", "42420001", "JW316", kind="Du01", cross_refnummer="X-1"))


def test_missing_functie_is_stuf055_with_path() -> None:
    """An envelope without functie is not schema-conform: StUF055 naming the place."""
    data = stuf(b"<a/>", "0384", "42420001", "JW301").replace(b"<StUF:functie>JW301</StUF:functie>", b"")
    with pytest.raises(SchemaInvalid) as caught:
        read(data)
    assert "StUF055" == caught.value.code
    assert any("stuurgegevens" in (e.path or "") for e in caught.value.errors)


def test_impossible_tijdstip_is_stuf055() -> None:
    """30 February is refused although it matches the pattern."""
    with pytest.raises(SchemaInvalid):
        read(stuf(b"<a/>", "0384", "42420001", "JW301", tijdstip="20260230"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20260302", (2026, 3, 2, 0, 0)),
        ("20260302091500", (2026, 3, 2, 9, 15)),
        ("20260302091500123", (2026, 3, 2, 9, 15)),
    ],
)
def test_tijdstip_lengths(value: str, expected: tuple[int, ...]) -> None:
    """yyyymmdd with optional hours, minutes, seconds and milliseconds."""
    moment = parse_tijdstip(value)
    assert moment is not None and expected == (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
    )


@pytest.mark.parametrize("value", ["202603021", "2026030209150", "20261301", "abcdefgh"])
def test_tijdstip_refused(value: str) -> None:
    """Odd lengths and impossible dates are no moment."""
    assert parse_tijdstip(value) is None


def test_base64_with_line_breaks_is_accepted() -> None:
    """xs:base64Binary allows whitespace; strict decoding allows exactly that."""
    assert b"hello world" == decode_base64("aGVsbG8g\n d29ybGQ=\r\n")


@pytest.mark.parametrize("text", ["aGVsbG8=d29ybGQ=", "aGVsbG8*", "aGVsbG8", "é"])
def test_non_base64_is_refused(text: str) -> None:
    """Padding in the middle, foreign characters, wrong length: not base64."""
    assert decode_base64(text) is None


def test_non_base64_payload_is_stuf055() -> None:
    """An xmlBestand that the schema lets pass but is not strict base64 is StUF055."""
    with pytest.raises(SchemaInvalid):
        read(stuf(b"", "0384", "42420001", "JW301", content="PD94=bWwg"))


def test_other_root_is_not_an_envelope() -> None:
    """A bare message is not an envelope."""
    with pytest.raises(NotAnEnvelope):
        read(b"<Bericht xmlns='urn:x'/>")


def test_doctype_is_refused() -> None:
    """Envelopes get the same XML defences as messages: no DOCTYPE."""
    with pytest.raises(UnsafeXml):
        parse_envelope(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')


def test_payload_above_libxml2_text_limit_is_read() -> None:
    """A base64 payload larger than libxml2's 10 MB text node limit still parses."""
    payload = b"<a>" + b"x" * 9_000_000 + b"</a>"
    assert len(payload) == read(stuf(payload, "0384", "42420001", "JW301")).size


def test_deep_envelope_is_refused() -> None:
    """Nesting beyond the envelope depth bound is refused after the huge-tree parse."""
    with pytest.raises(TooDeep):
        parse_envelope(b"<a>" * 40 + b"</a>" * 40)


def test_empty_is_not_well_formed() -> None:
    """An empty body is refused as not well-formed."""
    with pytest.raises(NotWellFormed):
        parse_envelope(b"  ")
