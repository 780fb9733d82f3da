"""Safe parsing of untrusted message bytes: XML is hostile until proven otherwise.

Order of the checks, cheapest first, each refusal its own error class and a text naming the reason (never
payload content):

1. size, before anything is read                                   -> :class:`~gateway.errors.TooLarge`
2. encoding: no byte order mark, no UTF-16/32 (NUL in the first bytes), a declared encoding (if any) of
   UTF-8                                                            -> :class:`~gateway.errors.BadEncoding`
3. prolog: any ``<!DOCTYPE`` (the only place a DTD or an entity can be declared) -> :class:`UnsafeXml`
4. parse with libxml2 in its safe mode: entities never substituted, no network, no DTD loading,
   ``huge_tree`` off, which also caps nesting at 256 levels inside the parser (100,000-deep input stops
   after 256 levels, in microseconds). Bytes that are not UTF-8  -> :class:`BadEncoding`;
   too deep for libxml2 -> :class:`TooDeep`; anything else       -> :class:`NotWellFormed`
5. nesting deeper than ``Limits.max_depth`` (one compiled XPath) -> :class:`TooDeep`
6. an ``xsi:schemaLocation`` naming a URL or an absolute path     -> :class:`UnsafeXml` (nothing here ever
   fetches it, but a receiver's software might)

Comments and processing instructions are dropped from the tree (never from the bytes, which travel on
unchanged). When the body holds no comment, CDATA section or processing instruction, whitespace-only text
between elements is dropped too (libxml2's ``remove_blank_text``): about a quarter less parse and
validation time. With those constructs absent, libxml2 drops only whitespace that sits before a child
element or after the last child element, which XSD validation ignores in element-only content and which
makes a simple-typed element invalid either way; a whitespace-only value (``<X>  </X>``) is kept.

Parsers are per thread: an lxml parser object holds a lock, so one shared parser would serialise the
threads that lxml otherwise lets run without the GIL.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Final, cast

from lxml import etree

from gateway.errors import BadEncoding, NotWellFormed, TooDeep, TooLarge, UnsafeXml, XmlVersion

# libxml2 refuses deeper nesting by itself when huge_tree is off (XML_PARSE_HUGE unset).
LIBXML2_MAX_DEPTH: Final = 256
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
_XSI: Final = XSI.encode()
_XML_ERR_INVALID_ENCODING: Final = 81

_BOMS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_DECL_VERSION = re.compile(rb"""version\s*=\s*["']([^"']*)["']""")
_SPACES: Final = (b" ", b"\t", b"\r", b"\n")
# the declarations nearly every message starts with, accepted without reading them further
_PLAIN_DECLARATIONS: Final = frozenset(
    f"<?xml version={q}1.0{q}{enc}{sa}?>".encode()
    for q in ('"', "'")
    for enc in ("", f" encoding={q}UTF-8{q}", f" encoding={q}utf-8{q}")
    for sa in ("", f" standalone={q}yes{q}", f" standalone={q}no{q}")
)
# one of _PLAIN_DECLARATIONS (one quote character throughout), white space, and the root's start tag
_PLAIN_START = re.compile(
    rb"""<\?xml version=(["'])1\.0\1(?: encoding=\1(?:UTF|utf)-8\1)?(?: standalone=\1(?:yes|no)\1)?\?>"""
    rb"[ \t\r\n]*(?=<(?![!?]))"
)
# the most usual start of all: the usual declaration, a line end and a "<" (the first after the declaration)
_USUAL_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>'
_USUAL_STARTS: Final = (_USUAL_DECLARATION + b"\n<", _USUAL_DECLARATION + b"\r\n<")
_PROLOG = re.compile(rb"(?:[ \t\r\n]|<!--.*?-->|<\?.*?\?>)*", re.S)
_SCHEMA_LOCATIONS = etree.XPath(
    "//@xsi:schemaLocation | //@xsi:noNamespaceSchemaLocation", namespaces={"xsi": XSI}
)
_REMOTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|/|\\)")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


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
_local = threading.local()


def _too_deep(max_depth: int) -> etree.XPath:
    """A compiled XPath that is true when any element sits deeper than ``max_depth``."""
    check = _depth_checks.get(max_depth)
    if check is None:
        with _depth_lock:
            expression = "boolean(" + "/*" * (max_depth + 1) + ")"
            check = _depth_checks.setdefault(max_depth, etree.XPath(expression))
    return check


def new_parser(*, remove_blank_text: bool = False, huge_tree: bool = False) -> etree.XMLParser:
    """A parser with the defences of this module: no DTD, entities or network, comments and processing
    instructions dropped; ``huge_tree`` lifts libxml2's text and depth limits (the caller then checks the
    depth, see :func:`check_depth_of`). A parser is not thread-safe: keep one per thread."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge_tree,
        collect_ids=False,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=remove_blank_text,
    )


def _parsers() -> tuple[etree.XMLParser, etree.XMLParser]:
    """This thread's (plain, blank-dropping) parsers."""
    parsers: tuple[etree.XMLParser, etree.XMLParser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = (new_parser(), new_parser(remove_blank_text=True))
    return parsers


def _declaration_end(data: bytes) -> int:
    """Offset just past the XML declaration, or 0 without one."""
    if not data.startswith(b"<?xml") or data[5:6] not in _SPACES:  # not <?xml-stylesheet ...?>
        return 0
    end = data.find(b"?>", 5, 512)
    return end + 2 if end > 0 else 0


def check_encoding(data: bytes) -> None:
    """Refuse what is visibly not XML 1.0 in UTF-8 without BOM (OP192); invalid UTF-8 bytes are caught by
    the parser."""
    if data.startswith(_BOMS):
        raise BadEncoding("Message starts with a byte order mark; send UTF-8 without BOM")
    if b"\x00" in data[:4]:
        raise BadEncoding("Message is UTF-16 or UTF-32; send UTF-8")
    end = _declaration_end(data)
    if end and data[:end] not in _PLAIN_DECLARATIONS:
        version = _DECL_VERSION.search(data, 5, end)
        if version is None or version.group(1) != b"1.0":
            raise XmlVersion("Message declares an XML version other than 1.0")
        declared = _DECL_ENCODING.search(data, 5, end)
        if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            raise BadEncoding("Message declares an encoding other than UTF-8")


def check_prolog(data: bytes) -> int:
    """Refuse a document type declaration: the prolog may hold only the XML declaration, comments,
    processing instructions and white space. Returns the offset where the root element starts."""
    pos = _declaration_end(data)
    while data[pos : pos + 1] in _SPACES:
        pos += 1
    if data[pos : pos + 1] != b"<" or data[pos + 1 : pos + 2] in (b"!", b"?"):
        prolog = _PROLOG.match(data, pos)
        pos = prolog.end() if prolog is not None else pos
    if data.startswith(b"<!", pos):
        raise UnsafeXml("Message has a document type declaration (DTD); DTDs and entities are not allowed")
    return pos


def _syntax_error(exc: etree.XMLSyntaxError) -> NotWellFormed | TooDeep | BadEncoding:
    message, line, code = exc.msg or "", exc.lineno, getattr(exc, "code", None)  # (stubs lack .code)
    where = f" (line {line})" if line else ""
    if code == _XML_ERR_INVALID_ENCODING:
        return BadEncoding(f"Message is not valid UTF-8{where}")
    if message.startswith("Excessive depth"):
        return TooDeep(f"Message nests elements deeper than {LIBXML2_MAX_DEPTH} levels")
    # libxml2's syntax messages name constructs (tags), not content; keep the first clause, mask quotes.
    reason = _QUOTED.sub("'…'", message.split(",")[0].strip().rstrip("."))
    return NotWellFormed(f"Message is not well-formed XML{where}: {reason}")


def _has_markup_beyond_elements(data: bytes, start: int) -> bool:
    """Whether the body holds a comment, CDATA section or processing instruction (``<!`` or ``<?``).
    A one-byte search (memchr) first: without any ``!`` or ``?`` there can be none."""
    if data.find(b"!", start) < 0 and data.find(b"?", start) < 0:
        return False
    return data.find(b"<!", start) >= 0 or data.find(b"<?", start) >= 0


def parse(data: bytes, limits: Limits = DEFAULT_LIMITS, *, check_depth: bool = True) -> etree._Element:
    """Parse untrusted bytes into an lxml root element, or raise the Rejection naming the reason.

    ``check_depth=False`` leaves the ``max_depth`` check (not libxml2's own cap) to the caller, for a
    caller that knows a valid message cannot be that deep (see :class:`gateway.standard.engine.Engine`).
    """
    return parse_noting_xsi(data, limits, check_depth=check_depth)[0]


def parse_noting_xsi(
    data: bytes, limits: Limits = DEFAULT_LIMITS, *, check_depth: bool = True
) -> tuple[etree._Element, bool]:
    """:func:`parse`, and whether the message may use the ``xsi`` namespace: False when no namespace
    declaration in it can name that namespace's URI (it can hold no ``xsi:type`` or ``xsi:nil``)."""
    if len(data) > limits.max_bytes:
        raise TooLarge(f"Message is {len(data)} bytes; the limit is {limits.max_bytes} bytes")
    if not data or data.isspace():
        raise NotWellFormed("Message is empty")
    # what check_encoding and check_prolog accept without a word: the usual start by two comparisons,
    # the usual prolog in one match
    start = data.find(b"<", len(_USUAL_DECLARATION)) if data.startswith(_USUAL_STARTS) else 0
    if not start or data[start + 1 : start + 2] in (b"!", b"?"):
        usual = _PLAIN_START.match(data)
        if usual is not None:
            start = usual.end()
        else:
            check_encoding(data)
            start = check_prolog(data)
    plain, blank_dropping = _parsers()
    parser = plain if _has_markup_beyond_elements(data, start) else blank_dropping
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    if check_depth:
        check_depth_of(root, limits)
    # Attributes are rare in these messages: with no "=" after the root's start tag (its first ">") only
    # the root itself can carry attributes, xsi:schemaLocation and namespace declarations among them,
    # and every one of them has its name, its "=" and (a URI holds no ">") a namespace URI before that
    # ">"; otherwise look everywhere.
    root_end = data.find(b">", start)
    if data.find(b"=", root_end) >= 0:
        check_schema_locations(root)
        return root, _XSI in data
    if data.find(b"chemaLocation", start, root_end) >= 0:
        check_schema_locations(root)
    return root, data.find(_XSI, start, root_end) >= 0


def check_depth_of(root: etree._Element, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse elements nested deeper than ``limits.max_depth`` (one compiled XPath, a few microseconds)."""
    if limits.max_depth < LIBXML2_MAX_DEPTH and _too_deep(limits.max_depth)(root):
        raise TooDeep(f"Message nests elements deeper than {limits.max_depth} levels")


def check_schema_locations(root: etree._Element) -> None:
    """Refuse an ``xsi:schemaLocation`` naming a URL or absolute path (a plain file name is tolerated)."""
    for value in cast("list[etree._ElementUnicodeResult]", _SCHEMA_LOCATIONS(root)):
        parts = str(value).split()
        locations = parts if str(value.attrname).endswith("noNamespaceSchemaLocation") else parts[1::2]
        if any(_REMOTE.match(location) for location in locations):
            raise UnsafeXml("Message points xsi:schemaLocation outside itself (a URL or an absolute path)")
