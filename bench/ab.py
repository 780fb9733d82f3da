"""Before and after in the same minutes: the gateway of another commit beside this checkout's, taking turns.

On a shared machine two runs minutes apart differ by more than most changes do (the load moves), so the
effect of a change is measured interleaved: a ``git worktree`` of ``--base`` (a commit, branch or tag) and
this checkout each start ``gateway serve --node vecozo`` (``--workers`` processes each) on one RabbitMQ node
and one PostgreSQL database of the run's own; wrk then drives A (the base) and B (this checkout) in turn at
each concurrency, ``--rounds`` times, the order alternating, and each run meters the CPU of its gateway's
processes, the broker and the database server. The medians per side and concurrency are the result.
``python -m bench ab --base main --concurrency 1 64``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench import REPO, Report, Table
from bench._serve import Gateway
from bench._steps import DEFAULT_MESSAGE, Stack, meter
from bench._wrk import run_wrk

TITLE = "A/B: the gateway of another commit beside this checkout's, interleaved (CPU per message)"
SENDER = "42420001"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--base", default="main", help="the commit A runs (B is this checkout as it is)")
    add("--concurrency", type=int, nargs="+", default=[1, 64], help="connections (closed loop)")
    add("--rounds", type=int, default=3, help="turns of each side at each concurrency")
    add("--seconds", type=float, default=6.0, help="timed seconds per turn")
    add("--workers", type=int, default=1, help="gateway processes per side")
    add("--message", type=Path, default=DEFAULT_MESSAGE, help="the message POSTed (Identificatie varied)")


def run(args: argparse.Namespace) -> Report:
    base = Path(tempfile.mkdtemp(prefix="gw-ab-base-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=REPO, check=True)
    try:
        return _measure(args, base)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False)


def _measure(args: argparse.Namespace, base: Path) -> Report:
    runs: dict[tuple[str, int], list[tuple[float, float, float, float]]] = {}
    with Stack.open("postgres") as stack:
        assert stack.db is not None
        sides = {}
        for name, checkout in (("A", base), ("B", REPO)):
            gw = Gateway.prepare(
                Path(tempfile.mkdtemp(prefix=f"gw-ab-{name}-")),
                stack.place.amqp_url,
                stack.place.management_url,
                stack.db.url,
                stack.place.prefix,
                {"vecozo": ("vecozo", args.workers)},
                {"GATEWAY_RATE_LIMIT": "0", "PYTHONPATH": str(checkout)},
                cwd=checkout,  # python -m gateway imports the checkout it runs in
            )
            stack.gateways.append(gw)
            gw.start()
            sides[name] = gw
        vhost = f"{stack.place.prefix}vecozo"
        stack.place.delete_shovel(vhost, "link-vecozo-to-ggk")  # ingest only, as bench ingest
        token = stack.token(SENDER)
        for name, gw in sides.items():
            run_wrk(gw.url("vecozo"), args.message, token, f"w{name}", 64, 3)  # warm-up
        stack.db.analyze()
        stack.place.purge(vhost, "link.to-ggk")
        for turn in range(args.rounds):
            for c in args.concurrency:
                for name in ("A", "B") if turn % 2 == 0 else ("B", "A"):
                    gw = sides[name]
                    with meter(gw.pids, stack.broker_pids, stack.database_pid) as cpu:
                        result = run_wrk(
                            gw.url("vecozo"), args.message, token, f"{name}{turn}{c}", c, args.seconds
                        )
                    n = max(result.requests - result.not_202, 1)
                    gw_s, broker_s, db_s = (x or 0.0 for x in cpu)
                    runs.setdefault((name, c), []).append(
                        (n / args.seconds, gw_s * 1000 / n, broker_s * 1000 / n, db_s * 1000 / n)
                    )
                    time.sleep(1)  # what wrk left in flight is published
                    stack.place.purge(vhost, "link.to-ggk")
    rows = []
    data = []
    for c in args.concurrency:
        for name in ("A", "B"):
            med = [statistics.median(r[i] for r in runs[(name, c)]) for i in range(4)]
            label = f"{name}: {args.base}" if name == "A" else "B: this checkout"
            rows.append(
                (label, str(c), f"{med[0]:,.0f}", *(f"{m:.2f}" for m in med[1:]), f"{sum(med[1:]):.2f}")
            )
            data.append(
                {
                    "side": name,
                    "concurrency": c,
                    "rate": med[0],
                    "gateway_ms": med[1],
                    "broker_ms": med[2],
                    "database_ms": med[3],
                    "runs": runs[(name, c)],
                }
            )
    columns = (
        "side",
        "conc",
        "msg/s",
        "gw CPU ms/msg",
        "broker CPU ms/msg",
        "db CPU ms/msg",
        "all-in CPU ms/msg",
    )
    title = f"Medians of {args.rounds} interleaved turns of {args.seconds:g} s, {args.workers} process(es) per side"
    return Report("ab", (Table(title, columns, tuple(rows)),), (), {"base": args.base, "medians": data})
