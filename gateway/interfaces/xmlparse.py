"""Safe parsing of envelopes (StUF-GGk, SOAP) that carry a base64 payload.

The same defences as :mod:`gateway.standard.safexml` (no BOM, UTF-8 only, no DOCTYPE, no entities, no
network, comments and processing instructions dropped), with one difference: an envelope's single base64
text node may be far larger than libxml2's 10 MB text limit, so the parser runs with ``huge_tree``. That
also lifts libxml2's own nesting cap, so the depth is checked right after parsing (an envelope is shallow).
The input is bounded by the caller's size limit before it gets here.
"""

from __future__ import annotations

import threading
from typing import Final

from lxml import etree

from gateway.errors import NotWellFormed
from gateway.standard.safexml import Limits, check_depth_of, check_encoding, check_prolog, new_parser

ENVELOPE_DEPTH: Final = Limits(max_depth=32)
_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = new_parser(huge_tree=True)
    return parser


def parse_envelope(data: bytes, limits: Limits = ENVELOPE_DEPTH) -> etree._Element:
    """The root element of an envelope, or the Rejection naming why it cannot be read."""
    if not data or data.isspace():
        raise NotWellFormed("Envelope is empty")
    check_encoding(data)
    check_prolog(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise NotWellFormed(f"Envelope is not well-formed XML (line {exc.lineno})") from None
    check_depth_of(root, limits)
    return root
