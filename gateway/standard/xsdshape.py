"""The shape of a message schema, computed from the XSD files once at load: how deep a valid instance can
nest, and where the header fields sit.

Depth.
The engine uses it to skip the depth check for messages that passed their XSD: when every valid
instance is at most N levels deep and N is within the limit, a valid message cannot be too deep, so the
check is needed only for messages that fail (where it runs before the refusal is raised). Anything this
walker does not understand (``xs:any``, an element without a type, recursion, an unresolved reference)
gives None: "unknown", and the check runs for every message of that schema.

Layout. In a sequence whose earlier elements are all required and single, a required element has a
fixed position in every valid instance (``Header`` is child 0 of ``Bericht``, ``Afzender`` child 3 of
``Header``). The engine reads those of a validated message by index, without comparing tags; anything
else it looks up by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from lxml import etree

XS: Final = "http://www.w3.org/2001/XMLSchema"
_EL, _CT, _ST, _GROUP = (f"{{{XS}}}{n}" for n in ("element", "complexType", "simpleType", "group"))
_PARTICLES = frozenset(f"{{{XS}}}{n}" for n in ("sequence", "choice", "all"))
_CONTENT = frozenset(f"{{{XS}}}{n}" for n in ("complexContent", "simpleContent"))
_DERIVE = frozenset(f"{{{XS}}}{n}" for n in ("extension", "restriction"))
_IGNORED = frozenset(f"{{{XS}}}{n}" for n in ("annotation", "attribute", "attributeGroup", "anyAttribute"))

Key = tuple[str, str, str]  # (kind, namespace, name)


class _Unknown(Exception):
    pass


class _Walker:
    def __init__(self, path: Path, root: Path) -> None:
        self.root = root.resolve()
        self.globals: dict[Key, etree._Element] = {}
        self.target_namespace = ""
        self._load(path.resolve(), set())

    def _load(self, path: Path, seen: set[Path]) -> None:
        if path in seen or not path.is_relative_to(self.root) or not path.is_file():
            return
        seen.add(path)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = etree.parse(str(path), parser).getroot()
        tns = schema.get("targetNamespace", "")
        if not seen - {path}:
            self.target_namespace = tns
        for child in schema:
            name = child.get("name")
            if name and child.tag in (_EL, _CT, _ST, _GROUP):
                self.globals.setdefault((child.tag, tns, name), child)
            location = child.get("schemaLocation")
            if location and child.tag in (f"{{{XS}}}import", f"{{{XS}}}include"):
                self._load((path.parent / location).resolve(), seen)

    def _lookup(self, kind: str, qname: str, where: etree._Element) -> etree._Element | None:
        prefix, _, local = qname.rpartition(":")
        namespace = where.nsmap.get(prefix or None)
        if namespace is None:
            raise _Unknown
        if namespace == XS:
            return None  # a built-in simple type
        return self.globals.get((kind, namespace, local))

    def element(self, decl: etree._Element, stack: tuple[int, ...]) -> int:
        ref = decl.get("ref")
        if ref is not None:
            target = self._lookup(_EL, ref, decl)
            if target is None:
                raise _Unknown
            return self.element(target, stack)
        type_name = decl.get("type")
        if type_name is not None:
            complex_type = self._lookup(_CT, type_name, decl)
            return 1 + (self.complex(complex_type, stack) if complex_type is not None else 0)
        for child in decl:
            if child.tag == _CT:
                return 1 + self.complex(child, stack)
            if child.tag == _ST:
                return 1
        raise _Unknown  # no type at all: xs:anyType, any content

    def complex(self, ct: etree._Element, stack: tuple[int, ...]) -> int:
        if id(ct) in stack:
            raise _Unknown  # recursive
        return self.content(ct, (*stack, id(ct)))

    def content(self, node: etree._Element, stack: tuple[int, ...]) -> int:
        deepest = 0
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in _IGNORED:
                continue
            if tag == _EL:
                deepest = max(deepest, self.element(child, stack))
            elif tag in _PARTICLES or tag in _CONTENT:
                deepest = max(deepest, self.content(child, stack))
            elif tag in _DERIVE:
                base = child.get("base")
                base_type = self._lookup(_CT, base, child) if base else None
                if base_type is not None:
                    deepest = max(deepest, self.complex(base_type, stack))
                deepest = max(deepest, self.content(child, stack))
            elif tag == _GROUP and child.get("ref"):
                group = self._lookup(_GROUP, str(child.get("ref")), child)
                if group is None:
                    raise _Unknown
                deepest = max(deepest, self.complex(group, stack))
            elif tag == _ST or (tag.startswith(f"{{{XS}}}") and child.get("value") is not None):
                continue  # simple content facets
            else:
                raise _Unknown  # xs:any and anything not understood
        return deepest


def _fixed_children(walker: _Walker, decl: etree._Element) -> list[tuple[str, int, etree._Element]]:
    """(name, index, declaration) of the children every valid instance of ``decl`` has at a fixed index."""
    type_name = decl.get("type")
    if type_name is not None:
        complex_type = walker._lookup(_CT, type_name, decl)
    else:
        complex_type = next((c for c in decl if c.tag == _CT), None)
    if complex_type is None:
        return []
    sequence = next((c for c in complex_type if c.tag == f"{{{XS}}}sequence"), None)
    if sequence is None or sequence.get("minOccurs", "1") != "1" or sequence.get("maxOccurs", "1") != "1":
        return []
    fixed: list[tuple[str, int, etree._Element]] = []
    index = 0
    for child in sequence:
        if not isinstance(child.tag, str) or child.tag == f"{{{XS}}}annotation":
            continue
        if child.tag != _EL or child.get("ref") is not None:
            break
        single = child.get("minOccurs", "1") == "1" and child.get("maxOccurs", "1") == "1"
        if not single:
            break
        fixed.append((str(child.get("name")), index, child))
        index += 1
    return fixed


def header_layout(path: Path, root: Path, element: str = "Bericht") -> tuple[tuple[str, int], ...]:
    """Fixed indexes of ``Header``, its children and their children, as ("Header/Afzender", 3) pairs."""
    try:
        walker = _Walker(path, root)
        decl = walker.globals.get((_EL, walker.target_namespace, element))
        if decl is None:
            return ()
        layout: list[tuple[str, int]] = []
        for name, index, header in _fixed_children(walker, decl):
            if name != "Header":
                continue
            layout.append(("Header", index))
            for child, child_index, child_decl in _fixed_children(walker, header):
                layout.append((f"Header/{child}", child_index))
                layout.extend(
                    (f"Header/{child}/{grand}", grand_index)
                    for grand, grand_index, _ in _fixed_children(walker, child_decl)
                )
        return tuple(layout)
    except (_Unknown, OSError, etree.XMLSyntaxError):
        return ()


def max_depth(path: Path, root: Path, element: str = "Bericht") -> int | None:
    """Deepest nesting (root element = 1) of a valid instance of ``element`` in the XSD at ``path``
    (imports followed inside ``root``), or None when it cannot be bounded this way."""
    try:
        walker = _Walker(path, root)
        decl = walker.globals.get((_EL, walker.target_namespace, element))
        if decl is None:
            return None
        return walker.element(decl, ())
    except (_Unknown, OSError, etree.XMLSyntaxError, RecursionError):
        return None
