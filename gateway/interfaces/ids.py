"""Identifier rules shared by the interfaces."""

from __future__ import annotations

import re
from typing import Final

# lowercase UUID version 4 (RFC 9562): the form the StUF-GGk schema pins and VECOZO requires
UUID4: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# what may be echoed back in an answer: short, plain (never anything that could be payload)
_ECHO: Final = re.compile(r"[A-Za-z0-9._-]{1,40}")


def is_uuid4(value: str | None) -> bool:
    """Whether ``value`` is a lowercase UUID version 4."""
    return value is not None and UUID4.fullmatch(value) is not None


def echoable(value: str | None) -> str | None:
    """``value`` when it is short and plain enough to repeat in an answer, else None."""
    if value is not None and _ECHO.fullmatch(value):
        return value
    return None
