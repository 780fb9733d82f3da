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
_ELEMENT = re.compile(r"^Element '([^']+)'")
_FACET = re.compile(r"\[facet '(\w+)'\]")
_LIMIT = re.compile(r"(?:allowed (?:maximum|minimum) length of '|value allowed \(')([^']*)'")
_PATTERN_OF = re.compile(r"by the pattern '(.*)'\.$", re.S)

# The restrictions (RS) and constraints of iJw/iWmo 3.2 that the XSD enforces, by the facet that fails: an
# XSD error names the rule it enforces too (schemas/*/3_2/regels.toml lists them as status "xsd").
_MAX_LENGTH: Final = {
    "1": "RS008",
    "2": "RS009",
    "3": "RS010",
    "4": "RS011",
    "5": "RS012",
    "6": "RS013",
    "8": "RS014",
    "9": "RS015",
    "10": "RS016",
    "12": "RS017",
    "15": "RS018",
    "20": "RS019",
    "24": "RS020",
    "25": "RS021",
    "35": "RS023",
    "36": "RS024",
    "64": "RS025",
    "80": "RS026",
    "200": "RS028",
}
_MAXIMUM: Final = {
    "99": "RS002",
    "99999": "RS004",
    "99999999": "RS005",
    "999999999": "RS006",
    "999999999999": "RS040",
}
_PATTERN: Final = {
    "[^:Z]*": "RS032",
    "[^Z+-]+": "RS034",
    "[0-9]{4}": "RS035",
    "[0-9]{8}": "RS036",
    "[0-9]{9}": "RS037",
    "([a-zA-ZÀ-ỳ])+": "RS045",
    "[0-9]*": "RS046",
    "(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)": "RS048",
    "([.\\s]*\\S+[.\\s]*)+": "RS031",
    ".*[^\\s].*": "RS033",
    "([a-zA-Z0-9])+": "CS319",
}
HEADER_RULES: Final = {"BerichtCode": "RS047", "BerichtVersie": "CS025", "BerichtSubversie": "CS015"}


def restriction(message: str) -> str | None:
    """The RS/CS code an XSD error message enforces (``Element 'Bsn': [facet 'pattern'] ... '[0-9]{9}'`` is
    RS037), or None when the facet is not one the release names."""
    element = _ELEMENT.match(message)
    name = element.group(1) if element else ""
    if name in HEADER_RULES:
        return HEADER_RULES[name]
    facet = _FACET.search(message)
    if facet is None:
        return None
    kind = facet.group(1)
    found = (_PATTERN_OF if kind == "pattern" else _LIMIT).search(message)
    value = found.group(1) if found else ""
    if kind == "maxLength":
        return _MAX_LENGTH.get(value)
    if kind == "minLength" and value == "1":
        return "RS031" if name == "Commentaar" else "RS033"
    if kind == "maxInclusive":
        return _MAXIMUM.get(value)
    if kind == "minInclusive" and value == "0":
        return "RS001"
    if kind == "pattern":
        return _PATTERN.get(value)
    return None


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
    """``/Bericht/Client[2]/Bsn``: local names, a position where siblings share the name (found by lxml's
    tag filter, without a proxy for every other sibling)."""
    steps: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        tag = current.tag
        name = tag.rpartition("}")[2]
        parent = current.getparent()
        if parent is not None:
            same = list(parent.iterchildren(tag))
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
        text = mask_values(entry.message)
        items.append(
            ErrorItem(
                code=code,
                text=text,
                line=entry.line or None,
                path=element_path(entry.path, root),
                rule=restriction(text),
            )
        )
    return items
