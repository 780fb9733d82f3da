"""Cheaper facets of the same meaning, for the release's shared schema (the one that only says valid).

libxml2 checks an ``xs:enumeration`` by comparing the value with each listed value in turn (about 100
instructions a value: a Dutch address's ``NL`` sits 160th of 249 country codes, 25,000 instructions), and
runs an ``xs:pattern`` through its own regular-expression engine, whose cost per character grows with the
transitions it tries and the states it saves to come back to (``.*[^\\s].*`` saves one at every character).
Two rewrites give libxml2 less to do and accept exactly the same values:

- the enumerations of a restriction of ``xs:string`` whose values are letters and digits become one
  pattern, the values as a trie (``0[12345]|1[12]``): at every character at most one way on. An
  ``xs:string`` is never whitespace-normalised, so its value space and lexical space are the same strings,
  and a pattern matches the whole value; only where the restriction holds no pattern of its own (patterns
  of one derivation step are alternatives, not conditions) and no ``xs:whiteSpace``;
- a pattern of :data:`EQUIVALENT` becomes its deterministic form;
- a ``minLength`` or ``maxLength`` beside a restriction's one pattern whose values all have a length
  within it (a code list's trie, ``[0-9]{9}``, a pattern that needs a character) is dropped: libxml2
  counts the characters of every value for it.

Only the shared schema is rewritten (:mod:`gateway.standard.registry`): the engine asks it whether a message
is valid, and asks the message's own schema, as written, for every refusal and its texts (a pattern's
text names its rule, see :mod:`gateway.standard.errortext`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from lxml import etree

XS: Final = "http://www.w3.org/2001/XMLSchema"
_ENUMERATION: Final = f"{{{XS}}}enumeration"
_PATTERN: Final = f"{{{XS}}}pattern"
_WHITESPACE: Final = f"{{{XS}}}whiteSpace"
_MIN_LENGTH: Final = f"{{{XS}}}minLength"
_MAX_LENGTH: Final = f"{{{XS}}}maxLength"
_DIGITS = re.compile(r"\[0-9\]\{([0-9]+)\}")
_RESTRICTION: Final = f"{{{XS}}}restriction"
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9]+")

_Trie = dict[str, "_Trie"]  # a character -> the values' rest; "" marks the end of a value

# XSD regular expressions of the same language, the right one without a choice libxml2 must come back to.
# In XSD ``.`` is any character but \n and \r, ``\s`` is space, tab, \n and \r, ``[.\s]`` holds a dot.
# the shortest and longest value (None: any) each pattern of EQUIVALENT's right side accepts
_LENGTHS: Final[dict[str, tuple[int, int | None]]] = {
    r"[ \t]*[^\s][^\n\r]*": (1, None),
    r"\s*\S[\s\S]*": (1, None),
}
EQUIVALENT: Final = {
    # no \n or \r, and some character that is not white space: the first one comes after spaces and tabs
    r".*[^\s].*": r"[ \t]*[^\s][^\n\r]*",
    # runs of non-space characters between runs of white space and dots: any string with a non-space
    r"([.\s]*\S+[.\s]*)+": r"\s*\S[\s\S]*",
}


def trie_pattern(values: Iterable[str]) -> str:
    """One XSD pattern matching exactly these strings of letters and digits, as a trie: the values that
    share a first character share its branch (``01``, ``02``, ``11`` -> ``(0[12]|11)``)."""
    trie: _Trie = {}
    for value in values:
        node = trie
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}
    return _branch(trie)


def _branch(node: _Trie) -> str:
    children = {char: child for char, child in node.items() if char}
    leaves = sorted(char for char, child in children.items() if list(child) == [""])
    ways = [leaves[0]] if len(leaves) == 1 else ([f"[{''.join(leaves)}]"] if leaves else [])
    ways += [char + _branch(children[char]) for char in sorted(children) if char not in leaves]
    if not ways:
        return ""
    body = ways[0] if len(ways) == 1 else f"({'|'.join(ways)})"
    return f"({body})?" if "" in node else body


def _is_string(restriction: etree._Element) -> bool:
    prefix, _, local = (restriction.get("base") or "").rpartition(":")
    return local == "string" and restriction.nsmap.get(prefix or None) == XS


def rewrite(document: etree._Element) -> int:
    """Rewrite the facets of one schema document in place (see the module docstring); how many."""
    changed = 0
    bounds: dict[str, tuple[int, int | None]] = dict(_LENGTHS)  # patterns' shortest and longest values
    for restriction in document.iter(_RESTRICTION):
        patterns = restriction.findall(_PATTERN)
        for pattern in patterns:  # (patterns of one step are alternatives: each may be rewritten)
            faster = EQUIVALENT.get(pattern.get("value", ""))
            if faster is not None:
                pattern.set("value", faster)
                changed += 1
        enumerations = restriction.findall(_ENUMERATION)
        values = [e.get("value", "") for e in enumerations]
        if (
            len(values) < 2
            or patterns
            or restriction.find(_WHITESPACE) is not None
            or not _is_string(restriction)
            or not all(_PLAIN_VALUE.fullmatch(v) for v in values)
        ):
            continue
        at = restriction.index(enumerations[0])
        for enumeration in enumerations:
            restriction.remove(enumeration)
        trie = trie_pattern(values)
        restriction.insert(at, etree.Element(_PATTERN, value=trie))
        changed += 1
        bounds[trie] = (min(map(len, values)), max(map(len, values)))
    for restriction in document.iter(_RESTRICTION):
        changed += _drop_implied_lengths(restriction, bounds)
    return changed


def _drop_implied_lengths(restriction: etree._Element, bounds: dict[str, tuple[int, int | None]]) -> int:
    """Drop the ``minLength`` and ``maxLength`` of an ``xs:string`` restriction whose one pattern accepts
    no value that they refuse (its lengths known: a code list's trie, ``[0-9]{n}``, :data:`_LENGTHS`)."""
    patterns = restriction.findall(_PATTERN)
    if len(patterns) != 1 or not _is_string(restriction):
        return 0
    value = patterns[0].get("value", "")
    digits = _DIGITS.fullmatch(value)
    lengths = bounds.get(value)
    if digits is not None:
        lengths = (int(digits.group(1)), int(digits.group(1)))
    if lengths is None:
        return 0
    shortest, longest = lengths
    dropped = 0
    for facet in restriction.findall(_MIN_LENGTH) + restriction.findall(_MAX_LENGTH):
        limit = int(facet.get("value", "-1"))
        implied = shortest >= limit if facet.tag == _MIN_LENGTH else longest is not None and longest <= limit
        if implied:
            restriction.remove(facet)
            dropped += 1
    return dropped
