"""Candidate changes to the elements of one example message, each built only when sampled.

Element changes (drop, duplicate, reorder, empty, unknown or foreign children, names and attributes,
comments, processing instructions, CDATA) apply to the first occurrence of each element declaration;
value changes are chosen by the shape of the current text (date, time, digits, short code, free text).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

FOREIGN_NS = "http://example.org/onbekend"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}\Z")
_DIGITS = re.compile(r"\d+\Z")
_CODE = re.compile(r"[0-9A-Za-z]{1,5}\Z")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A change not yet made: ``build()`` makes the mutated bytes."""

    example: str
    kind: str
    path: str
    build: Callable[[], bytes]

    @property
    def id(self) -> str:
        return f"{self.example}:{self.kind}:{self.path}"


def element_candidates(name: str, data: bytes) -> Iterator[Candidate]:
    """Every structure and value change to the elements of the example ``name``."""
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
                yield Candidate(name, kind, path, tree_builder(root, index, change))
        if len(element) == 0:
            for kind, value in _value_changes(element.text or ""):
                yield Candidate(name, kind, path, tree_builder(root, index, set_text(value)))
            if element.text:
                yield Candidate(name, "text=cdata", path, tree_builder(root, index, _as_cdata))


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


def tree_builder(
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


def set_text(value: str) -> Callable[[etree._Element], None]:
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
