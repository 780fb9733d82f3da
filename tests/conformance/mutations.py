"""Deterministic mutations of the official example messages, for the differential conformance test.

Each :class:`Mutation` is one small change to one example (drop an element, an impossible date, a 3-digit
gemeentecode, another release's namespace ...), named by an id such as ``JW301:drop:/Bericht/Client/Bsn``.
The generator knows nothing about the schemas: it changes the examples by the shape of what is there
(dates, digit strings, short codes, free text, structure, namespaces), and the oracle decides what is valid.
Many mutations are still valid (an optional element dropped, whitespace around an integer, a leap day), so
both verdicts occur.

``generate`` first lists every candidate, then takes a stratified, seeded sample: round-robin over
(kind, example) buckets, each shuffled with the seed, so every kind of change is represented and the same
seed always gives the same list.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .candidates import Candidate, element_candidates
from .wholedoc import document_candidates, header_candidates, with_schema_location

DEFAULT_SEED = 20260401
DEFAULT_TARGET = 1500

# The cases the issue names, always in the set whatever the seed: whitespace around a gemeentecode, a
# 3-digit gemeentecode, a 7- and a 9-digit AGB-code, impossible dates, a wrong BerichtCode, other releases.
ALWAYS = frozenset(
    f"{example}:{change}"
    for example in ("JW301", "WMO301")
    for change in (
        "ws=space:/Bericht/Header/Afzender",
        "ws=tab:/Bericht/Header/Afzender",
        "ws=newline:/Bericht/Header/Afzender",
        "digits=one-fewer:/Bericht/Header/Afzender",
        "digits=one-fewer:/Bericht/Header/Ontvanger",
        "digits=one-more:/Bericht/Header/Ontvanger",
        "digits=letter:/Bericht/Header/Ontvanger",
        "date=2027-02-30:/Bericht/Header/BerichtIdentificatie/Dagtekening",
        "date=2026-13-01:/Bericht/Header/BerichtIdentificatie/Dagtekening",
        "date=2024-02-29:/Bericht/Header/BerichtIdentificatie/Dagtekening",
        "berichtcode=999:/Bericht/Header/BerichtCode",
        "release=3_0:/Bericht",
        "release=3_1:/Bericht",
        "drop:/Bericht/Client/Bsn",
        "length=too-long:/Bericht/Client/Naam/Geslachtsnaam/Achternaam",
    )
)

# Draws per sampling round by family: values and structure are where a hand-written schema goes wrong
# (base types, facets, code lists, cardinalities); foreign names and attributes fail the same way everywhere.
_WEIGHTS = {
    "date": 4, "time": 4, "digits": 4, "code": 4, "length": 4, "ws": 4, "text": 3,
    "drop": 4, "duplicate": 4, "reorder": 2, "empty": 2,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Mutation:
    """One mutated message: its id names the example, the kind of change and the element path."""

    id: str
    example: str
    kind: str
    path: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Mutation({self.id!r}, {len(self.data)} bytes)"


def load_examples(*dirs: Path) -> dict[str, bytes]:
    """The example messages in ``dirs`` by name (``JW301``), sorted."""
    found: dict[str, bytes] = {}
    for directory in dirs:
        for file in sorted(directory.glob("*.xml")):
            found[file.stem] = file.read_bytes()
    return dict(sorted(found.items()))


def generate(
    examples: Mapping[str, bytes],
    *,
    seed: int = DEFAULT_SEED,
    target: int = DEFAULT_TARGET,
    judged: Collection[str] | None = None,
) -> list[Mutation]:
    """A deterministic, stratified sample of about ``target`` mutations of ``examples``.

    ``judged``: the message namespaces the oracle has an XSD for. A mutation that moves a message into
    another real message namespace outside it (an iWmo retour, which the official set lacks) is not made:
    nothing could say whether the result is valid.
    """
    buckets: dict[tuple[str, str], list[Candidate]] = {}
    seen: set[str] = set()
    for name, data in examples.items():
        for candidate in _candidates(name, data, judged):
            if candidate.id in seen:
                continue
            seen.add(candidate.id)
            family = candidate.kind.split("=")[0]
            buckets.setdefault((family, name), []).append(candidate)
    chosen: list[Candidate] = []
    for key in buckets:
        for candidate in [c for c in buckets[key] if c.id in ALWAYS]:
            buckets[key].remove(candidate)
            chosen.append(candidate)
    rng = random.Random(seed)
    queues: list[tuple[int, list[Candidate]]] = []
    for key in sorted(buckets):
        items = buckets[key]
        rng.shuffle(items)
        queues.append((_WEIGHTS.get(key[0], 1), items))
    while len(chosen) < target and any(items for _, items in queues):
        for weight, items in queues:
            for _ in range(weight):
                if items and len(chosen) < target:
                    chosen.append(items.pop())
    chosen.sort(key=lambda c: c.id)
    return [Mutation(c.id, c.example, c.kind, c.path, c.build()) for c in chosen]


def every_mutation(
    examples: Mapping[str, bytes], judged: Collection[str] | None = None
) -> Iterator[Mutation]:
    """Every distinct candidate, unsampled, built one at a time (tens of thousands: for the slow sweep)."""
    seen: set[str] = set()
    for name, data in examples.items():
        for c in _candidates(name, data, judged):
            if c.id not in seen:
                seen.add(c.id)
                yield Mutation(c.id, c.example, c.kind, c.path, c.build())


def _candidates(name: str, data: bytes, judged: Collection[str] | None) -> Iterator[Candidate]:
    root = etree.fromstring(data)
    yield from element_candidates(name, data)
    yield from header_candidates(name, data, root, judged)
    yield from document_candidates(name, data, root)


def count_candidates(examples: Mapping[str, bytes], judged: Collection[str] | None = None) -> int:
    """How many distinct mutations exist before sampling (for reporting)."""
    return len({c.id for name, data in examples.items() for c in _candidates(name, data, judged)})


# --- deliberate refusals --------------------------------------------------------------------------------

# Changes that keep a message valid against its XSD but that the node refuses on purpose, by a documented
# rule of its safe parser (gateway/standard/safexml.py): the standard's messages are UTF-8 without a byte
# order mark, carry no DTD, and point xsi:schemaLocation nowhere outside themselves. Name -> the Rejection
# class the engine raises. They are kept out of the differential set and checked on their own.
DELIBERATE: dict[str, str] = {
    "bom": "BadEncoding",
    "utf16": "BadEncoding",
    "declared-latin1": "BadEncoding",
    "doctype": "UnsafeXml",
    "schemalocation-url": "UnsafeXml",
    "schemalocation-absolute": "UnsafeXml",
}


def deliberate(examples: Mapping[str, bytes]) -> list[tuple[Mutation, str]]:
    """Every deliberate refusal applied to every example, with the Rejection class name expected."""
    out: list[tuple[Mutation, str]] = []
    for name, data in examples.items():
        text = data.decode("utf-8")
        body = text.split("?>", 1)[1]
        root_ns = etree.QName(etree.fromstring(data)).namespace
        with_location = with_schema_location(text, f"{root_ns} LOCATION")
        variants = {
            "bom": b"\xef\xbb\xbf" + data,
            "utf16": ('<?xml version="1.0" encoding="UTF-16"?>' + body).encode("utf-16"),
            "declared-latin1": ('<?xml version="1.0" encoding="ISO-8859-1"?>' + body).encode("utf-8"),
            "doctype": text.replace("?>", "?>\n<!DOCTYPE Bericht>", 1).encode("utf-8"),
            "schemalocation-url": with_location.replace(
                "LOCATION", "http://example.org/bericht.xsd"
            ).encode(),
            "schemalocation-absolute": with_location.replace("LOCATION", "/etc/bericht.xsd").encode(),
        }
        for kind, mutated in variants.items():
            mutation = Mutation(
                f"{name}:deliberate={kind}:/Bericht", name, f"deliberate={kind}", "/Bericht", mutated
            )
            out.append((mutation, DELIBERATE[kind]))
    return out


# Header dates the engine turns into ``datetime.date``: xs:date allows a year above 9999, the engine
# refuses it (gateway/standard/headerread.py) although the XSD accepts it.
_HEADER_DATES = re.compile(r"/Bericht/Header/(BerichtIdentificatie/Dagtekening|DagtekeningRetour)\Z")


def engine_rule(mutation: Mutation) -> str | None:
    """The documented engine rule that refuses this mutation even where the XSD accepts it, if any."""
    if mutation.kind == "date=five-digit-year" and _HEADER_DATES.match(mutation.path):
        return "header-date-year-above-9999"
    return None
