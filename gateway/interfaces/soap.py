"""SOAP 1.1 (document/literal): unwrap a request envelope, build a response or a fault. Pure: no I/O.

A fault follows SOAP 1.1 section 4.4: ``faultcode`` ``soap:Client`` for a refused message (sending it again
unchanged fails again) and ``soap:Server`` for a fault on our side, ``faultstring`` a readable text, and
``detail`` the interface's own error element carrying the chain code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from lxml import etree

from gateway.interfaces.errors import NotAnEnvelope
from gateway.interfaces.qnames import in_namespace

SOAP11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12: Final = "http://www.w3.org/2003/05/soap-envelope"
MEDIA_TYPE: Final = "text/xml; charset=utf-8"


_q: Final = in_namespace(SOAP11)


@dataclass(frozen=True, slots=True)
class Request:
    """A SOAP request: its header blocks and the single element in its Body."""

    headers: tuple[etree._Element, ...]
    body: etree._Element


def unwrap(root: etree._Element) -> Request:
    """The header blocks and the body element of a SOAP 1.1 envelope, or NotAnEnvelope."""
    if root.tag == f"{{{SOAP12}}}Envelope":
        raise NotAnEnvelope("SOAP 1.2 is not supported; send a SOAP 1.1 envelope")
    if root.tag != _q("Envelope"):
        raise NotAnEnvelope("Not a SOAP 1.1 envelope")
    header = root.find(_q("Header"))
    body = root.find(_q("Body"))
    if body is None:
        raise NotAnEnvelope("The SOAP envelope has no Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise NotAnEnvelope("The SOAP Body must hold exactly one element")
    blocks = tuple(c for c in header if isinstance(c.tag, str)) if header is not None else ()
    return Request(headers=blocks, body=children[0])


def envelope(body: etree._Element, headers: Sequence[etree._Element] = ()) -> bytes:
    """A SOAP 1.1 envelope around ``body`` (and header blocks), serialised."""
    root = etree.Element(_q("Envelope"), nsmap={"soap": SOAP11})
    if headers:
        header = etree.SubElement(root, _q("Header"))
        header.extend(headers)
    etree.SubElement(root, _q("Body")).append(body)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fault(client: bool, text: str, detail: etree._Element | None = None) -> bytes:
    """A SOAP 1.1 fault; ``client`` picks ``soap:Client`` (refused) or ``soap:Server`` (our side)."""
    element = etree.Element(_q("Fault"), nsmap={"soap": SOAP11})
    etree.SubElement(element, "faultcode").text = "soap:Client" if client else "soap:Server"
    etree.SubElement(element, "faultstring").text = text
    if detail is not None:
        etree.SubElement(element, "detail").append(detail)
    return envelope(element)


def read_fault(root: etree._Element) -> tuple[str, str, etree._Element | None]:
    """(faultcode, faultstring, first detail element) of a SOAP 1.1 fault response (tests, clients)."""
    body = root.find(_q("Body"))
    found = body.find(_q("Fault")) if body is not None else None
    if found is None:
        raise NotAnEnvelope("Not a SOAP fault")
    detail = found.find("detail")
    first = next((c for c in detail if isinstance(c.tag, str)), None) if detail is not None else None
    return found.findtext("faultcode") or "", found.findtext("faultstring") or "", first


def body_of(root: etree._Element) -> etree._Element:
    """The single element in the Body of a SOAP response (tests, clients)."""
    return unwrap(root).body


def envelope_limit(max_bytes: int) -> int:
    """The largest request that can carry a ``max_bytes`` payload in base64, with room for the envelope."""
    return max_bytes * 4 // 3 + 64 * 1024
