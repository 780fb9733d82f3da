"""The official verdict: plain lxml XMLSchema of the official iStandaarden XSDs, chosen by root namespace."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "istandaarden"
XSD_DIRS = (SHARED / "ijw-3.2" / "xsd", SHARED / "iwmo-3.2" / "xsd")
EXAMPLE_DIRS = (SHARED / "ijw-3.2" / "examples", SHARED / "iwmo-3.2" / "examples")


class OfficialSchemas:
    """Every official message XSD compiled once, indexed by target namespace."""

    def __init__(self, xsd_dirs: tuple[Path, ...] = XSD_DIRS) -> None:
        self._by_namespace: dict[str, etree.XMLSchema] = {}
        for directory in xsd_dirs:
            for file in sorted(directory.glob("*.xsd")):
                if file.stem.lower() == "basisschema":
                    continue
                doc = etree.parse(str(file))
                namespace = doc.getroot().get("targetNamespace")
                self._by_namespace[namespace] = etree.XMLSchema(doc)
        self._parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    @property
    def namespaces(self) -> frozenset[str]:
        return frozenset(self._by_namespace)

    def schema_for(self, namespace: str) -> etree.XMLSchema | None:
        return self._by_namespace.get(namespace)

    def verdict(self, data: bytes) -> bool:
        """True when ``data`` is a well-formed ``Bericht`` valid against the official XSD of its namespace."""
        try:
            root = etree.fromstring(data, self._parser)
        except etree.XMLSyntaxError:
            return False
        qname = etree.QName(root)
        schema = self._by_namespace.get(qname.namespace or "")
        if schema is None or qname.localname != "Bericht":
            return False
        return bool(schema.validate(root.getroottree()))


def official_namespaces(xsd_dirs: tuple[Path, ...] = XSD_DIRS) -> frozenset[str]:
    """The message namespaces the official XSDs define, read without compiling anything."""
    found = set()
    for directory in xsd_dirs:
        for file in directory.glob("*.xsd"):
            if file.stem.lower() != "basisschema":
                found.add(etree.parse(str(file)).getroot().get("targetNamespace"))
    return frozenset(found)


# The two official invalid examples, each repaired by the smallest change that the official XSD accepts,
# so that JW315 and JW318 (which have no valid example) are mutated too. Name -> (file, old, new).
REPAIRS: dict[str, tuple[str, bytes, bytes]] = {
    "JW315": ("JW315-impossible-date.xml", b"2027-06-31", b"2027-06-30"),
    "JW318": (
        "JW318-retourcode-outside-wrapper.xml",
        b"<jw318:RedenVerzoek>1</jw318:RedenVerzoek>\r\n\t\t\t<jw318:RetourCode>9350</jw318:RetourCode>",
        b"<jw318:RedenVerzoek>1</jw318:RedenVerzoek>",
    ),
}


def base_examples() -> dict[str, bytes]:
    """The official examples plus the repaired invalid ones, by message name, sorted."""
    found = {file.stem: file.read_bytes() for d in EXAMPLE_DIRS for file in d.glob("*.xml")}
    for name, (file, old, new) in REPAIRS.items():
        data = (SHARED / "ijw-3.2" / "invalid" / file).read_bytes()
        if old not in data:
            raise ValueError(f"{file}: the text to repair is not there any more")
        found[name] = data.replace(old, new)
    return dict(sorted(found.items()))
