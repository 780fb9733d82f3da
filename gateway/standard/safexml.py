"""Safe parsing of untrusted message bytes: XML is hostile until proven otherwise.

Order of the checks, cheapest first, each refusal its own error class and a text naming the reason (never
payload content):

1. size (before anything is read)                                  -> :class:`~gateway.errors.TooLarge`
2. encoding: no byte order mark, no NUL bytes, a declared encoding
   (if any) of UTF-8, and bytes that really are UTF-8                -> :class:`~gateway.errors.BadEncoding`
3. prolog: any ``<!DOCTYPE`` (so no DTD, no entity declaration)     -> :class:`~gateway.errors.UnsafeXml`
4. parse with libxml2 in its safe mode: entities are never substituted, no network, no DTD loading,
   ``huge_tree`` off (which also caps nesting at 256 levels inside the parser, so 100,000-deep input
   stops after 256 levels in microseconds)                           -> :class:`~gateway.errors.NotWellFormed`
                                                                        or :class:`~gateway.errors.TooDeep`
5. depth above ``Limits.max_depth`` (one compiled XPath)            -> :class:`~gateway.errors.TooDeep`
6. an ``xsi:schemaLocation`` naming anything outside this message
   (a URL or an absolute path) is refused, although nothing ever fetches it -> :class:`UnsafeXml`

Parsers are per thread: an lxml parser object holds a lock, so one shared parser would serialise the
threads that lxml otherwise lets run without the GIL.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Final, cast

from lxml import etree

from gateway.errors import BadEncoding, NotWellFormed, TooDeep, TooLarge, UnsafeXml

# libxml2 refuses deeper nesting by itself when huge_tree is off (XML_PARSE_HUGE unset).
LIBXML2_MAX_DEPTH: Final = 256
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"

_BOMS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_DECL = re.compile(rb"<\?xml\s[^>]*?\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]*)["']""")
_SPACE = b" \t\r\n"
_SCHEMA_LOCATIONS = etree.XPath(
    "//@xsi:schemaLocation | //@xsi:noNamespaceSchemaLocation", namespaces={"xsi": XSI}
)
_REMOTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|/|\\)")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds for one message. ``max_depth`` counts the root as level 1; libxml2 caps it at 256 anyway."""

    max_bytes: int = 25 * 1024 * 1024
    max_depth: int = 64

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError("Limits.max_bytes must be positive")
        if not 1 <= self.max_depth <= LIBXML2_MAX_DEPTH:
            raise ValueError(f"Limits.max_depth must be between 1 and {LIBXML2_MAX_DEPTH}")


DEFAULT_LIMITS: Final = Limits()

_depth_checks: dict[int, etree.XPath] = {}
_depth_lock = threading.Lock()


def _too_deep(max_depth: int) -> etree.XPath:
    """A compiled XPath that is true when any element sits deeper than ``max_depth``."""
    check = _depth_checks.get(max_depth)
    if check is None:
        with _depth_lock:
            check = _depth_checks.setdefault(
                max_depth, etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")
            )
    return check


_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
            remove_blank_text=False,
        )
        _local.parser = parser
    return parser


def check_encoding(data: bytes) -> None:
    """Refuse anything but UTF-8 without a byte order mark (the standard's only encoding)."""
    if data.startswith(_BOMS):
        raise BadEncoding("Message starts with a byte order mark; send UTF-8 without BOM")
    if b"\x00" in data:
        raise BadEncoding("Message contains NUL bytes (UTF-16 or UTF-32?); send UTF-8")
    decl = _DECL.match(data)
    if decl is not None:
        enc = _ENCODING.search(decl.group(0))
        if enc is not None and enc.group(1).lower() not in (b"utf-8", b"utf8"):
            raise BadEncoding("Message declares an encoding other than UTF-8")
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadEncoding("Message is not valid UTF-8") from None


def check_prolog(data: bytes) -> None:
    """Refuse a document type declaration: the only place a DTD or an entity can be declared."""
    pos, end = 0, len(data)
    while pos < end:
        while pos < end and data[pos] in _SPACE:
            pos += 1
        if data.startswith(b"<?", pos):
            close = data.find(b"?>", pos + 2)
            if close < 0:
                return  # the parser reports it
            pos = close + 2
        elif data.startswith(b"<!--", pos):
            close = data.find(b"-->", pos + 4)
            if close < 0:
                return
            pos = close + 3
        elif data.startswith(b"<!", pos):
            raise UnsafeXml(
                "Message has a document type declaration (DTD); DTDs and entities are not allowed"
            )
        else:
            return


def _syntax_error(exc: etree.XMLSyntaxError) -> NotWellFormed | TooDeep:
    message, line = exc.msg or "", exc.lineno
    if "depth" in message.lower():
        return TooDeep(f"Message nests elements deeper than {LIBXML2_MAX_DEPTH} levels")
    where = f" (line {line})" if line else ""
    # libxml2's syntax messages name constructs, not content; keep only its first clause to be sure.
    reason = message.split(",")[0].strip().rstrip(".")
    return NotWellFormed(f"Message is not well-formed XML{where}: {_mask(reason)}")


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _mask(text: str) -> str:
    return _QUOTED.sub("'…'", text)


def parse(data: bytes, limits: Limits = DEFAULT_LIMITS) -> etree._Element:
    """Parse untrusted bytes into an lxml root element, or raise the Rejection naming the reason."""
    if len(data) > limits.max_bytes:
        raise TooLarge(f"Message is {len(data)} bytes; the limit is {limits.max_bytes} bytes")
    if not data or data.isspace():
        raise NotWellFormed("Message is empty")
    check_encoding(data)
    check_prolog(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    docinfo: Any = root.getroottree().docinfo  # (the stubs lack DocInfo.doctype)
    if docinfo.doctype or docinfo.internalDTD is not None:  # belt and braces behind check_prolog
        raise UnsafeXml("Message has a document type declaration (DTD); DTDs and entities are not allowed")
    if limits.max_depth < LIBXML2_MAX_DEPTH and _too_deep(limits.max_depth)(root):
        raise TooDeep(f"Message nests elements deeper than {limits.max_depth} levels")
    if b"chemaLocation" in data:
        check_schema_locations(root)
    return root


def check_schema_locations(root: etree._Element) -> None:
    """Refuse an ``xsi:schemaLocation`` naming a URL or absolute path (a plain file name is tolerated)."""
    for value in cast("list[etree._ElementUnicodeResult]", _SCHEMA_LOCATIONS(root)):
        parts = str(value).split()
        locations = parts if str(value.attrname).endswith("noNamespaceSchemaLocation") else parts[1::2]
        if any(_REMOTE.match(location) for location in locations):
            raise UnsafeXml("Message points xsi:schemaLocation outside itself (a URL or an absolute path)")
