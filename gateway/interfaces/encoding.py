"""Strict base64 as the envelopes carry it (StUF ``xmlBestand``, VSP ``Bestand``). Pure."""

from __future__ import annotations

import binascii
from typing import Final

_BASE64_SPACE: Final = (b" ", b"\t", b"\r", b"\n")


def decode_base64(text: str | None) -> bytes | None:
    """Strict base64 (line breaks and spaces allowed, as xs:base64Binary allows them), or None."""
    if text is None:
        return None
    try:
        compact = text.encode("ascii")
        for space in _BASE64_SPACE:  # a few memchr scans: far cheaper than a regex or translate
            if space in compact:
                compact = compact.replace(space, b"")
        return binascii.a2b_base64(compact, strict_mode=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
