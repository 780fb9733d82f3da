"""Classification: root namespace -> exactly one (standard, release, message), or the reason why not.

Built once from the schema registry and the catalogue; a lookup is one dictionary access. A namespace of
a known standard whose release is not installed is "release not supported" (the sender may be early or
late with a release change), anything else unknown is "not a standard message". Texts name releases and
roles, never the namespace a sender wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from gateway.errors import NotStandardMessage, ReleaseNotSupported
from gateway.standard.catalog import Catalog, MessageType, split_namespace
from gateway.standard.registry import MessageSchema, SchemaRegistry
from gateway.standard.xsdindex import SchemaIndexError

ROOT_ELEMENT = "Bericht"


@dataclass(frozen=True, slots=True)
class Known:
    """A message the node can check: its catalogue entry and its indexed schema."""

    type: MessageType
    schema: MessageSchema


class Classifier:
    """Maps a root element to a :class:`Known` message or raises the matching Rejection."""

    def __init__(
        self, known: Mapping[str, Known], standards: frozenset[str], releases: frozenset[tuple[str, str]]
    ):
        self._known = dict(known)
        # the root tag of each known message ({namespace}Bericht): one lookup for a message it knows
        self._roots = {f"{{{namespace}}}{ROOT_ELEMENT}": k for namespace, k in self._known.items()}
        self._standards = standards
        self._releases = releases

    @classmethod
    def build(cls, registry: SchemaRegistry, catalog: Catalog) -> Classifier:
        """Join the registry with the catalogue. A schema's pinned BerichtCode that contradicts the
        catalogue entry for the same release is a configuration error and fails loudly here."""
        known: dict[str, Known] = {}
        for schema in registry.messages:
            entry = catalog.resolve(schema.standard, schema.release, schema.name, schema.code)
            if entry is None:
                continue  # indexed but not catalogued: no direction rules, so not routable
            if schema.code is not None and schema.code != entry.code:
                raise SchemaIndexError(
                    f"{schema.path}: pins BerichtCode {schema.code}, the catalogue says {entry.code} for "
                    f"{entry}"
                )
            known[schema.namespace] = Known(entry, schema)
        standards = registry.standards | catalog.standards
        return cls(known, standards, registry.releases)

    @property
    def known(self) -> tuple[Known, ...]:
        return tuple(self._known.values())

    def by_namespace(self, namespace: str) -> Known | None:
        return self._known.get(namespace)

    def classify(self, root: etree._Element) -> Known:
        """The message this root element is, or NotStandardMessage / ReleaseNotSupported."""
        tag = root.tag
        found = self._roots.get(tag)
        if found is not None:
            return found
        if not isinstance(tag, str) or not tag.startswith("{"):
            raise NotStandardMessage("Root element has no namespace: not a standard message")
        namespace, _, local = tag[1:].partition("}")
        found = self._known.get(namespace)
        if found is None:
            raise self._unknown(namespace)
        if local != ROOT_ELEMENT:
            raise NotStandardMessage(f"Root element must be {ROOT_ELEMENT} for {found.type}")
        return found

    def _unknown(self, namespace: str) -> NotStandardMessage | ReleaseNotSupported:
        parts = split_namespace(namespace)
        if parts is None or parts[0] not in self._standards:
            return NotStandardMessage("Root element namespace is not that of a standard message")
        standard, release, _ = parts
        if (standard, release) not in self._releases:
            installed = ", ".join(sorted(r for s, r in self._releases if s == standard)) or "none"
            return ReleaseNotSupported(
                f"Release {release} of {standard} is not supported by this node (installed: {installed})"
            )
        return NotStandardMessage(f"Namespace is not a message of {standard} {release} known to this node")
