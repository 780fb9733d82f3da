"""Several releases side by side: a 3.1 installed next to 3.2 (during a release change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import CodeMismatch, ReleaseNotSupported
from gateway.standard import safexml
from gateway.standard.engine import Engine
from gateway.standard.registry import SchemaRegistry

from .conftest import REJECTIONS, ROOT
from .releases import as_release, fake_release

JW319 = (REJECTIONS / "accepted" / "jw319-antwoord.xml").read_bytes()
JW302 = (REJECTIONS / "accepted" / "jw302-retour-header-only.xml").read_bytes()


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The project's schemas plus a fake iJw 3.1 in which JW319 has BerichtCode 588."""
    extra = fake_release(tmp_path_factory.mktemp("schemas") / "ijw" / "3_1", "1", {"jw319": "588"})
    return Engine.load([ROOT / "schemas", extra.parent.parent])


def test_both_releases_are_installed(both: Engine) -> None:
    """The registry indexes 3.1 beside 3.2."""
    assert sorted(r for s, r in both.registry.releases if s == "ijw") == ["3.1", "3.2"]


def test_message_of_the_new_release_is_checked_against_its_own_schema(both: Engine) -> None:
    """A 3.1 JW319 is classified as release 3.1 and validated with its own BerichtCode (from the XSD)."""
    header = both.check(as_release(JW319, "1", "588"))
    assert (header.release, header.message, header.code) == ("3.1", "JW319", "588")


def test_uncatalogued_release_borrows_direction_rules(both: Engine) -> None:
    """The catalogue lacks 3.1; its JW302 borrows sender and retour facts from 3.2's JW302."""
    message = both.classify(safexml.parse(as_release(JW302, "1")))
    assert (message.release, message.code, message.sender, message.retour, message.answers) == (
        "3.1",
        "437",
        "aanbieder",
        True,
        "JW301",
    )


def test_old_code_in_new_release_is_ib240(both: Engine) -> None:
    """The 3.2 BerichtCode in a 3.1 JW319 (588 there) is a code mismatch."""
    with pytest.raises(CodeMismatch):
        both.check(as_release(JW319, "1"))


def test_new_release_unknown_without_its_schemas(engine: Engine) -> None:
    """Without the 3.1 files installed, a 3.1 message is 'release not supported'."""
    with pytest.raises(ReleaseNotSupported):
        engine.check(as_release(JW319, "1"))


def test_first_directory_wins_for_a_namespace(tmp_path: Path) -> None:
    """The same namespace in two directories: the first one's file is used, the other is listed as shadowed."""
    first = fake_release(tmp_path / "a", "1")
    second = fake_release(tmp_path / "b", "1")
    registry = SchemaRegistry.from_dirs([first, second])
    found = registry.message("http://www.istandaarden.nl/ijw/3_1/jw319/schema")
    assert (found and found.path.parent, len(registry.shadowed)) == (first, 14)


def test_schema_without_pinned_code_still_gets_ib240(tmp_path: Path) -> None:
    """Where a schema does not pin the BerichtCode, a valid message with another code is still IB240."""
    release = fake_release(tmp_path / "ijw" / "3_1", "1")
    xsd = release / "jw319.xsd"
    xsd.write_text(xsd.read_text(encoding="utf-8").replace('<xs:pattern value="488"/>', ""), encoding="utf-8")
    engine = Engine.load([tmp_path])
    with pytest.raises(CodeMismatch) as caught:
        engine.check(as_release(JW319, "1", "436"))
    assert [(e.code, e.path) for e in caught.value.errors] == [("IB240", "/Bericht/Header/BerichtCode")]
