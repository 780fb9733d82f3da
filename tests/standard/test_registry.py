"""Schema registry: indexing any directory by what its XSDs say, local-only imports, compile once per thread."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from gateway.standard.registry import SchemaRegistry, compile_schema
from gateway.standard.xsdindex import SchemaIndexError, read_xsd
from gateway.standard.xsdshape import header_layout, max_depth

from .conftest import OFFICIAL_XSD, ROOT, SHARED, shared_or_skip

SCHEMAS = ROOT / "schemas"
JW319_NS = "http://www.istandaarden.nl/ijw/3_2/jw319/schema"
XS = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">{}</xs:schema>'


@pytest.fixture(scope="module")
def project() -> SchemaRegistry:
    return SchemaRegistry.from_dirs([SCHEMAS])


def test_project_schemas_index_both_standards(project: SchemaRegistry) -> None:
    """The project's schemas/ holds iJw 3.2 and iWmo 3.2, 14 messages each."""
    assert (sorted(project.releases), len(project)) == ([("ijw", "3.2"), ("iwmo", "3.2")], 28)


def test_message_facts_come_from_the_xsd(project: SchemaRegistry) -> None:
    """A message schema is indexed with its appinfo and the header values its patterns pin."""
    schema = project.message(JW319_NS)
    assert schema is not None
    assert (schema.standard, schema.release, schema.name, schema.code, schema.versie, schema.subversie) == (
        "ijw",
        "3.2",
        "JW319",
        "488",
        "3",
        "2",
    )


@pytest.mark.shared
def test_official_files_index_as_they_are() -> None:
    """The official release files (capitalised names, tabs, their own layout) index without changes."""
    shared_or_skip()
    registry = SchemaRegistry.from_dirs(list(OFFICIAL_XSD))
    assert (len(registry), registry.message(JW319_NS) is not None) == (21, True)


@pytest.mark.shared
def test_envelope_schema_is_indexed_for_later() -> None:
    """XSDs without a message appinfo (the StUF-GGk envelope) are indexed by namespace and compile on demand."""
    shared_or_skip()
    registry = SchemaRegistry.from_dirs([SHARED / "ggk-stuf-envelop" / "xsd"])
    schema = registry.validator("http://www.stufstandaarden.nl/koppelvlak/ggk0210")
    assert (len(registry), schema is not None) == (0, True)


def test_validators_are_per_thread(project: SchemaRegistry) -> None:
    """Each thread gets its own compiled schema object (an lxml XMLSchema's error log is not shareable)."""
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(project.validator(JW319_NS)))
    thread.start()
    thread.join()
    assert (
        found[0] is not project.validator(JW319_NS),
        project.validator(JW319_NS) is project.validator(JW319_NS),
    ) == (
        True,
        True,
    )


def test_import_outside_directory_is_refused(tmp_path: Path) -> None:
    """An include that leaves the indexed directory does not load, even when the file exists."""
    (tmp_path / "outside.xsd").write_text(XS.format('<xs:element name="x"/>'))
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "a.xsd").write_text(XS.format('<xs:include schemaLocation="../outside.xsd"/>'))
    with pytest.raises(SchemaIndexError):
        compile_schema(inner / "a.xsd", inner)


def test_remote_import_is_refused(tmp_path: Path) -> None:
    """An import from a URL is refused without any network access."""
    (tmp_path / "a.xsd").write_text(
        XS.format('<xs:import namespace="urn:r" schemaLocation="http://127.0.0.1:9/r.xsd"/>')
    )
    with pytest.raises(SchemaIndexError):
        compile_schema(tmp_path / "a.xsd", tmp_path)


def test_duplicate_namespace_in_one_directory_is_an_error(tmp_path: Path) -> None:
    """Two message schemas for one namespace in one directory are ambiguous and fail the load."""
    for name in ("jw319.xsd", "basisschema.xsd"):
        shutil.copy(SCHEMAS / "ijw" / "3_2" / name, tmp_path / name)
    (tmp_path / "copy").mkdir()
    for name in ("jw319.xsd", "basisschema.xsd"):
        shutil.copy(SCHEMAS / "ijw" / "3_2" / name, tmp_path / "copy" / name)
    with pytest.raises(SchemaIndexError):
        SchemaRegistry.from_dirs([tmp_path])


def test_broken_schema_fails_at_load(tmp_path: Path) -> None:
    """A message schema that does not compile fails the load, naming the file."""
    shutil.copy(SCHEMAS / "ijw" / "3_2" / "jw319.xsd", tmp_path / "jw319.xsd")  # no basisschema beside it
    with pytest.raises(SchemaIndexError, match=r"jw319\.xsd"):
        SchemaRegistry.from_dirs([tmp_path])


def test_not_a_schema_is_named(tmp_path: Path) -> None:
    """A .xsd file that is not an XML Schema is refused naming the file."""
    (tmp_path / "x.xsd").write_text("<notaschema/>")
    with pytest.raises(SchemaIndexError, match=r"x\.xsd"):
        read_xsd(tmp_path / "x.xsd")


@pytest.mark.parametrize(("name", "depth"), [("jw301", 8), ("jw319", 4), ("jw302", 8), ("jw325", 8)])
def test_schema_depth_bound(name: str, depth: int) -> None:
    """The deepest nesting a valid instance can have is computed from the XSD."""
    assert max_depth(SCHEMAS / "ijw" / "3_2" / f"{name}.xsd", SCHEMAS) == depth


def test_recursive_schema_has_no_depth_bound(tmp_path: Path) -> None:
    """A recursive type cannot be bounded: None (the depth check then always runs)."""
    (tmp_path / "r.xsd").write_text(
        XS.format(
            '<xs:element name="Bericht" type="t:T" xmlns:t="urn:t"/>'
            '<xs:complexType name="T" xmlns:t="urn:t"><xs:sequence>'
            '<xs:element name="Bericht" type="t:T" minOccurs="0"/></xs:sequence></xs:complexType>'
        )
    )
    assert max_depth(tmp_path / "r.xsd", tmp_path) is None


def test_any_content_has_no_depth_bound(tmp_path: Path) -> None:
    """xs:any allows any nesting: None."""
    (tmp_path / "a.xsd").write_text(
        XS.format(
            '<xs:element name="Bericht"><xs:complexType><xs:sequence><xs:any/></xs:sequence></xs:complexType></xs:element>'
        )
    )
    assert max_depth(tmp_path / "a.xsd", tmp_path) is None


def test_header_layout_of_a_retour() -> None:
    """The schema fixes where a retour's header fields sit (all earlier siblings required)."""
    layout = dict(header_layout(SCHEMAS / "ijw" / "3_2" / "jw302.xsd", SCHEMAS))
    assert (layout["Header"], layout["Header/Afzender"], layout["Header/IdentificatieRetour"]) == (0, 3, 7)


JW301_NS = "http://www.istandaarden.nl/ijw/3_2/jw301/schema"
WMO301_NS = "http://www.istandaarden.nl/iwmo/3_2/wmo301/schema"


def test_a_release_shares_one_schema_per_thread(project: SchemaRegistry) -> None:
    """The messages of one release share one compiled schema (the base schema once in memory); another
    release has its own."""
    shared = project.release_validator(JW319_NS)
    assert (
        shared is not None,
        shared is project.release_validator(JW301_NS),
        shared is project.release_validator(WMO301_NS),
    ) == (True, True, False)


@pytest.mark.parametrize(
    "construct",
    [
        '<xs:complexType name="T"><xs:sequence><xs:any namespace="##any"/></xs:sequence></xs:complexType>',
        '<xs:complexType name="T"><xs:anyAttribute namespace="##other"/></xs:complexType>',
        '<xs:element name="H" type="xs:string"/><xs:element name="E" type="xs:string" substitutionGroup="ijw:H"/>',
    ],
)
def test_a_release_with_a_crossing_construct_shares_no_schema(tmp_path: Path, construct: str) -> None:
    """A wildcard or a substitution group in any file of a release (here its base schema) could let one
    message reach another's declarations in a shared schema: that release validates per message only."""
    release = tmp_path / "ijw" / "3_2"
    shutil.copytree(SCHEMAS / "ijw" / "3_2", release)
    base = release / "basisschema.xsd"
    text = base.read_text(encoding="utf-8")
    base.write_text(text.replace("</xs:schema>", construct + "</xs:schema>"), encoding="utf-8")
    registry = SchemaRegistry.from_dirs([tmp_path], compile_now=False)
    assert (registry.release_validator(JW319_NS), registry.validator(JW319_NS) is not None) == (None, True)


def test_a_namespace_from_two_files_shares_no_schema(tmp_path: Path) -> None:
    """Two messages importing one namespace from two files would, in a shared schema, both get the first
    file's definitions (libxml2 skips a second import of a namespace): that release validates per message."""
    release = tmp_path / "ijw" / "3_2"
    shutil.copytree(SCHEMAS / "ijw" / "3_2", release)
    shutil.copy(release / "basisschema.xsd", release / "basisschema-kopie.xsd")
    jw319 = release / "jw319.xsd"
    jw319.write_text(
        jw319.read_text(encoding="utf-8").replace('"basisschema.xsd"', '"basisschema-kopie.xsd"'),
        encoding="utf-8",
    )
    registry = SchemaRegistry.from_dirs([tmp_path], compile_now=False)
    assert (registry.release_validator(JW319_NS), registry.validator(JW319_NS) is not None) == (None, True)
