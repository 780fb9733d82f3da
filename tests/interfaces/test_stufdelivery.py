"""Mailbox messages wrapped as Di01/Du01 for a municipality that receives StUF."""

from __future__ import annotations

from gateway.interfaces.stufdelivery import envelop, is_retour, versienr, wrapping_for
from gateway.interfaces.stufenvelope import read_envelope
from gateway.interfaces.stufschema import stuf_schema
from gateway.interfaces.xmlparse import parse_envelope
from tests.interfaces.helpers import ref

PAYLOAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<jw315:Bericht xmlns:jw315="urn:x">\xc3\xa9</jw315:Bericht>\n'
)


def headers(message: str, sender: str, afzender: str, recipient: str, ontvanger: str) -> dict[str, str]:
    return {
        "standard": "ijw",
        "release": "3.2",
        "message": message,
        "sender": sender,
        "afzender": afzender,
        "recipient": recipient,
        "ontvanger": ontvanger,
        "received-at": "2026-03-02T09:15:00.250000+00:00",
    }


HEEN = headers("JW315", "42420001", "42420001", "0384", "0384")
RETOUR = headers("JW302", "42420001", "0384", "0384", "42420001")


def test_heen_message_is_a_di01_with_the_tracking_id() -> None:
    """A heenbericht arrives as a schema-conform Di01 whose referentienummer is its tracking id."""
    tracking_id = ref()
    envelope = read_envelope(parse_envelope(envelop(wrapping_for(HEEN, tracking_id), PAYLOAD)), stuf_schema())
    assert ("Di01", tracking_id, "JW315", "42420001", "0384", "0003", "0002") == (
        envelope.kind,
        envelope.referentienummer,
        envelope.functie,
        envelope.zender.organisatie,
        envelope.ontvanger.organisatie,
        envelope.functie_versie,
        envelope.functie_subversie,
    )


def test_payload_is_byte_identical() -> None:
    """The submitted bytes are inside the envelope unchanged."""
    assert (
        PAYLOAD
        == read_envelope(parse_envelope(envelop(wrapping_for(HEEN, ref()), PAYLOAD)), stuf_schema()).payload
    )


def test_retour_is_a_du01_pointing_at_the_original() -> None:
    """A retour arrives as a Du01 whose crossRefnummer is the original's referentienummer."""
    original = ref()
    envelope = read_envelope(
        parse_envelope(envelop(wrapping_for(RETOUR, ref(), original), PAYLOAD)), stuf_schema()
    )
    assert ("Du01", original) == (envelope.kind, envelope.cross_refnummer)


def test_retour_is_told_by_its_sender() -> None:
    """A retour's sender is the header's Ontvanger, a heenbericht's its Afzender."""
    assert (False, True) == (is_retour(HEEN), is_retour(RETOUR))


def test_versienr_pads_to_four_digits() -> None:
    """Release parts become StUF version numbers."""
    assert ("0003", "0012", "0000") == (versienr("3"), versienr("12"), versienr("x"))
