"""Everything of issue 7 in one run: (a) raw baseline, (b) ingest at each concurrency and open loop,
(c) end to end, (d) validation alone; ratios against (a); the goals, met or not.

Sections on their own: ``python -m bench baseline | ingest | e2e | validate | soak``.
"""

from __future__ import annotations

import argparse

from bench import Report, Table
from bench import e2e as e2e_section
from bench import ingest as ingest_section
from bench._args import add_gateway_arguments
from bench._figures import COLUMNS, row
from bench._steps import Stack, baseline, ingest, validation_alone

TITLE = "All of it: raw baseline, gateway ingest, end to end, validation alone, with ratios and goals"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_gateway_arguments(parser)
    add = parser.add_argument
    add(
        "--e2e-concurrency",
        type=int,
        nargs="+",
        default=[64, 256],
        help="closed-loop connections, end to end",
    )
    add("--e2e-open-rate", type=float, default=0.0, help="end-to-end open-loop rate (default: half capacity)")
    add("--profile", action="store_true", help="py-spy one ingest worker during the c=64 run")


def run(args: argparse.Namespace) -> Report:
    validation = validation_alone(args.message)
    with Stack.open(args.database) as stack:
        raw = baseline(
            stack,
            args.message,
            sorted({*args.concurrency, *args.e2e_concurrency}),
            args.seconds,
            args.raw_loop,
        )
        raw_open = None
        if args.open_rate:
            raw_open = baseline(stack, args.message, [1024], args.seconds, args.raw_loop, args.open_rate)[0]
        gw, gw_open, profile = ingest(
            stack,
            args.message,
            args.concurrency,
            args.seconds,
            args.workers,
            args.open_rate,
            64 if args.profile else None,
        )
        e2e_args = argparse.Namespace(**{**vars(args), "concurrency": args.e2e_concurrency})
        ends = e2e_section.measure(stack, e2e_args)
    ingest_report = ingest_section.report("ingest", raw, raw_open, gw, gw_open, profile, args)
    e2e_report = e2e_section.report("e2e", raw, ends, args)
    base = {f.concurrency: f for f in raw}
    rows = [row(f) for f in raw]
    rows += [row(f, base.get(f.concurrency)) for f in gw]
    rows += [row(r.figures, base.get(r.figures.concurrency)) for r in ends]
    if raw_open is not None and gw_open is not None:
        rows += [row(raw_open), row(gw_open)]
    rows.append(row(validation))
    summary = Table(
        f"Issue 7 benchmark: {args.workers} gateway worker(s) per node, {args.database}, message "
        f"{args.message.name} ({args.message.stat().st_size:,} bytes)",
        COLUMNS,
        tuple(rows),
    )
    tables = (summary, *ingest_report.tables[1:], e2e_report.tables[1])
    notes = (
        *ingest_report.notes,
        *e2e_report.notes,
        "goal memory flat over a 10-minute soak: python -m bench soak --minutes 10",
        "validation alone in full (engine against bare lxml, threads, xmlschema): python -m bench validate",
    )
    data = {
        **ingest_report.data,
        "e2e": e2e_report.data["e2e"],
        "validation": validation.as_dict(),
        "workers": args.workers,
        "database": args.database,
        "message": str(args.message),
    }
    return Report("all", tables, notes, data)
