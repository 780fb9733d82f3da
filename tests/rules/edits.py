"""Small edits on official example messages, by element paths of local names (``Client/Bsn``,
``Contactgegevens/Contact[2]/Adres``), for building the rule cases: set, drop, put (in schema order), copy."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from lxml import etree

from tests.messages import example


class Doc:
    """One example message (mended where the official one is broken), parsed, to be edited."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.root = etree.fromstring(example(name))
        self.m = etree.QName(self.root).namespace or ""
        self.b = self.m.rsplit("/", 2)[0] + "/basisschema/schema"

    def all(self, path: str) -> list[etree._Element]:
        """Every element at ``path`` below the root (a step ``Name[i]`` picks the i-th of that name)."""
        found = [self.root]
        for step in path.split("/"):
            name, _, index = step.partition("[")
            nxt: list[etree._Element] = []
            for parent in found:
                kids = [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name]
                nxt.extend(kids[int(index[:-1]) - 1 : int(index[:-1])] if index else kids)
            found = nxt
        return found

    def one(self, path: str) -> etree._Element:
        found = self.all(path)
        assert found, f"{self.name}: no {path}"
        return found[0]

    def has(self, path: str) -> bool:
        return bool(self.all(path))

    def text(self, path: str) -> str:
        return self.one(path).text or ""

    def set(self, path: str, value: str) -> None:
        self.one(path).text = value

    def drop(self, path: str) -> None:
        for element in self.all(path):
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)

    def put(
        self, path: str, name: str, value: str | None = None, after: tuple[str, ...] = ()
    ) -> etree._Element:
        """Set child ``name`` of ``path`` (creating it after the last of ``after`` present, else first), in
        the namespace of its future siblings."""
        parent = self.one(path)
        existing = [c for c in parent if etree.QName(c).localname == name]
        if existing:
            element = existing[0]
        else:
            siblings = [c for c in parent if isinstance(c.tag, str)]
            ns = etree.QName(siblings[0]).namespace if siblings else self.m
            element = etree.Element(f"{{{ns}}}{name}")
            anchors = [i for i, c in enumerate(siblings) if etree.QName(c).localname in after]
            parent.insert(parent.index(siblings[anchors[-1]]) + 1 if anchors else 0, element)
        if value is not None:
            element.text = value
        return element

    def copy(self, path: str) -> etree._Element:
        """A deep copy of the element at ``path``, inserted right after it."""
        original = self.one(path)
        twin = copy.deepcopy(original)
        original.addnext(twin)
        return twin

    def only(self, path: str) -> None:
        """Keep the first element at ``path`` and drop its same-named siblings."""
        for element in self.all(path)[1:]:
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)

    @property
    def dagtekening(self) -> date:
        return date.fromisoformat(self.text("Header/BerichtIdentificatie/Dagtekening"))

    def data(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")


def day(value: date | str, days: int = 0) -> str:
    start = date.fromisoformat(value) if isinstance(value, str) else value
    return (start + timedelta(days=days)).isoformat()


def years_before(value: date, years: int) -> date:
    try:
        return value.replace(year=value.year - years)
    except ValueError:  # 29 February
        return value.replace(year=value.year - years, day=28)
