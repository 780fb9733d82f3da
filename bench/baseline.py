"""(a) The baseline: raw aio-pika publishing of the gateway's message bytes, persistent, with publisher
confirms, to a quorum queue, at the concurrencies of the ingest benchmark (and open loop at a fixed rate).

Runs on the broker at ``GATEWAY_AMQP_URL`` (default the machine's) in a vhost of its own, removed afterwards.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import Report, Table
from bench._args import add_servers_argument
from bench._figures import COLUMNS, row
from bench._steps import DEFAULT_MESSAGE, Stack, baseline

TITLE = "Raw broker baseline: aio-pika persistent publish with confirms to a quorum queue"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--message", type=Path, default=DEFAULT_MESSAGE)
    add("--seconds", type=float, default=10.0, help="timed seconds per run (after 1 s warm-up)")
    add("--concurrency", type=int, nargs="+", default=[16, 64, 256], help="publishes in flight")
    add("--loop", choices=["asyncio", "uvloop", "both"], default="both", help="event loop of the client")
    add("--open-rate", type=float, default=500.0, help="open-loop rate per second (0: skip)")
    add_servers_argument(parser)


def run(args: argparse.Namespace) -> Report:
    loops = ["asyncio", "uvloop"] if args.loop == "both" else [args.loop]
    figures = []
    with Stack.open(None, own=not args.shared_servers) as stack:
        for loop in loops:
            figures += baseline(stack, args.message, args.concurrency, args.seconds, loop)
        if args.open_rate:
            figures += baseline(stack, args.message, [1024], args.seconds, loops[0], rate=args.open_rate)
    table = Table(TITLE, COLUMNS, tuple(row(f) for f in figures))
    return Report("baseline", (table,), (), {"figures": [f.as_dict() for f in figures]})
