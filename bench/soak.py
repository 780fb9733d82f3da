"""Memory over a long run: both nodes under a steady open-loop end-to-end load, RSS sampled throughout.

``gateway serve`` processes (``--workers`` per node) on a fresh database; POSTs at ``--rate`` per second to
the provider node for ``--minutes``, an AMQP consumer empties the municipality's mailbox. Every
``--every`` seconds the resident set size of each gateway process is sampled. Flat means (issue 18): the RSS
of each process at minute ``--minutes`` (the end of the load) is within ``--tolerance`` of its RSS at minute
``--settled`` (the first minutes are warm-up: caches, connection pools, allocator arenas).

``--tracemalloc DIR``: the gateway processes start tracemalloc at minute ``--settled`` (slower from then
on) and write a snapshot then and at the end of the load into DIR; the report lists the code locations
whose allocations grew most between the two (sizes and places only, never a value).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from bench import Report, Table
from bench._args import add_servers_argument
from bench._figures import finish_generator, start_generator
from bench._stack import rss_bytes, start_gateway
from bench._steps import DEFAULT_MESSAGE, RECIPIENT, SENDER, Stack

TITLE = "Memory of the gateway processes over a long steady end-to-end load"
MIB = 1024 * 1024
_MEMTRACE = Path(__file__).resolve().parent / "_memtrace"  # its sitecustomize.py starts tracemalloc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--message", type=Path, default=DEFAULT_MESSAGE)
    add("--minutes", type=float, default=10.0)
    add("--rate", type=float, default=200.0, help="requests per second (open loop)")
    add("--workers", type=int, default=1, help="gateway processes per node role")
    add("--every", type=float, default=15.0, help="seconds between memory samples")
    add("--settled", type=float, default=2.0, help="the minute whose RSS the end is compared with")
    add("--tolerance", type=float, default=0.10, help="growth from --settled to the end counted as flat")
    add("--tracemalloc", type=Path, metavar="DIR", help="snapshots of each process (see the module doc)")
    add("--database", choices=["postgres", "sqlite"], default="postgres")
    add_servers_argument(parser)


def run(args: argparse.Namespace) -> Report:
    seconds = args.minutes * 60
    extra: dict[str, str] = {}
    if args.tracemalloc is not None:
        args.tracemalloc.mkdir(parents=True, exist_ok=True)
        path = os.environ.get("PYTHONPATH")
        extra = {
            "GATEWAY_BENCH_TRACEMALLOC": str(args.tracemalloc.resolve()),
            "PYTHONPATH": f"{_MEMTRACE}{os.pathsep}{path}" if path else str(_MEMTRACE),
        }
    with Stack.open(args.database, own=not args.shared_servers) as stack:
        assert stack.db is not None
        gw = start_gateway(
            stack.place, stack.db, nodes=("ggk", "vecozo"), workers=args.workers, extra_env=extra
        )
        stack.gateways.append(gw)
        labels = [f"{node} {i}" for node, procs in gw.processes.items() for i in range(len(procs))]
        consumer, consumed_file = start_generator(
            "consume",
            {
                "url": stack.place.vhost_url(f"{stack.place.prefix}ggk"),
                "queue": f"mailbox.{RECIPIENT}",
                "expect": 0,
                "seconds": seconds + 120,
                "idle": 15.0,
            },
        )
        load, load_file = start_generator(
            "http",
            {
                "host": "127.0.0.1",
                "port": gw.ports["vecozo"],
                "token": stack.token(SENDER),
                "message": str(args.message),
                "tag": "s",
                "seconds": seconds,
                "rate": args.rate,
                "concurrency": 512,
                "warmup": 0.0,
                "record_ids": True,
            },
        )
        samples: list[tuple[float, list[int]]] = []
        snapshots = [args.settled * 60, seconds] if args.tracemalloc is not None else []
        start = time.monotonic()
        while load.poll() is None and time.monotonic() - start <= seconds + args.every:
            now = time.monotonic() - start
            samples.append((now, [rss_bytes(pid) for pid in gw.pids]))
            if snapshots and now >= snapshots[0]:
                snapshots.pop(0)
                for pid in gw.pids:
                    os.kill(pid, signal.SIGUSR2)
            time.sleep(max(0.0, args.every - (time.monotonic() - start - now)))
        try:  # an overloaded node leaves the generator with work long after the load's end
            sent = finish_generator(load, load_file, timeout=300)
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait()
            sent = {"statuses": "the load generator did not finish within 5 minutes of the load's end"}
        consumed = finish_generator(consumer, consumed_file)["arrived"]
        growth = _growth(args.tracemalloc, gw.pids, args.settled) if args.tracemalloc is not None else []
    return _report(args, labels, samples, sent, consumed, growth)


def _at(samples: list[tuple[float, list[int]]], minute: float) -> tuple[float, list[int]]:
    """The sample nearest to ``minute``."""
    return min(samples, key=lambda s: abs(s[0] - minute * 60))


def flatness(
    samples: list[tuple[float, list[int]]], settled: float, end: float, tolerance: float
) -> tuple[list[tuple[float, float, float]], bool]:
    """Per process (RSS at ``settled``, RSS at ``end``, growth), and whether each grew at most
    ``tolerance``: the issue's figure, minute 2 against minute 10."""
    (_, first), (_, last) = _at(samples, settled), _at(samples, end)
    rows = [(a, b, (b - a) / a if a else 0.0) for a, b in zip(first, last, strict=True)]
    return rows, all(g <= tolerance for _, _, g in rows)


def _growth(folder: Path, pids: list[int], settled: float, top: int = 15) -> list[str]:
    """The code locations whose allocations grew most between each process's first and last snapshot
    (what it allocated after tracing started and still held at the end)."""
    lines: list[str] = []
    deadline = time.monotonic() + 60
    for pid in pids:
        snaps = sorted(folder.glob(f"{pid}-*.snap"), key=lambda p: int(p.stem.split("-")[1]))
        while len(snaps) < 2 and time.monotonic() < deadline:
            time.sleep(1)
            snaps = sorted(folder.glob(f"{pid}-*.snap"), key=lambda p: int(p.stem.split("-")[1]))
        if len(snaps) < 2:
            lines.append(f"pid {pid}: fewer than two snapshots")
            continue
        first, last = (tracemalloc.Snapshot.load(str(p)) for p in (snaps[0], snaps[-1]))
        stats = last.compare_to(first, "lineno")
        total = sum(s.size_diff for s in stats)
        lines.append(
            f"pid {pid}: traced Python allocations {total / MIB:+.1f} MiB from minute {settled:g} to the end"
        )
        lines.extend(
            f"  {s.size_diff / 1024:+9.1f} KiB {s.count_diff:+7d} blocks  {s.traceback[0]}"
            for s in stats[:top]
        )
    return lines


def _report(
    args: argparse.Namespace,
    labels: list[str],
    samples: list[tuple[float, list[int]]],
    sent: dict[str, object],
    consumed: list[object],
    growth: list[str],
) -> Report:
    rows = tuple(
        (f"{t / 60:.1f}", *(f"{r / MIB:,.1f}" for r in rss))
        for t, rss in samples[:: max(1, len(samples) // 20)]
    )
    table = Table(
        f"RSS (MiB) of each gateway process, {args.rate:g} msg/s for {args.minutes:g} min",
        ("minute", *labels),
        rows,
    )
    notes = []
    flat = False
    figures: list[dict[str, float | str]] = []
    if samples and samples[-1][0] >= args.settled * 60:
        found, flat = flatness(samples, args.settled, args.minutes, args.tolerance)
        for label, (a, b, g) in zip(labels, found, strict=True):
            figures.append({"process": label, "settled_mib": a / MIB, "end_mib": b / MIB, "growth": g})
            notes.append(
                f"{label}: RSS {a / MIB:,.1f} MiB at minute {args.settled:g} -> {b / MIB:,.1f} MiB at minute "
                f"{args.minutes:g} ({g:+.1%})"
            )
    statuses = sent.get("statuses", {})
    ids = sent.get("ids") or []
    assert isinstance(ids, list)
    accepted = {str(tid) for tid, *_ in ids}  # (tracking id, sent, answered) of every 202
    arrived = Counter(str(entry[0]) for entry in consumed if isinstance(entry, list | tuple))
    notes.append(
        f"requests answered: {statuses}, failed: {sent.get('errors')}, unanswered: {sent.get('unfinished')}; "
        f"consumed from the mailbox: {len(consumed)} ({len(arrived)} distinct tracking ids); "
        f"202 not consumed: {len(accepted - arrived.keys())}; "
        f"consumed more than once: {sum(n - 1 for n in arrived.values())}; "
        f"consumed without a 202 seen: {len(arrived.keys() - accepted)}"
    )
    notes.extend(growth)
    notes.append(
        f"goal memory flat (RSS at minute {args.minutes:g} within {args.tolerance:.0%} of minute "
        f"{args.settled:g}, every process): {'MET' if flat else 'NOT MET'}"
    )
    data = {
        "samples": samples,
        "labels": labels,
        "flat": flat,
        "rss": figures,
        "rate": args.rate,
        "minutes": args.minutes,
        "settled": args.settled,
        "tolerance": args.tolerance,
    }
    return Report("soak", (table,), tuple(notes), data)
