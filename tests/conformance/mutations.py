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

import copy
import random
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

DEFAULT_SEED = 20260401
DEFAULT_TARGET = 1500

# BerichtCode per message, from the iStandaarden iJw 3.2 / iWmo 3.2 releases (independent of schemas/).
CODES: dict[str, str] = {
    "JW301": "436", "JW302": "437", "JW305": "438", "JW306": "439", "JW307": "440", "JW308": "441",
    "JW315": "446", "JW316": "447", "JW317": "486", "JW318": "487", "JW319": "488", "JW320": "489",
    "JW323": "490", "JW325": "491",
    "WMO301": "414", "WMO302": "415", "WMO305": "418", "WMO306": "419", "WMO307": "420", "WMO308": "421",
    "WMO315": "444", "WMO316": "445", "WMO317": "480", "WMO318": "481", "WMO319": "482", "WMO320": "483",
    "WMO323": "484", "WMO325": "485",
}  # fmt: skip

FOREIGN_NS = "http://example.org/onbekend"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}\Z")
_DIGITS = re.compile(r"\d+\Z")
_CODE = re.compile(r"[0-9A-Za-z]{1,5}\Z")


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


@dataclass(frozen=True, slots=True)
class _Candidate:
    example: str
    kind: str
    path: str
    build: Callable[[], bytes]

    @property
    def id(self) -> str:
        return f"{self.example}:{self.kind}:{self.path}"


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
    buckets: dict[tuple[str, str], list[_Candidate]] = {}
    seen: set[str] = set()
    for name, data in examples.items():
        for candidate in _candidates(name, data, judged):
            if candidate.id in seen:
                continue
            seen.add(candidate.id)
            family = candidate.kind.split("=")[0]
            buckets.setdefault((family, name), []).append(candidate)
    rng = random.Random(seed)
    queues: list[tuple[int, list[_Candidate]]] = []
    for key in sorted(buckets):
        items = buckets[key]
        rng.shuffle(items)
        queues.append((_WEIGHTS.get(key[0], 1), items))
    chosen: list[_Candidate] = []
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


def count_candidates(examples: Mapping[str, bytes], judged: Collection[str] | None = None) -> int:
    """How many distinct mutations exist before sampling (for reporting)."""
    return len({c.id for name, data in examples.items() for c in _candidates(name, data, judged)})


# --- candidates -----------------------------------------------------------------------------------------


def _candidates(name: str, data: bytes, judged: Collection[str] | None) -> Iterator[_Candidate]:
    root = etree.fromstring(data)
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    paths = _paths(root)
    seen_generic: set[str] = set()
    for index, element in enumerate(elements):
        generic = re.sub(r"\[\d+\]", "", paths[element])
        if generic in seen_generic:
            continue  # one candidate per element declaration, not per occurrence
        seen_generic.add(generic)
        path = paths[element]
        if element is not root:
            for kind, change in _structure_changes(element):
                yield _Candidate(name, kind, path, _tree_builder(root, index, change))
        if len(element) == 0:
            for kind, value in _value_changes(element.text or ""):
                yield _Candidate(name, kind, path, _tree_builder(root, index, _set_text(value)))
            if element.text:
                yield _Candidate(name, "text=cdata", path, _tree_builder(root, index, _as_cdata))
    yield from _header_candidates(name, data, root, judged)
    yield from _document_candidates(name, data, root)


def _paths(root: etree._Element) -> dict[etree._Element, str]:
    paths: dict[etree._Element, str] = {root: "/" + etree.QName(root).localname}

    def walk(parent: etree._Element) -> None:
        children = [c for c in parent if isinstance(c.tag, str)]
        for child in children:
            same = [c for c in children if c.tag == child.tag]
            step = etree.QName(child).localname
            if len(same) > 1:
                step += f"[{same.index(child) + 1}]"
            paths[child] = paths[parent] + "/" + step
            walk(child)

    walk(root)
    return paths


def _tree_builder(
    root: etree._Element, index: int, change: Callable[[etree._Element], None]
) -> Callable[[], bytes]:
    def build() -> bytes:
        clone = copy.deepcopy(root)
        target = [el for el in clone.iter() if isinstance(el.tag, str)][index]
        change(target)
        return _serialise(clone)

    return build


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _as_cdata(element: etree._Element) -> None:
    element.text = etree.CDATA(element.text or "")


def _set_text(value: str) -> Callable[[etree._Element], None]:
    def change(element: etree._Element) -> None:
        element.text = value

    return change


# --- structure ------------------------------------------------------------------------------------------


def _structure_changes(element: etree._Element) -> Iterator[tuple[str, Callable[[etree._Element], None]]]:
    qname = etree.QName(element)
    yield "drop", _drop
    yield "duplicate", _duplicate
    if _next_element(element) is not None:
        yield "reorder", _swap_with_next
    yield "empty", _empty
    yield "unknown-child", _append(f"{{{qname.namespace}}}Onbekend")
    yield "foreign-child", _append(f"{{{FOREIGN_NS}}}Extra")
    yield "foreign-ns", _rename(f"{{{FOREIGN_NS}}}{qname.localname}")
    yield "other-ns", _rename_to_sibling_namespace
    yield "no-ns", _rename(qname.localname)
    yield "rename", _rename(f"{{{qname.namespace}}}{qname.localname}X")
    yield "unknown-attr", _attribute("onbekend", "1")
    yield "foreign-attr", _attribute(f"{{{FOREIGN_NS}}}attr", "1")
    yield "xsi-nil", _xsi_nil
    yield "xsi-type", _attribute(f"{{{XSI_NS}}}type", "xs:string")
    yield "comment", _insert(etree.Comment(" opmerking "))
    yield "pi", _insert(etree.ProcessingInstruction("verwerking", "x"))


def _next_element(element: etree._Element) -> etree._Element | None:
    sibling = element.getnext()
    while sibling is not None and not isinstance(sibling.tag, str):
        sibling = sibling.getnext()
    return sibling


def _drop(element: etree._Element) -> None:
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)


def _duplicate(element: etree._Element) -> None:
    element.addnext(copy.deepcopy(element))


def _swap_with_next(element: etree._Element) -> None:
    following = _next_element(element)
    assert following is not None
    element.addprevious(following)


def _empty(element: etree._Element) -> None:
    for child in list(element):
        element.remove(child)
    element.text = None


def _append(tag: str) -> Callable[[etree._Element], None]:
    def change(element: etree._Element) -> None:
        etree.SubElement(element, tag).text = "1"

    return change


def _rename(tag: str) -> Callable[[etree._Element], None]:
    def change(element: etree._Element) -> None:
        element.tag = tag

    return change


def _rename_to_sibling_namespace(element: etree._Element) -> None:
    """Move the element from the message namespace to the basisschema one, or the other way round."""
    qname = etree.QName(element)
    root_ns = etree.QName(element.getroottree().getroot()).namespace or ""
    basis_ns = re.sub(r"/[a-z0-9]+/schema\Z", "/basisschema/schema", root_ns)
    other = basis_ns if qname.namespace == root_ns else root_ns
    element.tag = f"{{{other}}}{qname.localname}"


def _attribute(name: str, value: str) -> Callable[[etree._Element], None]:
    def change(element: etree._Element) -> None:
        element.set(name, value)

    return change


def _xsi_nil(element: etree._Element) -> None:
    _empty(element)
    element.set(f"{{{XSI_NS}}}nil", "true")


def _insert(node: etree._Element) -> Callable[[etree._Element], None]:
    def change(element: etree._Element) -> None:
        if len(element):
            element.insert(0, copy.deepcopy(node))
        else:  # inside simple content: the value is the text around it, unchanged
            text = element.text or ""
            middle = len(text) // 2
            element.text = text[:middle]
            inserted = copy.deepcopy(node)
            inserted.tail = text[middle:]
            element.append(inserted)

    return change


# --- values ---------------------------------------------------------------------------------------------

_LENGTH_LADDER = (1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 13, 15, 16, 20, 21, 24, 25, 26, 35, 36, 37, 64, 65, 80, 81)


def _value_changes(value: str) -> Iterator[tuple[str, str]]:
    """(kind, new text) pairs for a leaf whose text is ``value``, chosen by its shape."""
    if _DATE.match(value):
        yield from (
            ("date=2027-02-30", "2027-02-30"),
            ("date=2026-13-01", "2026-13-01"),
            ("date=2026-02-29", "2026-02-29"),
            ("date=2024-02-29", "2024-02-29"),
            ("date=2026-04-31", "2026-04-31"),
            ("date=2026-00-10", "2026-00-10"),
            ("date=9999-12-31", "9999-12-31"),
            ("date=0000-01-01", "0000-01-01"),
            ("date=timezone-Z", value + "Z"),
            ("date=timezone-offset", value + "+01:00"),
            ("date=dd-mm-yyyy", f"{value[8:10]}-{value[5:7]}-{value[0:4]}"),
            ("date=unpadded", f"{value[0:4]}-{int(value[5:7])}-{int(value[8:10])}"),
            ("date=datetime", value + "T00:00:00"),
            ("date=five-digit-year", "1" + value),
        )
    elif _TIME.match(value):
        yield from (
            ("time=25:00:00", "25:00:00"),
            ("time=12:60:00", "12:60:00"),
            ("time=24:00:00", "24:00:00"),
            ("time=fraction", value + ".5"),
            ("time=timezone-Z", value + "Z"),
            ("time=hh:mm", value[:5]),
        )
    elif _DIGITS.match(value):
        n = len(value)
        yield from (
            ("digits=one-fewer", value[:-1] or "0"),
            ("digits=one-more", value + "0"),
            ("digits=letter", value[:-1] + "A"),
            ("digits=negative", "-" + value),
            ("digits=plus", "+" + value),
            ("digits=leading-zero", "0" + value),
            ("digits=zero", "0" * n),
            ("digits=over-range", "9" * (n + 8)),
            ("digits=decimal", value + ".0"),
            ("digits=exponent", "1e3"),
        )
    elif _CODE.match(value):
        yield from (
            ("code=outside-99", "99"),
            ("code=outside-ZZ", "ZZ"),
            ("code=lowercase", value.lower() if value.lower() != value else value + "a"),
            ("code=doubled", value + value),
        )
    if value:
        for length in _LENGTH_LADDER:
            fill = "9" if _DIGITS.match(value) else "x"
            yield f"length={length}", fill * length
        yield "length=too-long", "x" * 4097
        yield "ws=space", f" {value} "
        yield "ws=tab", f"\t{value}"
        yield "ws=newline", f"{value}\n"
        yield "ws=inner", f"{value[:1]} {value[1:]}"
        yield "ws=only", "   "
        yield "text=non-ascii", value[:-1] + "é"
        yield "text=markup-chars", value[:-1] + "<"
    yield "text=empty", ""


# --- header and namespaces ------------------------------------------------------------------------------


def _header_candidates(
    name: str, data: bytes, root: etree._Element, judged: Collection[str] | None
) -> Iterator[_Candidate]:
    header = root[0] if len(root) and etree.QName(root[0]).localname == "Header" else None
    ns = etree.QName(root).namespace or ""
    if header is not None:
        index_of = {el: i for i, el in enumerate(el for el in root.iter() if isinstance(el.tag, str))}

        def field_builder(local: str, value: str) -> Callable[[], bytes]:
            target = header.find(f"{{{ns}}}{local}")
            assert target is not None
            return _tree_builder(root, index_of[target], _set_text(value))

        for other, code in CODES.items():
            if other != name:
                yield _Candidate(
                    name,
                    f"berichtcode={code}",
                    "/Bericht/Header/BerichtCode",
                    field_builder("BerichtCode", code),
                )
        for variant in ("0" + CODES[name], CODES[name][:2], "abc", "999"):
            yield _Candidate(
                name,
                f"berichtcode={variant}",
                "/Bericht/Header/BerichtCode",
                field_builder("BerichtCode", variant),
            )
        for local, variants in (
            ("BerichtVersie", ("2", "4", "03", "-3")),
            ("BerichtSubversie", ("0", "1", "3", "02")),
        ):
            for variant in variants:
                yield _Candidate(
                    name,
                    f"{local.lower()}={variant}",
                    f"/Bericht/Header/{local}",
                    field_builder(local, variant),
                )

    def replacing(*pairs: tuple[bytes, bytes]) -> Callable[[], bytes]:
        def build() -> bytes:
            out = data
            for old, new in pairs:
                out = out.replace(old, new)
            return out

        return build

    standard, release = ns.split("/")[3], ns.split("/")[4]
    message_ns = ns.encode()
    basis_ns = f"http://www.istandaarden.nl/{standard}/{release}/basisschema/schema".encode()
    for other_release in ("3_0", "3_1", "3_3", "4_0"):
        rel = other_release.encode()
        yield _Candidate(
            name, f"release={other_release}", "/Bericht", replacing((b"/3_2/", b"/" + rel + b"/"))
        )
        yield _Candidate(name, f"release-message-only={other_release}", "/Bericht",
                         replacing((message_ns, message_ns.replace(b"/3_2/", b"/" + rel + b"/"))))  # fmt: skip
        yield _Candidate(name, f"release-basis-only={other_release}", "/Bericht",
                         replacing((basis_ns, basis_ns.replace(b"/3_2/", b"/" + rel + b"/"))))  # fmt: skip
    for other in CODES:
        other_standard = "ijw" if other.startswith("JW") else "iwmo"
        if other == name:
            continue
        other_ns = f"http://www.istandaarden.nl/{other_standard}/3_2/{other.lower()}/schema".encode()
        if judged is not None and other_ns.decode() not in judged:
            continue
        if other_standard == standard:
            yield _Candidate(name, f"message-ns={other}", "/Bericht", replacing((message_ns, other_ns)))
        elif other[-3:] == name[-3:]:
            # the same message of the other standard: namespaces, prefixes and BerichtCode all swapped
            other_basis = f"http://www.istandaarden.nl/{other_standard}/3_2/basisschema/schema".encode()
            code_old = f"BerichtCode>{CODES[name]}<".encode()
            code_new = f"BerichtCode>{CODES[other]}<".encode()
            yield _Candidate(name, f"standard-swap={other}", "/Bericht",
                             replacing((message_ns, other_ns), (basis_ns, other_basis), (code_old, code_new)))  # fmt: skip
            yield _Candidate(name, f"standard-swap-keep-code={other}", "/Bericht",
                             replacing((message_ns, other_ns), (basis_ns, other_basis)))  # fmt: skip
    for kind, old, new in (
        ("ns=uppercase", message_ns, message_ns.upper()),
        ("ns=https", message_ns, message_ns.replace(b"http:", b"https:")),
        ("ns=trailing-slash", message_ns, message_ns + b"/"),
        ("ns=no-schema-suffix", message_ns, message_ns[: -len(b"/schema")]),
        ("ns=basis-uppercase", basis_ns, basis_ns.upper()),
    ):
        yield _Candidate(name, kind, "/Bericht", replacing((old, new)))


def _document_candidates(name: str, data: bytes, root: etree._Element) -> Iterator[_Candidate]:
    """Whole-document changes that keep the content: prefixes, declaration, whitespace, root."""
    prefixes = {ns: prefix for prefix, ns in root.nsmap.items() if prefix}
    message_ns = etree.QName(root).namespace or ""
    msg_prefix = prefixes.get(message_ns, "")

    def build_text(transform: Callable[[str], str]) -> Callable[[], bytes]:
        return lambda: transform(data.decode("utf-8")).encode("utf-8")

    if msg_prefix:
        yield _Candidate(name, "doc=default-namespace", "/Bericht", build_text(
            lambda t: t.replace(f"xmlns:{msg_prefix}=", "xmlns=").replace(f"<{msg_prefix}:", "<").replace(f"</{msg_prefix}:", "</")))  # fmt: skip
        yield _Candidate(name, "doc=prefix-renamed", "/Bericht", build_text(
            lambda t: t.replace(f"xmlns:{msg_prefix}=", "xmlns:m=").replace(f"<{msg_prefix}:", "<m:").replace(f"</{msg_prefix}:", "</m:")))  # fmt: skip
        yield _Candidate(name, "doc=unused-namespace-declared", "/Bericht", build_text(
            lambda t: t.replace(f"xmlns:{msg_prefix}=", f'xmlns:extra="{FOREIGN_NS}" xmlns:{msg_prefix}=', 1)))  # fmt: skip
    yield _Candidate(
        name, "doc=no-declaration", "/Bericht", build_text(lambda t: t.split("?>", 1)[1].lstrip())
    )
    yield _Candidate(name, "doc=declaration-lowercase-utf8", "/Bericht", build_text(lambda t: t.replace('encoding="UTF-8"', 'encoding="utf-8"', 1)))  # fmt: skip
    yield _Candidate(name, "doc=standalone", "/Bericht", build_text(lambda t: t.replace('encoding="UTF-8"?>', 'encoding="UTF-8" standalone="yes"?>', 1)))  # fmt: skip
    yield _Candidate(name, "doc=no-indentation", "/Bericht", build_text(lambda t: re.sub(r">\s+<", "><", t)))
    yield _Candidate(name, "doc=crlf", "/Bericht", build_text(lambda t: t.replace("\n", "\r\n")))
    yield _Candidate(
        name, "doc=trailing-comment", "/Bericht", build_text(lambda t: t.rstrip() + "\n<!-- einde -->\n")
    )
    yield _Candidate(
        name,
        "doc=leading-comment",
        "/Bericht",
        build_text(lambda t: t.replace("?>", "?>\n<!-- begin -->", 1)),
    )
    yield _Candidate(name, "doc=root-renamed", "/Bericht", build_text(
        lambda t: re.sub(r"(</?)([A-Za-z0-9]+:)?Bericht\b", r"\1\2Berichten", t)))  # fmt: skip
    yield _Candidate(name, "doc=schemalocation-file-name", "/Bericht", build_text(
        lambda t: _with_schema_location(t, f"{message_ns} {name.lower()}.xsd")))  # fmt: skip
    yield _Candidate(name, "doc=second-root", "/Bericht", build_text(lambda t: t.rstrip() + "\n<Bericht/>\n"))


def _with_schema_location(text: str, value: str) -> str:
    head = f' xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{value}" '
    return re.sub(r"(<[A-Za-z0-9]*:?Bericht) ", lambda m: m.group(1) + head, text, count=1)


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
        with_location = _with_schema_location(text, f"{root_ns} LOCATION")
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
