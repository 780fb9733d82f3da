"""The simulator's own templates and answering rules, without a broker: every message it can build is
schema-conform, and each received message gets the answers the standard's exchange prescribes."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.simulate import templates as t
from gateway.simulate.cases import Cases, bsn_ok
from gateway.simulate.reading import read
from gateway.simulate.responder import Policy, Responder
from gateway.simulate.traffic import Faults, Traffic
from tests.harness import shared_engine

G, A = "0384", "42420001"
DAY = date(2025, 3, 4)
LAST = date(2025, 2, 28)  # a day of the month before DAY: a 323 declares a month that has ended (TR137)
STANDARDS = ["ijw", "iwmo"]


def built(standard: str) -> dict[str, bytes]:
    c = Cases(1, today=DAY)
    client = c.client()
    out = {
        "301": t.toewijzing(standard, c.head(G, A), client, 1, DAY, "R1"),
        "305": t.start_zorg(standard, c.head(A, G), client, 1, DAY),
        "307": t.stop_zorg(standard, c.head(A, G), client, 1, DAY, DAY),
        "315": t.verzoek_toewijzing(standard, c.head(A, G), client, "R1", DAY),
        "317": t.verzoek_wijziging(standard, c.head(A, G), client, "R2", 1, DAY),
        "319": t.antwoord(standard, c.head(G, A), "R1", False),
        "323": t.declaratie(
            standard, c.head(A, G), client, "D1", (t.Prestatie("P1", 1, LAST, LAST, 2, 100),)
        ),
        "325": t.declaratie_antwoord(standard, c.head(G, A), t.Declared("x1", DAY, "D1", 100)),
        "325-0001": t.declaratie_antwoord(
            standard, c.head(G, A), t.Declared("x1", DAY, "D1", 100), t.REJECTED
        ),
    }
    for heen, number in t.RETOUR_OF.items():
        head = c.head(G, A) if heen in ("301", "319") else c.head(A, G)
        for code in (t.ACCEPTED, t.REJECTED):
            out[f"{number}-{code}"] = t.retour(standard, head, number, "r1", DAY, code)
    return out


@pytest.mark.parametrize("standard", STANDARDS)
def test_every_template_is_schema_conform(standard: str) -> None:
    """All 14 message types and both retour codes validate against the project's XSDs and keep the
    content rules of their standard."""
    engine = shared_engine()
    invalid = {name: [e.path for e in engine.verdict(data).errors] for name, data in built(standard).items()}
    assert {} == {name: paths for name, paths in invalid.items() if paths}


def test_bsns_pass_or_fail_the_eleven_test_as_asked() -> None:
    """Cases make BSNs that pass the eleven-test, and on request ones that fail it."""
    c = Cases(2)
    assert ([True] * 20, [False] * 20) == (
        [bsn_ok(c.bsn()) for _ in range(20)],
        [bsn_ok(c.bsn(False)) for _ in range(20)],
    )


def answers(code: str, data: bytes, grant: float = 1.0) -> list[tuple[str, tuple[str, ...]]]:
    found = Responder(code, Cases(3, today=DAY), Policy(grant)).answer(read(data))
    return [(a.name, read(a.data).retour_codes) for a in found]


@pytest.mark.parametrize(
    ("number", "receiver", "grant", "expected"),
    [
        ("315", G, 1.0, [("316", ("0200",)), ("301", ())]),
        ("315", G, 0.0, [("316", ("0200",)), ("319", ())]),
        ("305", G, 1.0, [("306", ("0200",))]),
        ("307", G, 1.0, [("308", ("0200",))]),
        ("317", G, 1.0, [("318", ("0200",)), ("319", ())]),
        ("323", G, 1.0, [("325", ("0200",))]),
        ("301", A, 1.0, [("302", ("0200",))]),
        ("319", A, 1.0, [("320", ("0200",))]),
        ("325", A, 1.0, []),
        ("316-0200", A, 1.0, []),
    ],
)
def test_each_message_gets_its_answers(
    number: str, receiver: str, grant: float, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    """The simulated software answers as the standard's exchange prescribes (header-only retour: 0200)."""
    got = answers(receiver, built("iwmo")[number], grant)
    assert [("WMO" + n, codes) for n, codes in expected] == got


def test_content_error_gets_0001_and_nothing_more() -> None:
    """A 315 whose BSN fails the eleven-test is answered only with a 316 carrying RetourCode 0001."""
    c = Cases(4, today=DAY)
    data = t.verzoek_toewijzing("ijw", c.head(A, G), c.client(valid=False), "R1", DAY)
    assert [("JW316", ("0001",))] == answers(G, data)


def test_traffic_mix_is_valid_except_the_deliberate_faults() -> None:
    """Messages from the generator are valid unless marked as not schema-conform or as a content error (a
    BSN that fails the eleven-test: refused naming CS002)."""
    traffic = Traffic(
        {}, [G], [A], cases=Cases(5, today=DAY), faults=Faults(schema=0.2, inactive=0.1, content=0.1)
    )
    engine = shared_engine()
    wrong = []
    for _ in range(200):
        _, label, data = traffic.next_message()
        verdict = engine.verdict(data)
        if verdict.valid == ("not schema-conform" in label or "content error" in label) or (
            "content error" in label
            and "not schema-conform" not in label
            and verdict.errors[0].rule != "CS002"
        ):
            wrong.append(label)
    assert [] == wrong
