"""Bv03 and Fo01 answers: schema-conform, addressed back to the sender, carrying the chain code."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.errors import ErrorItem, SchemaInvalid, Unavailable, UnknownReceiver
from gateway.interfaces.stufanswer import Addressing, bv03_element, fo01_element, read_answer
from gateway.interfaces.stufenvelope import Stuurgegevens, Systeem, stuurgegevens_of
from gateway.interfaces.stufschema import stuf_schema
from gateway.interfaces.xmlparse import parse_envelope
from tests.interfaces.helpers import ref, stuf

NOW = datetime(2026, 3, 2, 9, 15, 1, 123000, tzinfo=UTC)


def addressing() -> Addressing:
    return Addressing.answering(
        stuurgegevens_of(parse_envelope(stuf(b"<a/>", "0384", "42420001", "JW301"))), "0384"
    )


def test_bv03_is_schema_conform_and_answers_the_sender() -> None:
    """A Bv03 swaps zender and ontvanger and points at the envelope's referentienummer."""
    referentienummer = ref()
    sg = stuurgegevens_of(
        parse_envelope(stuf(b"<a/>", "0384", "42420001", "JW301", referentienummer=referentienummer))
    )
    element = bv03_element(Addressing.answering(sg, "0384"), NOW)
    answer = read_answer(element)
    assert stuf_schema()(element)
    assert ("Bv03", "42420001", "0384", referentienummer, "20260302091501123") == (
        answer.berichtcode,
        answer.stuurgegevens.zender.organisatie if answer.stuurgegevens.zender else None,
        answer.stuurgegevens.ontvanger.organisatie if answer.stuurgegevens.ontvanger else None,
        answer.stuurgegevens.cross_refnummer,
        answer.stuurgegevens.tijdstip,
    )


def test_fo01_carries_code_plek_omschrijving_details() -> None:
    """A refused message's Fo01: its code, plek client, a Dutch description and the element path."""
    exc = SchemaInvalid("x", errors=[ErrorItem("StUF055", "not valid", line=12, path="/Bericht/Client/Bsn")])
    element = fo01_element(exc, "ggk", addressing(), NOW)
    answer = read_answer(element)
    assert stuf_schema()(element)
    assert ("StUF055", "client", "Het bericht is niet conform het XSD-schema.") == (
        answer.code,
        answer.plek,
        answer.omschrijving,
    )
    assert "regel 12 /Bericht/Client/Bsn" in (answer.details or "")


def test_transient_fault_is_plek_server() -> None:
    """A broker that is down is the server's fault (IB103)."""
    answer = read_answer(fo01_element(Unavailable(), "ggk", addressing(), NOW))
    assert ("IB103", "server") == (answer.code, answer.plek)


def test_fo01_details_are_capped_at_the_schema_length() -> None:
    """Many errors still fit the 1000 characters of details, and the Fo01 stays schema-conform."""
    errors = [ErrorItem("StUF055", "x" * 80, line=i, path="/Bericht/Client") for i in range(50)]
    element = fo01_element(SchemaInvalid("many", errors=errors), "ggk", addressing(), NOW)
    assert stuf_schema()(element)
    assert 1000 >= len(read_answer(element).details or "")


def test_unreadable_envelope_is_answered_to_the_caller() -> None:
    """Without readable stuurgegevens the GGk answers the authenticated party."""
    to = Addressing.answering(Stuurgegevens(), "0384")
    element = fo01_element(UnknownReceiver(), "ggk", to, NOW)
    assert stuf_schema()(element)
    assert (Systeem("GGK", "GGk"), Systeem("0384", "onbekend"), "") == (
        to.zender,
        to.ontvanger,
        to.cross_refnummer,
    )


def test_odd_values_are_not_echoed() -> None:
    """A referentienummer or organisation with markup-like content is not repeated in the answer."""
    sg = Stuurgegevens(zender=Systeem("<b>&", "App"), referentienummer="a b c")
    to = Addressing.answering(sg, "0384")
    assert ("0384", "") == (to.ontvanger.organisatie, to.cross_refnummer)
