"""The hostile corpus: every attack is refused with its own reason, quickly, and nothing reaches the network.

Small attacks live in tests/fixtures/hostile/<reason>/; the large ones are generated here."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import Rejection
from gateway.standard import safexml
from gateway.standard.engine import Engine

from .conftest import HOSTILE, REJECTIONS, NetworkGuard

CORPUS = sorted(HOSTILE.glob("*/*.xml"))
BASE = (REJECTIONS / "accepted" / "jw319-antwoord.xml").read_bytes()
BODY = BASE.split(b"-->\n", 1)[1]
DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def refusal(engine: Engine, data: bytes) -> Rejection:
    with pytest.raises(Rejection) as caught:
        engine.check(data)
    return caught.value


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_is_refused_for_its_reason(engine: Engine, no_network: NetworkGuard, path: Path) -> None:
    """Each hostile fixture is refused with the reason its folder names."""
    assert path.parent.name == refusal(engine, no_network.fill(path.read_bytes())).reason


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_attempts_no_network(engine: Engine, no_network: NetworkGuard, path: Path) -> None:
    """Refusing a hostile fixture opens no connection (to the local listener or through Python)."""
    refusal(engine, no_network.fill(path.read_bytes()))
    assert no_network.connections() == 0


def test_safe_parse_alone_refuses_entities(no_network: NetworkGuard) -> None:
    """The parser itself (not only the engine) refuses the external entity of the XXE fixture."""
    data = no_network.fill((HOSTILE / "unsafe-xml" / "xxe-url.xml").read_bytes())
    with pytest.raises(Rejection) as caught:
        safexml.parse(data)
    assert (caught.value.reason, no_network.connections()) == ("unsafe-xml", 0)


def test_quadratic_blowup_is_refused(engine: Engine) -> None:
    """One large entity referenced many times (quadratic blow-up) is refused as unsafe, not expanded."""
    entity = b"x" * 100_000
    data = (
        DECL
        + b'<!DOCTYPE jw319:Bericht [<!ENTITY big "'
        + entity
        + b'">]>\n'
        + BODY.replace(b"REF-77", b"&big;" * 20_000)
    )
    assert refusal(engine, data).reason == "unsafe-xml"


def test_hundred_thousand_deep_nesting_is_refused(engine: Engine) -> None:
    """100,000 nested elements are refused as too deep (libxml2 stops at 256 levels)."""
    data = b"<a>" * 100_000 + b"</a>" * 100_000
    assert refusal(engine, data).reason == "too-deep"


def test_nesting_beyond_the_limit_is_refused(engine: Engine) -> None:
    """A well-formed message nested 100 levels deep (below libxml2's cap) is refused as too deep."""
    deep = b"<jw319:X>" * 100 + b"</jw319:X>" * 100
    data = BASE.replace(b"<jw319:VerzoekAntwoord>2", deep + b"<jw319:VerzoekAntwoord>2")
    assert refusal(engine, data).reason == "too-deep"


def test_nesting_in_an_unknown_namespace_is_refused_as_too_deep(engine: Engine) -> None:
    """Depth is the reason given even when the message would also not be a standard message."""
    data = b'<a xmlns="urn:example:x">' + b"<a>" * 100 + b"</a>" * 101
    assert refusal(engine, data).reason == "too-deep"


def test_thirty_megabytes_are_refused_before_parsing(engine: Engine) -> None:
    """A 30 MB message is refused as too large (IB007 / CC03) without being parsed."""
    padding = b"<!--" + b"p" * (30 * 1024 * 1024) + b"-->"
    error = refusal(engine, DECL + padding + BODY)
    assert (
        error.reason,
        error.code,
        error.code_for("vecozo"),
        error.status,
    ) == ("too-large", "IB007", "CC03", 413)


def test_huge_text_node_is_refused_not_stored(engine: Engine) -> None:
    """A single text node above libxml2's 10 MB limit (huge_tree off) is refused, not parsed."""
    data = BASE.replace(b"REF-77", b"R" * (11 * 1024 * 1024))
    assert refusal(engine, data).reason == "not-well-formed"


def test_limit_is_configurable(engine: Engine) -> None:
    """A smaller max_bytes refuses a normal message as too large."""
    small = Engine(engine.registry, engine.catalog, safexml.Limits(max_bytes=100))
    assert refusal(small, BASE).reason == "too-large"


def test_refusal_texts_name_the_reason_not_the_payload(engine: Engine, no_network: NetworkGuard) -> None:
    """No refusal text of the corpus repeats a value from the message."""
    texts = [
        " ".join(i.text for i in refusal(engine, no_network.fill(p.read_bytes())).errors) for p in CORPUS
    ]
    assert [t for t in texts if "REF-77" in t or "GEM-0001" in t or "CAF" in t or "passwd" in t] == []
