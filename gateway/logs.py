"""How a serving process logs: one line per event, JSON for collectors or aligned text for a terminal.

``GATEWAY_LOG_FORMAT`` is ``json``, ``console`` or ``auto`` (default: console on a terminal, JSON otherwise);
``GATEWAY_LOG_LEVEL`` is ``debug``, ``info`` (default), ``warning`` or ``error`` (the ``log`` group of
:class:`gateway.config.Settings`). Events below the level
cost one comparison: the bound logger is filtered before anything is rendered. What is logged never
holds a payload or personal data: ids, codes, party codes and sizes only (see docs/security.md).
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import structlog

from gateway.config import LogSettings

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _fallback(value: Any) -> Any:
    """A value JSON has no type for, as structlog's JSON renderer writes it: ``__structlog__()`` or repr."""
    try:
        return value.__structlog__()
    except AttributeError:
        return repr(value)


# structlog's JSON renderer calls json.dumps with a default: that builds an encoder for every line
_encode = json.JSONEncoder(default=_fallback).encode


def _json_line(event_dict: Any, **_options: Any) -> str:
    """The line as structlog's JSON renderer writes it, through one kept encoder."""
    return _encode(event_dict)


def configure(settings: LogSettings, stream: Any = None) -> str:
    """Set up structlog for a serving process; returns the format chosen (``json`` or ``console``)."""
    stream = stream if stream is not None else sys.stdout
    fmt, level_name = settings.log_format, settings.log_level
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    renderer: Any = (
        structlog.processors.JSONRenderer(_json_line)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False, pad_event_to=24)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level_name]),
        # one write per line (PrintLogger's print writes the line and its newline apart: two system calls)
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    return fmt
