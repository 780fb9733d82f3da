"""(b) The gateway's HTTP ingest against (a) the raw broker, in one run on the same bytes.

``gateway serve --node vecozo`` processes (``--workers`` sharing the port) on a fresh database and a vhost
prefix of their own; wrk POSTs the official WMO315 example (provider 42420001 to municipality 0384) with a
fresh Identificatie per request, so each request passes every check, claims its uniqueness key, is tracked
and published with a confirm. The node link is paused (its shovel removed), so this is the node's own work
up to the broker's confirm, as (a) is the broker's alone; ``python -m bench e2e`` measures the whole way.
Then the open-loop run: requests at a fixed rate (``--open-rate``), latency from each request's scheduled
time, beside the raw publish-confirm latency at the same rate.
Goals (issue 7): ingest >= 0.5 x raw; open-loop p99 POST->202 <= raw p99 + 10 ms.
"""

from __future__ import annotations

import argparse

from bench import Report, Table
from bench._args import add_gateway_arguments
from bench._figures import COLUMNS, Figures, capacity_note, ms, row
from bench._steps import Stack, baseline, ingest

TITLE = "Gateway HTTP ingest (wrk) and open-loop latency, against raw publish with confirms"
GOAL_RATIO = 0.5
GOAL_P99_MARGIN_MS = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_gateway_arguments(parser)
    parser.add_argument("--profile", action="store_true", help="py-spy the first worker during the c=64 run")
    parser.add_argument(
        "--profile-at", type=int, default=64, help="the concurrency of the run --profile samples (default 64)"
    )


def run(args: argparse.Namespace) -> Report:
    with Stack.open(args.database, own=not args.shared_servers) as stack:
        raw = baseline(stack, args.message, args.concurrency, args.seconds, args.raw_loop)
        gw, gw_open, profile, raw_open = ingest(
            stack,
            args.message,
            args.concurrency,
            args.seconds,
            args.workers,
            args.open_rate,
            args.profile_at if args.profile else None,
            args.raw_loop,
        )
    return report("ingest", raw, raw_open, gw, gw_open, profile, args)


def report(
    section: str,
    raw: list[Figures],
    raw_open: Figures | None,
    gw: list[Figures],
    gw_open: Figures | None,
    profile: dict[str, object],
    args: argparse.Namespace,
) -> Report:
    base = {f.concurrency: f for f in raw}
    rows = [row(f) for f in raw] + [row(f, base.get(f.concurrency)) for f in gw]
    if raw_open is not None and gw_open is not None:
        rows += [row(raw_open), row(gw_open)]
    tables = [Table(f"Ingest: {args.workers} worker(s) per node, {args.database}", COLUMNS, tuple(rows))]
    notes = goals(raw, raw_open, gw, gw_open)
    if profile.get("shares"):
        shares = profile["shares"]
        assert isinstance(shares, dict)
        tables.append(
            Table(
                f"Where one worker's CPU goes at c={args.profile_at} (py-spy, {profile['samples']} samples)",
                ("library on the CPU", "share"),
                tuple((name, f"{share:.0%}") for name, share in shares.items()),
            )
        )
        notes.append(f"raw py-spy samples: {profile['file']}")
    data = {
        "raw": [f.as_dict() for f in raw],
        "raw_open": raw_open.as_dict() if raw_open else None,
        "gateway": [f.as_dict() for f in gw],
        "gateway_open": gw_open.as_dict() if gw_open else None,
        "profile": profile,
        "workers": args.workers,
        "database": args.database,
    }
    return Report(section, tuple(tables), tuple(notes), data)


def goals(
    raw: list[Figures], raw_open: Figures | None, gw: list[Figures], gw_open: Figures | None
) -> list[str]:
    notes = []
    best_raw = max(raw, key=lambda f: f.rate)
    best_gw = max(gw, key=lambda f: f.rate)
    ratio = best_gw.rate / best_raw.rate
    notes.append(
        f"goal ingest >= {GOAL_RATIO} x raw: best gateway {best_gw.rate:,.0f}/s (c={best_gw.concurrency}) vs best "
        f"raw {best_raw.rate:,.0f}/s (c={best_raw.concurrency}) = {ratio:.2f} -> {'MET' if ratio >= GOAL_RATIO else 'NOT MET'}"
    )
    capacity = capacity_note(f"ingest at c={best_gw.concurrency}", best_gw, GOAL_RATIO * best_raw.rate)
    if capacity:
        notes.append(capacity)
    if raw_open is not None and gw_open is not None:
        limit = raw_open.p99_ms + GOAL_P99_MARGIN_MS
        met = gw_open.p99_ms <= limit and gw_open.rate >= 0.95 * (gw_open.offered or 0)
        notes.append(
            f"goal open loop at {raw_open.offered:,.0f}/s: p99 POST->202 {ms(gw_open.p99_ms)} ms <= raw p99 "
            f"{ms(raw_open.p99_ms)} + {GOAL_P99_MARGIN_MS:.0f} ms -> {'MET' if met else 'NOT MET'}"
        )
    return notes
