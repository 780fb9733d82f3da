"""The StUF-GGk ggk0210 schema (``schemas/stuf``): envelopes Di01/Du01 and the answers Bv03/Fo01.

Compiled once per thread on first use, like the message schemas (an lxml ``XMLSchema`` keeps one error
log, so threads must not share one).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

from lxml import etree

from gateway.standard.registry import REPO_SCHEMA_DIR, compile_schema

STUF_DIR: Final = REPO_SCHEMA_DIR / "stuf"
_local = threading.local()


def stuf_schema(directory: Path = STUF_DIR) -> etree.XMLSchema:
    """This thread's compiled ggk0210 schema (it imports the StUF 03.01 part with Bv03 and Fo01)."""
    cache: dict[Path, etree.XMLSchema] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    schema = cache.get(directory)
    if schema is None:
        schema = cache[directory] = compile_schema(directory / "ggk0210.xsd", directory)
    return schema
