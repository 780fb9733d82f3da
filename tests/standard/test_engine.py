"""Engine: classification, header value, IB240 next to schema errors, the error cap, threads."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date

import pytest
from lxml import etree

from gateway.errors import CodeMismatch, ErrorItem, NotStandardMessage, ReleaseNotSupported, SchemaInvalid
from gateway.standard import safexml
from gateway.standard.engine import Engine
from gateway.standard.header import Header

from .conftest import FIXTURES, REJECTIONS

JW319 = (REJECTIONS / "accepted" / "jw319-antwoord.xml").read_bytes()
JW302 = (REJECTIONS / "accepted" / "jw302-retour-header-only.xml").read_bytes()
WMO319 = (REJECTIONS / "accepted" / "wmo319-default-namespace.xml").read_bytes()
WMO325 = (FIXTURES / "iwmo-retours" / "WMO325.xml").read_bytes()


def test_header_of_a_message() -> None:
    """A valid JW319 gives its header: parties, id, date, and the ReferentieAanbieder it answers."""
    expected = Header(
        standard="ijw",
        release="3.2",
        message="JW319",
        code="488",
        afzender="0599",
        ontvanger="12345678",
        identificatie="GEM-0001",
        dagtekening=date(2025, 3, 14),
        referenties_aanbieder=("REF-77",),
    )
    assert Engine.load().check(JW319) == expected


def test_header_of_a_retour(engine: Engine) -> None:
    """A retour carries the answered message's id and date plus its own IdentificatieRetour/Dagtekening."""
    header = engine.check(JW302)
    assert (
        header.identificatie,
        header.dagtekening,
        header.identificatie_retour,
        header.dagtekening_retour,
    ) == (
        "TW-2025-001",
        date(2025, 2, 1),
        "RET-17",
        date(2025, 2, 2),
    )


def test_retour_reference_is_its_own_id(engine: Engine) -> None:
    """A retour's reference (the sender's own id) is its IdentificatieRetour."""
    header = engine.check(JW302)
    assert (header.is_retour, header.reference) == (True, "RET-17")


def test_declaratie_antwoord_names_the_declaratie(engine: Engine) -> None:
    """A 325 carries the DeclaratieIdentificatie of the 323 it answers."""
    assert engine.check(WMO325).declaratie_identificatie == "765432198"


def test_default_namespace_message(engine: Engine) -> None:
    """A message using a default namespace (no prefix) is classified and read like any other."""
    header = engine.check(WMO319)
    assert (header.message, header.code, header.afzender, header.referenties_aanbieder) == (
        "WMO319",
        "482",
        "1680",
        ("AANVRAAG-9",),
    )


def test_classify_names_the_message_type(engine: Engine) -> None:
    """classify() maps a parsed root to its catalogue entry (direction and retour included)."""
    message = engine.classify(safexml.parse(JW302))
    assert (message.name, message.sender, message.retour, message.answers) == (
        "JW302",
        "aanbieder",
        True,
        "JW301",
    )


def test_check_tree_matches_check(engine: Engine) -> None:
    """check_tree() on an already parsed root gives the same header as check() on the bytes."""
    assert engine.check_tree(safexml.parse(JW319)) == engine.check(JW319)


def test_unknown_release_of_known_standard(engine: Engine) -> None:
    """A known standard in a release that is not installed is 'release not supported'."""
    with pytest.raises(ReleaseNotSupported) as caught:
        engine.check(JW319.replace(b"ijw/3_2/jw319", b"ijw/3_0/jw319"))
    assert caught.value.detail == "Release 3.0 of ijw is not supported by this node (installed: 3.2)"


def test_unknown_standard_is_not_a_standard_message(engine: Engine) -> None:
    """A namespace that looks like iStandaarden but names an unknown standard is not a standard message."""
    with pytest.raises(NotStandardMessage):
        engine.check(JW319.replace(b"/ijw/3_2/jw319/", b"/ijx/3_2/jw319/"))


def test_wrong_code_gives_ib240_with_schema_error(engine: Engine) -> None:
    """A BerichtCode of another message gives IB240 at the BerichtCode plus the schema's pattern error."""
    with pytest.raises(CodeMismatch) as caught:
        engine.check(JW319.replace(b"<jw319:BerichtCode>488<", b"<jw319:BerichtCode>436<"))
    assert [(e.code, e.path) for e in caught.value.errors] == [
        ("IB240", "/Bericht/Header/BerichtCode"),
        ("StUF055", "/Bericht/Header/BerichtCode"),
    ]


def test_ib240_text_names_expected_code_not_sent_one(engine: Engine) -> None:
    """The IB240 text names the expected code, never the value the sender wrote."""
    with pytest.raises(CodeMismatch) as caught:
        engine.check(JW319.replace(b"<jw319:BerichtCode>488<", b"<jw319:BerichtCode>999<"))
    assert (
        caught.value.errors[0].text
        == "BerichtCode does not match the message JW319 of ijw 3.2 (expected 488)"
    )


def test_code_mismatch_wire_codes() -> None:
    """IB240 on the municipal side, CC02 on the provider side, HTTP 422."""
    assert (CodeMismatch.code, CodeMismatch.vecozo_code, CodeMismatch.status) == ("IB240", "CC02", 422)


def test_all_schema_errors_are_reported(engine: Engine) -> None:
    """Two independent faults give two schema errors (validation does not stop at the first)."""
    data = JW319.replace(b"<jw319:Afzender>0599<", b"<jw319:Afzender>599<").replace(
        b"<jw319:VerzoekAntwoord>2<", b"<jw319:VerzoekAntwoord>9<"
    )
    with pytest.raises(SchemaInvalid) as caught:
        engine.check(data)
    assert sorted({e.path for e in caught.value.errors}) == [
        "/Bericht/Antwoord/VerzoekAntwoord",
        "/Bericht/Header/Afzender",
    ]


def test_errors_are_capped_at_fifty(engine: Engine) -> None:
    """A message with hundreds of faults reports at most 50 and says how many there were."""
    junk = b"".join(b"<jw319:Onbekend%d/>" % i for i in range(300))
    data = JW319.replace(b"<jw319:VerzoekAntwoord>", junk + b"<jw319:VerzoekAntwoord>")
    with pytest.raises(SchemaInvalid) as caught:
        engine.check(data)
    assert len(caught.value.errors) <= 50


def test_verdict_of_valid_message(engine: Engine) -> None:
    """verdict() reports a valid message with its type and no errors."""
    verdict = engine.verdict(JW319)
    assert (verdict.valid, str(verdict.message), verdict.errors) == (True, "ijw 3.2 JW319", ())


def test_verdict_keeps_the_type_of_an_invalid_message(engine: Engine) -> None:
    """verdict() of a classified but invalid message names its type and the reason."""
    verdict = engine.verdict(JW319.replace(b"0599", b"599"))
    assert (verdict.valid, str(verdict.message), verdict.rejection and verdict.rejection.reason) == (
        False,
        "ijw 3.2 JW319",
        "schema",
    )


def test_rejection_repr_shows_no_payload(engine: Engine) -> None:
    """A rejection's repr shows its code and error count only."""
    verdict = engine.verdict(JW319.replace(b"0599", b"599"))
    assert repr(verdict.rejection) == "SchemaInvalid(code='StUF055', errors=1)"


def test_threads_keep_their_own_errors(engine: Engine) -> None:
    """Validating from several threads at once, each message gets exactly its own errors."""
    faults = {
        "/Bericht/Header/Afzender": JW319.replace(b"<jw319:Afzender>0599<", b"<jw319:Afzender>599<"),
        "/Bericht/Header/Ontvanger": JW319.replace(b"<jw319:Ontvanger>12345678<", b"<jw319:Ontvanger>1<"),
        "/Bericht/Antwoord/VerzoekAntwoord": JW319.replace(b"Antwoord>2<", b"Antwoord>5<"),
        None: JW319,
    }
    wrong: list[object] = []
    barrier = threading.Barrier(len(faults))

    def run(expected: str | None, data: bytes) -> None:
        barrier.wait()
        for _ in range(200):
            paths = {e.path for e in engine.verdict(data).errors}
            if paths != ({expected} if expected else set()):
                wrong.append((expected, paths))

    threads = [threading.Thread(target=run, args=item) for item in faults.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_project_covers_every_catalogued_message(engine: Engine) -> None:
    """The project's schemas install every message of the catalogue (iJw 3.2 and iWmo 3.2, 14 each)."""
    assert sorted(m.name for m in engine.catalog) == sorted(m.name for m in engine.messages)


def test_check_tree_of_a_foreign_parse_with_comments(engine: Engine) -> None:
    """check_tree() on a tree parsed elsewhere (comments kept) finds the header fields by name."""
    data = JW302.replace(b"<r:Afzender>", b"<!-- c --><r:Afzender>").replace(
        b"<r:Header>", b"<r:Header><?p?>"
    )
    header = engine.check_tree(etree.fromstring(data))
    assert (header.afzender, header.identificatie_retour) == ("0599", "RET-17")


def test_header_of_is_the_dataclass_value_field_for_field() -> None:
    """Header.of and with_findings build what the frozen dataclass's own __init__ and replace() build."""
    values = ("iJw", "3.2", "JW301", "414", "1", "2", "id", date(2026, 1, 2), "r", None, ("a",), "d", ("9",))
    made, expected = Header.of(*values), Header(*values)
    findings = (ErrorItem("BRS28", "text", 3, "/Bericht", "TR001", "0001"),)
    later = made.with_findings(findings)
    assert type(made) is Header and type(later) is Header
    for name in Header.__slots__:
        assert getattr(made, name) == getattr(expected, name)
        assert getattr(later, name) == getattr(dataclasses.replace(expected, findings=findings), name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.afzender = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        Header.of(*values[:-1])
