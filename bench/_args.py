"""Command-line options the gateway sections share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench._steps import DEFAULT_MESSAGE


def add_gateway_arguments(parser: argparse.ArgumentParser, *, seconds: float = 10.0) -> None:
    add = parser.add_argument
    add("--message", type=Path, default=DEFAULT_MESSAGE, help="the message POSTed (Identificatie varied)")
    add("--seconds", type=float, default=seconds, help="timed seconds per run")
    add("--concurrency", type=int, nargs="+", default=[16, 64, 256], help="connections (closed loop)")
    add(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="gateway processes per node role, sharing the node's port (default: one per CPU)",
    )
    add(
        "--database", choices=["postgres", "sqlite"], default="postgres", help="a fresh database of this kind"
    )
    add("--open-rate", type=float, default=500.0, help="open-loop rate per second (0: skip)")
    add("--raw-loop", choices=["asyncio", "uvloop"], default="asyncio", help="event loop of the raw baseline")
