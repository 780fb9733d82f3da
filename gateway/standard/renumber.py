"""A message with a new Identificatie in its header: the same content sent again as a new message.

The chain keys a message on (sender, message type, Identificatie; IdentificatieRetour for a retour): the same
bytes again get the first answer back, so trying an example twice needs a new Identificatie. Only that value
changes; every other byte of the message stays as it was.
"""

from __future__ import annotations

import re
import uuid

from gateway.standard import safexml

MAX_LENGTH = 12  # LDT_IdentificatieBericht: 1 to 12 characters, not only white space

_HEADER_END = re.compile(rb"</(?:[\w.-]+:)?Header\s*>")


def _element(name: str) -> re.Pattern[bytes]:
    return re.compile(rb"(<(?:[\w.-]+:)?" + name.encode() + rb"\s*>)[^<]*(</)")


_RETOUR = _element("IdentificatieRetour")
_IDENTIFICATIE = _element("Identificatie")


def new_identificatie() -> str:
    """A fresh value for LDT_IdentificatieBericht (12 hexadecimal characters)."""
    return uuid.uuid4().hex[:MAX_LENGTH]


def renumbered(data: bytes, identificatie: str | None = None) -> bytes:
    """``data`` with its header's IdentificatieRetour (a retour), else Identificatie, set to a new value.

    ``identificatie`` (default a new one) must fit LDT_IdentificatieBericht, else ``ValueError``, as for a
    message without such a header element; not well-formed XML raises the parser's rejection.
    """
    value = new_identificatie() if identificatie is None else identificatie
    if not 1 <= len(value) <= MAX_LENGTH or value.isspace() or "<" in value or "&" in value:
        raise ValueError(f"an Identificatie has 1 to {MAX_LENGTH} characters, not only white space")
    safexml.parse(data)
    end = _HEADER_END.search(data)
    if end is None:
        raise ValueError("the message has no Header")
    header, rest = data[: end.start()], data[end.start() :]
    pattern = _RETOUR if _RETOUR.search(header) else _IDENTIFICATIE
    header, count = pattern.subn(rb"\g<1>" + value.encode() + rb"\g<2>", header, count=1)
    if count != 1:
        raise ValueError("the message header has no Identificatie")
    return header + rest
