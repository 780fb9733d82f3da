"""(c) End to end: POST on the provider node -> consumed from the municipality's mailbox on the municipal node.

Both nodes as ``gateway serve`` processes (``--workers`` per node), a fresh database, a vhost prefix of their
own. The way measured: HTTP ingest with every check, publish with confirm and, on one cluster, straight into
the recipient's mailbox on the other node's vhost (``GATEWAY_LINK_INTO_MAILBOX=false``: into ``link.from-*``,
then the link consumer's check and tracking and its confirmed publish into the quorum mailbox), and an AMQP
consumer (prefetch 300, ack per message; ``--subscriber-acks multiple``: what came since its last ack in one)
on that mailbox. Closed loop at ``--concurrency`` (throughput:
messages consumed per second inside the timed window) and open loop at ``--open-rate`` (latency from each
request's scheduled send time to its consumption). Every accepted tracking id is checked to arrive.
Goal (issue 7): end to end >= 1,000 msg/s.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench import Report, Table
from bench._args import add_gateway_arguments
from bench._figures import COLUMNS, Figures, capacity_note, row
from bench._stack import cpu_seconds, start_gateway
from bench._steps import EndToEnd, Stack, _profile_summary, _py_spy, baseline, end_to_end

TITLE = "End to end: POST -> consumed from the recipient's mailbox on the other node"
GOAL_RATE = 1000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_gateway_arguments(parser)
    parser.add_argument(
        "--e2e-open-rate", type=float, default=0.0, help="open-loop rate (default: half the closed-loop rate)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy one process of a node (--profile-node) during the first closed-loop run",
    )
    parser.add_argument(
        "--profile-node",
        choices=("ggk", "vecozo"),
        default="ggk",
        help="the node --profile samples: ggk receives (its link consumer), vecozo sends (ingest and publish)",
    )
    parser.add_argument(
        "--subscriber-acks",
        choices=("single", "multiple"),
        default="single",
        help="the mailbox subscriber acks each message (single) or what came since its last ack in one "
        "frame (multiple, as a real subscriber may)",
    )
    parser.set_defaults(concurrency=[64])


def run(args: argparse.Namespace) -> Report:
    with Stack.open(args.database, own=not args.shared_servers) as stack:
        raw = baseline(stack, args.message, args.concurrency, args.seconds, args.raw_loop)
        results, split = measure(stack, args)
    return report("e2e", raw, results, args, split)


def measure(stack: Stack, args: argparse.Namespace) -> tuple[list[EndToEnd], dict[str, Any]]:
    """The runs; and for the first closed-loop run the gateway CPU per message of each node (the provider
    node sends, the municipal node receives) with, under ``--profile``, a py-spy profile of one process of
    ``--profile-node``."""
    assert stack.db is not None
    gw = start_gateway(stack.place, stack.db, nodes=("ggk", "vecozo"), workers=args.workers)
    stack.gateways.append(gw)
    results = []
    split: dict[str, Any] = {}
    for i, (c, tag) in enumerate(zip(args.concurrency, "pqrs", strict=False)):
        nodes = {node: [p.pid for p in gw.processes.get(node, [])] for node in ("vecozo", "ggk")}
        profiled = getattr(args, "profile_node", "ggk")
        spy = (
            _py_spy(nodes[profiled][0], args.seconds) if i == 0 and getattr(args, "profile", False) else None
        )
        before = {node: cpu_seconds(pids) for node, pids in nodes.items()}
        acks = getattr(args, "subscriber_acks", "single")
        result = end_to_end(
            stack, args.message, args.seconds, args.workers, c, gateway=gw, tag=f"e{tag}", acks=acks
        )
        results.append(result)
        if i == 0 and result.accepted:
            split = {
                "concurrency": c,
                **{
                    f"{node}_gateway_ms_per_msg": (cpu_seconds(pids) - before[node]) * 1000 / result.accepted
                    for node, pids in nodes.items()
                },
            }
            if spy is not None:
                split["profile"] = {**_profile_summary(*spy), "node": profiled}
    # latency at an offered load the gateway sustains: half the best closed-loop rate (or --e2e-open-rate)
    best = max((r.figures.rate for r in results), default=0.0)
    rate = getattr(args, "e2e_open_rate", 0.0) or round(best / 2 / 10) * 10
    if rate:
        results.append(
            end_to_end(
                stack,
                args.message,
                args.seconds,
                args.workers,
                rate=rate,
                gateway=gw,
                tag="eo",
                acks=getattr(args, "subscriber_acks", "single"),
            )
        )
    gw.stop()
    stack.gateways.remove(gw)
    return results, split


def report(
    section: str,
    raw: list[Figures],
    results: list[EndToEnd],
    args: argparse.Namespace,
    split: dict[str, Any] | None = None,
) -> Report:
    base = {f.concurrency: f for f in raw}
    rows = [row(f) for f in raw] + [row(r.figures, base.get(r.figures.concurrency)) for r in results]
    tables = [
        Table(f"End to end: {args.workers} worker(s) per node, {args.database}", COLUMNS, tuple(rows)),
        Table(
            "Every accepted message consumed exactly once?",
            (
                "run",
                "answered 202",
                "delivered",
                "missing",
                "duplicates",
                "delivered, 202 not seen by the client",
            ),
            tuple(
                (
                    r.figures.what,
                    str(r.accepted),
                    str(r.delivered),
                    str(r.missing),
                    str(r.duplicates),
                    str(r.foreign),
                )
                for r in results
            ),
        ),
    ]
    best = max((r.figures.rate for r in results if r.figures.concurrency), default=0.0)
    notes = [
        "delivered without a 202 seen by the client: requests the generator stopped waiting for (the server "
        "still accepted them) and messages of the run before, in the link at the purge between runs",
        f"goal end to end >= {GOAL_RATE:,.0f} msg/s: best {best:,.0f}/s -> {'MET' if best >= GOAL_RATE else 'NOT MET'}",
    ]
    closed = [r.figures for r in results if r.figures.concurrency]
    if closed:
        fastest = max(closed, key=lambda f: f.rate)
        capacity = capacity_note(f"end to end at c={fastest.concurrency}", fastest, GOAL_RATE)
        if capacity:
            notes.append(capacity)
    if split:
        notes.append(
            f"gateway CPU per message at c={split['concurrency']} by node: sending (vecozo) "
            f"{split['vecozo_gateway_ms_per_msg']:.2f} ms, receiving (ggk) {split['ggk_gateway_ms_per_msg']:.2f} ms"
        )
        shares = (split.get("profile") or {}).get("shares") or {}
        if shares:
            notes.append(
                {"ggk": "receiving", "vecozo": "sending"}[split["profile"].get("node", "ggk")]
                + " node, py-spy: "
                + ", ".join(f"{name} {share:.0%}" for name, share in list(shares.items())[:6])
                + f" (flame graph {split['profile'].get('flamegraph')})"
            )
    data = {
        "raw": [f.as_dict() for f in raw],
        "e2e": [r.as_dict() for r in results],
        "workers": args.workers,
        "by_node": split or {},
    }
    return Report(section, tuple(tables), tuple(notes), data)
