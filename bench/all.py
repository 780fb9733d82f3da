"""Everything in one run: (a) raw baseline, (b) ingest at each concurrency and open loop, (c) end to end,
(d) validation alone; the CPU each message costs the machine on both sides, the ratios of issue 18 and the
goals, met or not.

The raw baseline runs once (its publishing client's CPU and the broker's), then (b) and (c) on each database
of ``--database`` (PostgreSQL with ``--workers`` processes per node role, SQLite with one: SQLite is for one
process). The top-level ``ratios`` of the JSON are PostgreSQL's; ``ratios_by_database`` has each.

Sections on their own: ``python -m bench baseline | ingest | e2e | validate | soak``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bench import Report, Table
from bench import e2e as e2e_section
from bench import ingest as ingest_section
from bench._args import add_gateway_arguments
from bench._figures import COLUMNS, Figures, ratio_table, ratios, row
from bench._steps import EndToEnd, Servers, Stack, baseline, ingest, validation_alone

TITLE = "All of it: raw baseline, gateway ingest, end to end, validation alone, with CPU ratios and goals"
RATIOS_FROM = "postgres"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_gateway_arguments(parser, databases=2)
    add = parser.add_argument
    add(
        "--e2e-concurrency",
        type=int,
        nargs="+",
        default=[64, 256],
        help="closed-loop connections, end to end",
    )
    add("--e2e-open-rate", type=float, default=0.0, help="end-to-end open-loop rate (default: half capacity)")
    add(
        "--profile", action="store_true", help="py-spy one ingest worker during the c=64 run (first database)"
    )


def _load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def run(args: argparse.Namespace) -> Report:
    load_before = _load()
    validation = validation_alone()
    raw: list[Figures] = []
    raw_open: Figures | None = None
    tables: list[Table] = []
    notes: list[str] = []
    data: dict[str, Any] = {"by_database": {}, "ratios_by_database": {}}
    with Servers.open(own=not args.shared_servers) as servers:
        for i, kind in enumerate(args.database):
            workers = args.workers if kind == "postgres" else 1
            local = argparse.Namespace(**{**vars(args), "database": kind, "workers": workers})
            with Stack.open(kind, servers) as stack:
                if not raw:
                    concurrencies = sorted({*args.concurrency, *args.e2e_concurrency})
                    raw = baseline(stack, args.message, concurrencies, args.seconds, args.raw_loop)
                # the raw open loop of each database's ratio is measured right before its gateway's
                gw, gw_open, profile, raw_open = ingest(
                    stack,
                    args.message,
                    args.concurrency,
                    args.seconds,
                    workers,
                    args.open_rate,
                    64 if args.profile and i == 0 else None,
                    args.raw_loop,
                )
                ends, split = e2e_section.measure(
                    stack, argparse.Namespace(**{**vars(local), "concurrency": args.e2e_concurrency})
                )
            values = ratios(raw, raw_open, gw, gw_open, [r.figures for r in ends], validation.rate)
            data["ratios_by_database"][kind] = values
            tables += _tables(kind, workers, raw, raw_open, gw, gw_open, ends, validation, args)
            ingest_report = ingest_section.report("ingest", raw, raw_open, gw, gw_open, profile, local)
            e2e_report = e2e_section.report("e2e", raw, ends, local, split)
            tables += [*ingest_report.tables[1:], e2e_report.tables[1]]
            tables.append(ratio_table(values, f"Ratios ({kind}, {workers} worker(s) per node role)"))
            notes += [f"[{kind}] {n}" for n in (*ingest_report.notes, *e2e_report.notes)]
            data["by_database"][kind] = {
                **ingest_report.data,
                "e2e": e2e_report.data["e2e"],
                "workers": workers,
            }
    chosen = RATIOS_FROM if RATIOS_FROM in data["ratios_by_database"] else args.database[0]
    data["ratios"] = data["ratios_by_database"][chosen]
    data["ratios_database"] = chosen
    data["raw"] = [f.as_dict() for f in raw]
    data["raw_open"] = data["by_database"][chosen].get("raw_open")  # measured beside its open loop
    data["validation"] = validation.as_dict()
    data["message"] = str(args.message)
    data["raw_loop"] = args.raw_loop
    load_after = _load()
    data["loadavg_before_after"] = [load_before, load_after]
    print_ratios = ", ".join(f"{k}={'-' if v is None else round(v, 2)}" for k, v in data["ratios"].items())
    notes += [
        f"ratios ({chosen}): {print_ratios}",
        "all-in CPU per message: raw = publishing client + broker; gateway = gateway processes + broker + "
        "database server (the HTTP load generator is never counted); divided by every message the metered "
        "span handled. "
        + (
            "The broker and PostgreSQL are the machine's, shared with other work: their readings include "
            "what else ran on them meanwhile."
            if args.shared_servers
            else "The broker node and the PostgreSQL server are the run's own: only its traffic is metered."
        ),
        f"raw baseline on {args.raw_loop}; gateway serve runs on uvloop",
        f"load average (1/5/15 min) before {load_before}, after {load_after}; {os.cpu_count()} CPUs",
        "goal memory flat over a 10-minute soak: python -m bench soak --minutes 10",
        "validation alone in full (engine against bare lxml, threads, xmlschema): python -m bench validate",
    ]
    return Report(
        "all", (ratio_table(data["ratios"], f"Ratios of issue 18 ({chosen})"), *tables), tuple(notes), data
    )


def _tables(
    kind: str,
    workers: int,
    raw: list[Figures],
    raw_open: Figures | None,
    gw: list[Figures],
    gw_open: Figures | None,
    ends: list[EndToEnd],
    validation: Figures,
    args: argparse.Namespace,
) -> list[Table]:
    base = {f.concurrency: f for f in raw}
    rows = [row(f) for f in raw]
    rows += [row(f, base.get(f.concurrency)) for f in gw]
    rows += [row(r.figures, base.get(r.figures.concurrency)) for r in ends]
    if raw_open is not None and gw_open is not None:
        rows += [row(raw_open), row(gw_open, raw_open)]
    rows.append(row(validation))
    return [
        Table(
            f"Benchmark on {kind}: {workers} gateway worker(s) per node, message {args.message.name} "
            f"({args.message.stat().st_size:,} bytes)",
            COLUMNS,
            tuple(rows),
        )
    ]
