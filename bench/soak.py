"""Memory over a long run: both nodes under a steady open-loop end-to-end load, RSS sampled throughout.

``gateway serve`` processes (``--workers`` per node) on a fresh database; POSTs at ``--rate`` per second to
the provider node for ``--minutes``, an AMQP consumer empties the municipality's mailbox. Every
``--every`` seconds the resident set size of each gateway process is sampled. Flat means: the growth over
the second half of the run is within ``--tolerance`` of the size at its middle (the first half is warm-up:
caches, connection pools, allocator arenas). Goal (issue 7): memory flat over a 10-minute soak.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from bench import Report, Table
from bench._args import add_servers_argument
from bench._figures import finish_generator, start_generator
from bench._stack import rss_bytes, start_gateway
from bench._steps import DEFAULT_MESSAGE, RECIPIENT, SENDER, Stack

TITLE = "Memory of the gateway processes over a long steady end-to-end load"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--message", type=Path, default=DEFAULT_MESSAGE)
    add("--minutes", type=float, default=10.0)
    add("--rate", type=float, default=200.0, help="requests per second (open loop)")
    add("--workers", type=int, default=1, help="gateway processes per node role")
    add("--every", type=float, default=15.0, help="seconds between memory samples")
    add("--tolerance", type=float, default=0.05, help="growth over the second half counted as flat")
    add("--database", choices=["postgres", "sqlite"], default="postgres")
    add_servers_argument(parser)


def run(args: argparse.Namespace) -> Report:
    seconds = args.minutes * 60
    with Stack.open(args.database, own=not args.shared_servers) as stack:
        assert stack.db is not None
        gw = start_gateway(stack.place, stack.db, nodes=("ggk", "vecozo"), workers=args.workers)
        stack.gateways.append(gw)
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
        start = time.monotonic()
        while load.poll() is None:
            samples.append((time.monotonic() - start, [rss_bytes(pid) for pid in gw.pids]))
            time.sleep(args.every)
        sent = finish_generator(load, load_file)
        consumed = finish_generator(consumer, consumed_file)["arrived"]
    return _report(args, samples, sent, consumed)


def _report(
    args: argparse.Namespace,
    samples: list[tuple[float, list[int]]],
    sent: dict[str, object],
    consumed: list[object],
) -> Report:
    mib = 1024 * 1024
    rows = tuple(
        (f"{t / 60:.1f}", *(f"{r / mib:,.1f}" for r in rss))
        for t, rss in samples[:: max(1, len(samples) // 20)]
    )
    width = len(samples[0][1]) if samples else 0
    table = Table(
        f"RSS (MiB) of each gateway process, {args.rate:g} msg/s for {args.minutes:g} min",
        ("minute", *(f"process {i}" for i in range(width))),
        rows,
    )
    notes = []
    flat = True
    if len(samples) >= 4:
        middle = samples[len(samples) // 2][1]
        last = samples[-1][1]
        for i, (m, e) in enumerate(zip(middle, last, strict=True)):
            growth = (e - m) / m if m else 0.0
            flat = flat and growth <= args.tolerance
            notes.append(
                f"process {i}: {m / mib:,.1f} MiB at half time -> {e / mib:,.1f} MiB at the end ({growth:+.1%})"
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
    notes.append(
        f"goal memory flat over the run (second half within {args.tolerance:.0%}): {'MET' if flat else 'NOT MET'}"
    )
    data = {"samples": samples, "flat": flat, "rate": args.rate, "minutes": args.minutes}
    return Report("soak", (table,), tuple(notes), data)
