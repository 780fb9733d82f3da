"""The envelope rules that need the registry and the catalogue."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.errors import NotStandardMessage, Rejection, UnknownReceiver, UnknownSender, WrongDirection
from gateway.interfaces.errors import EnvelopeMismatch
from gateway.interfaces.stufcheck import check_envelope, expectation, functies
from gateway.interfaces.stufenvelope import Envelope, read_envelope
from gateway.interfaces.stufschema import stuf_schema
from gateway.interfaces.xmlparse import parse_envelope
from gateway.ports import Participant
from gateway.standard.catalog import Catalog
from gateway.standard.header import Header
from gateway.standard.registry import REPO_SCHEMA_DIR
from tests.interfaces.helpers import ref, stuf

TODAY = date(2026, 3, 2)
GEMEENTE = Participant("0384", "gemeente", "Diemen", "ggk", date(2015, 1, 1))
AANBIEDER = Participant("42420001", "aanbieder", "De Linde", "vecozo", date(2015, 1, 1))
RETIRED = Participant("42420005", "aanbieder", "Het Anker", "vecozo", date(2015, 1, 1), date(2023, 6, 30))
KNOWN = functies(Catalog.load(REPO_SCHEMA_DIR / "catalog.toml"))


def envelope(functie: str = "JW301", kind: str = "Di01", tekst: bool = False) -> Envelope:
    data = stuf(b"<a/>", "0384", "42420001", functie, kind=kind, cross_refnummer=ref())
    if tekst:
        data = data.replace(b"<GGK:xmlBestand>", b'<GGK:tekstBestand bestandsnaam="a.csv">')
        data = data.replace(b"</GGK:xmlBestand>", b"</GGK:tekstBestand>")
    return read_envelope(parse_envelope(data), stuf_schema())


def refusal(
    env: Envelope, zender: Participant | None = GEMEENTE, ontvanger: Participant | None = AANBIEDER
) -> type[Rejection] | None:
    try:
        check_envelope(env, zender, ontvanger, KNOWN, TODAY)
    except Rejection as exc:
        return type(exc)
    return None


def test_valid_envelope_names_its_kind() -> None:
    """A municipality's Di01 with functie JW301 passes and names the catalogue entry."""
    assert "JW301" == check_envelope(envelope(), GEMEENTE, AANBIEDER, KNOWN, TODAY).name


@pytest.mark.parametrize(
    ("env_args", "zender", "ontvanger", "expected"),
    [
        ({}, None, AANBIEDER, UnknownSender),
        ({}, GEMEENTE, None, UnknownReceiver),
        ({}, GEMEENTE, RETIRED, UnknownReceiver),
        ({"functie": "JW315"}, GEMEENTE, AANBIEDER, WrongDirection),
        ({"functie": "Dummy"}, GEMEENTE, AANBIEDER, WrongDirection),
        ({"functie": "JW316"}, GEMEENTE, AANBIEDER, WrongDirection),
        ({"functie": "JW301", "kind": "Du01"}, GEMEENTE, AANBIEDER, WrongDirection),
        ({"tekst": True}, GEMEENTE, AANBIEDER, NotStandardMessage),
    ],
)
def test_refusals(
    env_args: dict[str, object],
    zender: Participant | None,
    ontvanger: Participant | None,
    expected: type[Rejection],
) -> None:
    """IB213, IB210, IB234 (wrong sender kind, unknown functie, retour in Di01, heen in Du01), StUF055."""
    assert expected is refusal(envelope(**env_args), zender, ontvanger)  # type: ignore[arg-type]


def header(message: str, afzender: str = "0384", ontvanger: str = "42420001") -> Header:
    return Header("ijw", "3.2", message, "436", afzender, ontvanger, "X1", TODAY)


def test_expectation_accepts_the_matching_message() -> None:
    """The carried JW301 from 0384 to 42420001 matches its envelope."""
    expectation(envelope())(header("JW301"), KNOWN["JW301"])


def test_expectation_refuses_another_message_with_ib240() -> None:
    """Functie JW301 carrying a JW319 is IB240."""
    with pytest.raises(EnvelopeMismatch) as caught:
        expectation(envelope())(header("JW319"), KNOWN["JW319"])
    assert "IB240" == caught.value.code


def test_expectation_refuses_other_parties() -> None:
    """An envelope from 0384 carrying 0363's message is IB240."""
    with pytest.raises(EnvelopeMismatch):
        expectation(envelope())(header("JW301", afzender="0363"), KNOWN["JW301"])
