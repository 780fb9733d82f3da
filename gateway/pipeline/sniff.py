"""The message type of bytes that may not even be XML: for the labels of a refused message only.

A cheap look at the first bytes for an iStandaarden message namespace (no parse). What it finds is bounded
by the catalogue in :meth:`gateway.ops.metrics.GatewayMetrics.label`; anything else counts as ``unknown``.
"""

from __future__ import annotations

import re

_HEAD = 4096
_NAMESPACE = re.compile(rb"http://www\.istandaarden\.nl/(?:ijw|iwmo)/\d+_\d+/((?:jw|wmo)\d{3})/schema")


def message_name(data: bytes) -> str | None:
    """``JW315`` for bytes that declare the jw315 namespace near their start, else None."""
    match = _NAMESPACE.search(data[:_HEAD])
    if match is None:
        return None
    return match.group(1).decode("ascii").upper()
