"""Schema registry: every message XSD found under some directories, compiled once, by target namespace.

Any directory of XSDs is indexed by what the files say about themselves (``targetNamespace`` and
``xs:appinfo`` standaard/bericht/release), so the official release files work as they are and several
releases sit side by side. Imports and includes resolve only to files inside the indexed directory: the
resolver refuses anything else, and parsing never touches the network.

Threads: libxml2 validates against one compiled schema from many threads at once (each call gets its own
validation context and lxml releases the GIL), but an lxml ``XMLSchema`` object keeps *one* error log that
every call clears and fills, so two threads sharing it would mix or lose each other's errors. Each thread
therefore gets its own ``XMLSchema`` per message, compiled on that thread's first use (a few milliseconds);
the loading thread compiles all of them up front so a broken schema fails at start.

A release's messages are also compiled together into one ``XMLSchema`` (:meth:`SchemaRegistry.release_validator`):
the shared base schema then exists once in memory instead of once per message, and validating a mix of
messages is about a fifth cheaper (fewer cache misses). It gives the same verdict as the message's own
schema for a message that uses no ``xsi:`` attribute (``xsi:type`` could name another message's type) as long
as no schema file of the release holds a wildcard (``xs:any``, ``xs:anyAttribute``), a substitution group, a
redefine or an override (each could let one message's content reach another's declarations); a release
that holds one gets no shared schema. The engine uses it for a valid message only and asks the message's own
schema for every refusal, so errors are the own schema's, always.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlparse
from xml.sax.saxutils import quoteattr

from lxml import etree

from gateway.standard import fastfacets
from gateway.standard.xsdindex import SchemaIndexError, XsdInfo, entry_points, scan
from gateway.standard.xsdshape import header_layout, max_depth

REPO_SCHEMA_DIR: Final = Path(__file__).resolve().parents[2] / "schemas"
XSD: Final = "http://www.w3.org/2001/XMLSchema"
# constructs that could let one message's content reach another message's declarations in a shared schema
_CROSSING: Final = frozenset(f"{{{XSD}}}{name}" for name in ("any", "anyAttribute", "redefine", "override"))


@dataclass(frozen=True, slots=True)
class MessageSchema:
    """One message XSD of one release, as indexed (``ijw`` ``3.2`` ``jw301``)."""

    standard: str
    release: str
    bericht: str
    namespace: str
    path: Path
    root: Path
    code: str | None = None
    versie: str | None = None
    subversie: str | None = None
    declared: frozenset[str] = field(default=frozenset(), repr=False)
    max_depth: int | None = None
    layout: tuple[tuple[str, int], ...] = field(default=(), repr=False)

    @property
    def name(self) -> str:
        """The catalogue name: ``JW301``, ``WMO315``."""
        return self.bericht.upper()


def _schema_parser() -> etree.XMLParser:
    """A parser for schema files: no entities, network or DTD, libxml2's limits kept."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class _DirectoryResolver(etree.Resolver):
    """Resolves schema imports and includes to files inside one directory, and nothing else."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root.resolve()

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        parsed = urlparse(system_url)
        if parsed.scheme not in ("", "file") or parsed.netloc not in ("", "localhost"):
            raise SchemaIndexError(f"schema reference outside {self.root} refused: {system_url}")
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise SchemaIndexError(f"schema reference outside {self.root} or missing refused: {system_url}")
        resolver: Any = self  # (the stubs lack Resolver.resolve_filename)
        return resolver.resolve_filename(str(path), context)


class _RewritingResolver(_DirectoryResolver):
    """:class:`_DirectoryResolver` that hands every schema file over with its facets rewritten to cheaper
    ones of the same meaning (:func:`fastfacets.rewrite`), for the release's shared schema."""

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        super().resolve(system_url, public_id, context)  # the same refusals
        path = Path(unquote(urlparse(system_url).path)).resolve()
        parser = _schema_parser()
        try:
            document = etree.parse(str(path), parser).getroot()
        except (OSError, etree.XMLSyntaxError):
            return None  # (libxml2 reads the file itself and reports it)
        fastfacets.rewrite(document)
        resolver: Any = self  # (the stubs lack Resolver.resolve_string's base_url)
        return resolver.resolve_string(etree.tostring(document), context, base_url=path.as_uri())


def compile_schema(path: Path, root: Path) -> etree.XMLSchema:
    """Compile one XSD whose imports stay inside ``root``: no DTD, no entities, no network."""
    parser = _schema_parser()
    parser.resolvers.add(_DirectoryResolver(root))
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise SchemaIndexError(f"{path}: does not compile ({exc})") from None


def _message(info: XsdInfo, root: Path) -> MessageSchema:
    assert info.standaard is not None and info.release is not None and info.bericht is not None
    return MessageSchema(
        standard=info.standaard.lower(),
        release=info.release,
        bericht=info.bericht.lower(),
        namespace=info.target_namespace,
        path=info.path,
        root=root,
        code=info.pinned_value("BerichtCode"),
        versie=info.pinned_value("BerichtVersie"),
        subversie=info.pinned_value("BerichtSubversie"),
        declared=info.declared,
        max_depth=max_depth(info.path, root),
        layout=header_layout(info.path, root),
    )


class SchemaRegistry:
    """Message schemas by namespace, compiled once per thread; other XSDs (the StUF envelope) on demand."""

    def __init__(
        self,
        messages: Iterable[MessageSchema],
        others: Iterable[tuple[XsdInfo, Path]] = (),
        dirs: Sequence[Path] = (),
    ) -> None:
        self._messages = {m.namespace: m for m in messages}
        self._others = {info.target_namespace: (info, root) for info, root in others}
        self.dirs = tuple(dirs)
        self._local = threading.local()
        self.shadowed: tuple[Path, ...] = ()
        self._groups = _release_groups(self._messages.values())

    def __repr__(self) -> str:
        return f"SchemaRegistry(messages={len(self._messages)}, releases={sorted(self.releases)})"

    @classmethod
    def from_dirs(cls, paths: Iterable[Path], *, compile_now: bool = True) -> SchemaRegistry:
        """Index every XSD under each directory (recursively). For a namespace found in more than one
        directory the first directory wins (like PATH); twice in one directory is an error."""
        messages: dict[str, MessageSchema] = {}
        others: dict[str, tuple[XsdInfo, Path]] = {}
        shadowed: list[Path] = []
        dirs = [Path(p) for p in paths]
        for directory in dirs:
            infos = scan(directory)
            seen: dict[str, Path] = {}
            for info in infos:
                if not info.is_message:
                    continue
                ns = info.target_namespace
                if ns in seen:
                    raise SchemaIndexError(
                        f"{directory}: two message schemas for {ns}: {seen[ns]}, {info.path}"
                    )
                seen[ns] = info.path
                if ns in messages:
                    shadowed.append(info.path)
                else:
                    messages[ns] = _message(info, directory)
            for ns, info in entry_points(i for i in infos if not i.is_message and i.bericht is None).items():
                others.setdefault(ns, (info, directory))
        registry = cls(messages.values(), others.values(), dirs)
        registry.shadowed = tuple(shadowed)
        if compile_now:
            for ns in messages:
                registry.validator(ns)
                registry.release_validator(ns)
        return registry

    # --- lookups ----------------------------------------------------------------------------------------

    def message(self, namespace: str) -> MessageSchema | None:
        return self._messages.get(namespace)

    @property
    def messages(self) -> tuple[MessageSchema, ...]:
        return tuple(sorted(self._messages.values(), key=lambda m: (m.standard, m.release, m.bericht)))

    @property
    def releases(self) -> frozenset[tuple[str, str]]:
        return frozenset((m.standard, m.release) for m in self._messages.values())

    @property
    def standards(self) -> frozenset[str]:
        return frozenset(m.standard for m in self._messages.values())

    @property
    def other_namespaces(self) -> tuple[str, ...]:
        return tuple(sorted(self._others))

    def __len__(self) -> int:
        return len(self._messages)

    # --- compiled schemas, per thread -------------------------------------------------------------------

    def validator(self, namespace: str) -> etree.XMLSchema:
        """This thread's compiled schema for a message namespace (KeyError when not indexed)."""
        cache: dict[str, etree.XMLSchema] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        schema = cache.get(namespace)
        if schema is None:
            found = self._messages.get(namespace)
            if found is not None:
                path, root = found.path, found.root
            else:
                info, root = self._others[namespace]
                path = info.path
            schema = cache[namespace] = compile_schema(path, root)
        return schema

    def release_validator(self, namespace: str) -> etree.XMLSchema | None:
        """This thread's compiled schema of the message's whole release (every message of it in one
        ``XMLSchema``), or None when the release cannot share one (see the module docstring). Valid for
        a message without ``xsi:`` attributes exactly when the message's own schema is."""
        local = self._local
        by_namespace: dict[str, etree.XMLSchema | None] | None = getattr(local, "releases", None)
        if by_namespace is None:
            by_namespace = local.releases = {}
            local.groups = {}
        try:
            return by_namespace[namespace]
        except KeyError:
            pass
        group = self._groups.get(namespace)
        schema = None
        if group is not None:
            groups: dict[tuple[tuple[str, Path], ...], etree.XMLSchema | None] = local.groups
            if group not in groups:
                groups[group] = _compile_group(group, self._messages[namespace].root)
            schema = groups[group]
        by_namespace[namespace] = schema
        return schema


def _release_groups(messages: Iterable[MessageSchema]) -> dict[str, tuple[tuple[str, Path], ...]]:
    """Message namespace -> the XSD paths of its release (same directory root, standard and release),
    for the releases whose schema files hold nothing that crosses between messages."""
    by_release: dict[tuple[Path, str, str], list[MessageSchema]] = {}
    for m in messages:
        by_release.setdefault((m.root, m.standard, m.release), []).append(m)
    groups: dict[str, tuple[tuple[str, Path], ...]] = {}
    for members in by_release.values():
        if len(members) < 2 or not _self_contained((m.namespace, m.path) for m in members):
            continue
        group = tuple(sorted((m.namespace, m.path) for m in members))
        for m in members:
            groups[m.namespace] = group
    return groups


def _self_contained(messages: Iterable[tuple[str, Path]]) -> bool:
    """Whether these XSDs and everything they import or include hold no wildcard, substitution group,
    redefine or override, every file can be read, and every namespace comes from one file (libxml2 keeps
    the first import of a namespace and skips the others)."""
    origin: dict[str, Path] = {ns: p.resolve() for ns, p in messages}
    todo = list(origin.values())
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        try:
            tree = etree.parse(
                str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            )
        except (OSError, etree.XMLSyntaxError):
            return False
        for element in tree.iter(etree.Element):
            if element.tag in _CROSSING or element.get("substitutionGroup") is not None:
                return False
            location = element.get("schemaLocation")
            if location is not None and element.tag in (f"{{{XSD}}}import", f"{{{XSD}}}include"):
                parsed = urlparse(location)
                if parsed.scheme not in ("", "file"):
                    return False
                target = (path.parent / unquote(parsed.path)).resolve()
                namespace = element.get("namespace")
                imported = element.tag == f"{{{XSD}}}import" and namespace is not None
                if imported and origin.setdefault(str(namespace), target) != target:
                    return False
                todo.append(target)
    return True


def _compile_group(group: tuple[tuple[str, Path], ...], root: Path) -> etree.XMLSchema | None:
    """One schema importing every message XSD of a release; None when it does not compile."""
    imports = "".join(
        f"<xs:import namespace={quoteattr(ns)} schemaLocation={quoteattr(p.resolve().as_uri())}/>"
        for ns, p in group
    )
    text = f'<xs:schema xmlns:xs="{XSD}">{imports}</xs:schema>'
    parser = _schema_parser()
    parser.resolvers.add(_RewritingResolver(root))
    try:
        document = etree.fromstring(text, parser, base_url=(root.resolve() / "release.xsd").as_uri())
        return etree.XMLSchema(document)
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError, SchemaIndexError):
        return None
