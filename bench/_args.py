"""Command-line options the gateway sections share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench._steps import DEFAULT_MESSAGE


def add_gateway_arguments(
    parser: argparse.ArgumentParser, *, seconds: float = 10.0, databases: int = 1
) -> None:
    """The options of a section that runs gateways; ``databases`` > 1: ``--database`` takes several kinds."""
    add = parser.add_argument
    add("--message", type=Path, default=DEFAULT_MESSAGE, help="the message POSTed (Identificatie varied)")
    add("--seconds", type=float, default=seconds, help="timed seconds per run")
    add("--concurrency", type=int, nargs="+", default=[1, 16, 64, 256], help="connections (closed loop)")
    add(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="gateway processes per node role, sharing the node's port (default: one per CPU)",
    )
    if databases > 1:
        add(
            "--database",
            choices=["postgres", "sqlite"],
            nargs="+",
            default=["postgres", "sqlite"],
            help="a fresh database of each kind, one after the other (SQLite: one process per node role)",
        )
    else:
        add(
            "--database",
            choices=["postgres", "sqlite"],
            default="postgres",
            help="a fresh database of this kind",
        )
    add("--open-rate", type=float, default=500.0, help="open-loop rate per second (0: skip)")
    add_servers_argument(parser)
    add(
        "--raw-loop",
        choices=["asyncio", "uvloop"],
        default="uvloop",
        help="event loop of the raw baseline (default uvloop: the loop gateway serve runs on)",
    )


def add_servers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shared-servers",
        action="store_true",
        help="use the machine's RabbitMQ and PostgreSQL (their CPU then includes everything else on them) "
        "instead of a node and a server of the run's own",
    )
