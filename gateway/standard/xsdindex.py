"""What one XSD file says about itself: target namespace, ``xs:appinfo`` (standaard, bericht, release),
its global elements, the BerichtCode/BerichtVersie/BerichtSubversie it pins by pattern, and which files it
imports or includes. Enough to index a directory of release files without knowing their names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, cast

from lxml import etree

XS: Final = "http://www.w3.org/2001/XMLSchema"
_NS = {"xs": XS}
_HEADER_FIELDS: Final = ("BerichtCode", "BerichtVersie", "BerichtSubversie")


class SchemaIndexError(ValueError):
    """An XSD cannot be read or a directory cannot be indexed; the text names the file."""


@dataclass(frozen=True, slots=True)
class XsdInfo:
    """One XSD file as indexed. ``bericht`` is lower case as in the appinfo (``jw301``, ``basisschema``)."""

    path: Path
    target_namespace: str
    standaard: str | None
    bericht: str | None
    release: str | None
    elements: tuple[str, ...]
    references: tuple[str, ...]
    pinned: tuple[tuple[str, str], ...] = ()
    declared: frozenset[str] = frozenset()

    @property
    def is_message(self) -> bool:
        """A message schema of a release (not its basisschema, not a StUF envelope part)."""
        return (
            self.standaard is not None
            and self.bericht is not None
            and self.release is not None
            and self.bericht != "basisschema"
            and "Bericht" in self.elements
        )

    def pinned_value(self, field: str) -> str | None:
        """The single value a header field is pinned to by ``xs:pattern`` (``BerichtCode`` -> ``436``)."""
        return dict(self.pinned).get(field)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def _appinfo(root: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for appinfo in root.iterfind("xs:annotation/xs:appinfo", _NS):
        for child in appinfo:
            if isinstance(child.tag, str) and child.text is not None:
                found.setdefault(etree.QName(child).localname, child.text.strip())
    return found


def _pinned(root: etree._Element) -> tuple[tuple[str, str], ...]:
    pins: list[tuple[str, str]] = []
    for name in _HEADER_FIELDS:
        patterns = root.xpath(
            f".//xs:element[@name='{name}']/xs:simpleType/xs:restriction/xs:pattern/@value", namespaces=_NS
        )
        values = {str(p) for p in cast("list[str]", patterns)}
        if len(values) == 1:
            value = values.pop()
            if value.isalnum():  # a literal, not a real pattern
                pins.append((name, value))
    return tuple(pins)


def read_xsd(path: Path) -> XsdInfo:
    """Index one XSD file (parsed safely: no DTD, no entities, no network)."""
    try:
        root = etree.parse(str(path), _parser()).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise SchemaIndexError(f"{path}: cannot read XSD ({exc})") from None
    if root.tag != f"{{{XS}}}schema":
        raise SchemaIndexError(f"{path}: not an XML Schema (root is not xs:schema)")
    info = _appinfo(root)
    return XsdInfo(
        path=path,
        target_namespace=root.get("targetNamespace", ""),
        standaard=info.get("standaard"),
        bericht=info.get("bericht"),
        release=info.get("release"),
        elements=tuple(str(e.get("name")) for e in root.iterfind("xs:element", _NS)),
        references=tuple(
            str(e.get("schemaLocation"))
            for e in root
            if e.tag in (f"{{{XS}}}import", f"{{{XS}}}include", f"{{{XS}}}redefine")
            and e.get("schemaLocation")
        ),
        pinned=_pinned(root),
        declared=frozenset(str(e.get("name")) for e in root.iterfind(".//xs:element[@name]", _NS)),
    )


def scan(directory: Path) -> list[XsdInfo]:
    """Every ``*.xsd`` under ``directory`` (recursively, sorted), indexed."""
    if not directory.is_dir():
        raise SchemaIndexError(f"{directory}: not a directory")
    return [read_xsd(p) for p in sorted(directory.rglob("*.xsd")) if p.is_file()]


def entry_points(infos: Iterable[XsdInfo]) -> dict[str, XsdInfo]:
    """Per namespace without a message appinfo, the file to compile: one that no other file of the same
    namespace includes (``ggk0210_stuf0301_msg`` rather than the ``stuf0301.xsd`` it includes)."""
    by_ns: dict[str, list[XsdInfo]] = {}
    for info in infos:
        by_ns.setdefault(info.target_namespace, []).append(info)
    chosen: dict[str, XsdInfo] = {}
    for ns, group in by_ns.items():
        included = {(i.path.parent / ref).resolve() for i in group for ref in i.references}
        tops = [i for i in group if i.path.resolve() not in included]
        chosen[ns] = (tops or group)[0]
    return chosen
