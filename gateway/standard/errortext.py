"""Readable, payload-free error items from libxml2's schema error log.

libxml2 quotes the offending *value* in many messages (``'123' is not a valid value``, ``The value 'x' is
not accepted by the pattern``): that value may be a BSN, a name or a birth date, so every value-bearing
form is masked. What stays is what the schema says (element and type names, patterns, code lists, lengths)
and where (line, element path by local names, ``/Bericht/Client/Geboortedatum/Datum``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from lxml import etree

from gateway.errors import ErrorItem

MAX_ERRORS: Final = 50

# Clark names {namespace}Local -> Local
_CLARK = re.compile(r"\{[^}'\s]*:[^}'\s]*\}")  # a namespace URI always holds ':' (not so {4} or {'1'})
# Greedy on purpose (DOTALL): a value may itself contain quotes or newlines; everything up to the last
# fixed phrase of the message is the value.
_VALUE_FORMS: Final = (
    (re.compile(r"(: )'.*' (is not a valid value)", re.S), r"\1the value \2"),
    (re.compile(r"(The value )'.*'( is not accepted by the pattern)", re.S), r"\1\2"),
    (re.compile(r"(The value )'.*'( is not an element of the set)", re.S), r"\1\2"),
    (re.compile(r"(The value )'.*'( has (?:a length|more digits|more fractional digits))", re.S), r"\1\2"),
    (re.compile(r"(The value )'.*'( is (?:less|greater) than)", re.S), r"\1\2"),
    (re.compile(r"(The value )'.*'( does not match the fixed value constraint)", re.S), r"\1\2"),
    (re.compile(r"(The value )'.*'( is not)", re.S), r"\1\2"),
    (re.compile(r"(key-sequence )\[.*\]", re.S), r"\1[…]"),
)
_LEFTOVER_VALUE = re.compile(r"(?i)(value )'[^']*'")
_PREFIX = re.compile(r"(?<=/)[A-Za-z_][\w.-]*:")


def mask_values(message: str) -> str:
    """The message with every quoted payload value removed and Clark names shortened to local names."""
    text = message
    for pattern, replacement in _VALUE_FORMS:
        text = pattern.sub(replacement, text)
    text = _LEFTOVER_VALUE.sub(r"\1", text)
    text = _CLARK.sub("", text)
    return " ".join(text.split())


def node_path(node: etree._Element) -> str:
    steps: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        name = etree.QName(current).localname
        parent = current.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == current.tag]
            if len(same) > 1:
                name += f"[{same.index(current) + 1}]"
        steps.append(name)
        current = parent
    return "/" + "/".join(reversed(steps))


def element_path(raw: str | None, root: etree._Element | None = None) -> str | None:
    """``/Bericht/Client/Naam`` from libxml2's node path (``/jw301:Bericht/jw301:Client/jw301:Naam``, or
    ``/*/*[2]/*[4]`` when the message uses a default namespace: then the node is looked up in the tree)."""
    if not raw:
        return None
    if "*" in raw and root is not None:
        nsmap = {k: v for k, v in root.nsmap.items() if k}
        try:
            found = root.getroottree().xpath(raw, namespaces=nsmap)
        except etree.XPathError:
            found = None
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            return node_path(found[0])
    return _PREFIX.sub("", raw)


def schema_errors(
    log: Iterable[etree._LogEntry], code: str, root: etree._Element | None = None, cap: int = MAX_ERRORS
) -> list[ErrorItem]:
    """At most ``cap`` error items from a validation error log, masked, with line and element path."""
    items: list[ErrorItem] = []
    for entry in log:
        if len(items) >= cap:
            break
        items.append(
            ErrorItem(
                code=code,
                text=mask_values(entry.message),
                line=entry.line or None,
                path=element_path(entry.path, root),
            )
        )
    return items
