"""Where the open loop's p99 comes from: every request's time split into its stages, at a fixed rate.

The provider node's ``gateway serve`` processes (``--workers``, PostgreSQL, the link paused as in
``python -m bench ingest``) run with the stage tracer (``bench/_trace/sitecustomize.py``); the raw publish's
open loop at the same rate runs right before, for comparison. The load generator keeps every request's
scheduled, sent and answered time and its tracking id; the gateway processes keep, per tracking id, when the
request was read, its task started, the judge ran, the claim and the writes after the confirm were handed
to their group commits and when those flushes began and ended, the publish and its confirm, and the answer.
Joined on the tracking id (``time.monotonic()`` is one clock for every process of the machine), each
request's time from its scheduled send to its answer falls into the stages below; the table gives each
stage's percentiles over every request and its mean over the slowest 1 % (what the p99 is made of). Beside
it: the event loop's lag and the garbage collector's pauses per process, and the group commits' flushes.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import Report, Table
from bench._args import add_gateway_arguments
from bench._figures import from_samples, ms, percentile, run_generator
from bench._stack import start_gateway
from bench._steps import SENDER, Stack, _http_spec, _metered, _purge_accepted, baseline, meter
from bench._wrk import run_wrk

TITLE = "Open loop: each request's time by stage (read, judge, claim, publish->confirm, writes after, answer)"
TRACER = Path(__file__).with_name("_trace")

Times = dict[str, Any]
# a stage: its name and its duration from (scheduled, sent, answered, the gateway's times of the request)
Stage = tuple[str, Callable[[float, float, float, Times], float]]


def _between(start: str, end: str) -> Callable[[float, float, float, Times], float]:
    return lambda _s, _t, _d, g: g[end] - g[start]


STAGES: tuple[Stage, ...] = (
    ("scheduled -> answered (the p99's own)", lambda s, _t, d, _g: d - s),
    ("generator: scheduled -> sent", lambda s, t, _d, _g: t - s),
    ("sent -> read by the gateway", lambda _s, t, _d, g: g["read"] - t),
    ("read -> the request's task runs", _between("read", "handler")),
    ("task -> judge", _between("handler", "judge")),
    ("judge (parse, validate, route)", _between("judge", "judged")),
    ("judge -> claim handed in", _between("judged", "claim.in")),
    ("claim: wait for its flush", _between("claim.in", "claim.flush")),
    ("claim: flush (statement + commit)", _between("claim.flush", "claim.flushed")),
    ("claim: flushed -> caller runs", _between("claim.flushed", "claim.done")),
    ("claim -> publish", _between("claim.done", "publish")),
    ("publish -> confirm", _between("publish", "confirmed")),
    ("confirm -> after-writes handed in", _between("confirmed", "after.in")),
    ("after: wait for its flush", _between("after.in", "after.flush")),
    ("after: flush (statement + commit)", _between("after.flush", "after.flushed")),
    ("after: flushed -> caller runs", _between("after.flushed", "after.done")),
    ("after -> answer made", _between("after.done", "answer")),
    ("answer made -> received by the generator", lambda _s, _t, d, g: d - g["answer"]),
    # not a stage of its own: how much of the time from read to answer its process spent collecting garbage
    ("(GC pauses between read and answer)", lambda _s, _t, _d, g: g["gc"]),
)
NEEDED = (
    "read",
    "handler",
    "judge",
    "judged",
    "claim.flush",
    "publish",
    "confirmed",
    "after.flush",
    "answer",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_gateway_arguments(parser, seconds=8.0)
    add = parser.add_argument
    add("--rounds", type=int, default=1, help="open-loop runs of the gateway, one after another")
    add(
        "--gc-young",
        default="",
        help="an experiment: the gateway's young-generation GC threshold, or all three comma-separated "
        "(20000,50,100); default: gateway serve's",
    )
    add(
        "--gc-sizes",
        action="store_true",
        help="count the generations' sizes and the types each collection walks (before its clock starts)",
    )
    add(
        "--long-turns",
        type=float,
        default=0.0,
        metavar="MS",
        help="sample where the main thread is whenever the loop ran this long on the CPU without a beat",
    )


def run(args: argparse.Namespace) -> Report:
    folder = Path(tempfile.mkdtemp(prefix="gw-bench-stages-"))
    path = os.pathsep.join(p for p in (str(TRACER), os.environ.get("PYTHONPATH", "")) if p)
    rate = args.open_rate or 500.0
    generated: list[dict[str, Any]] = []
    try:
        with Stack.open(args.database, own=not args.shared_servers) as stack:
            assert stack.db is not None
            raw = baseline(stack, args.message, [1024], args.seconds, args.raw_loop, rate)[0]
            gw = start_gateway(
                stack.place,
                stack.db,
                nodes=("vecozo",),
                workers=args.workers,
                extra_env={
                    "GATEWAY_BENCH_STAGES": str(folder),
                    "PYTHONPATH": path,
                    **({"GATEWAY_BENCH_GC_YOUNG": args.gc_young} if args.gc_young not in ("", "0") else {}),
                    **({"GATEWAY_BENCH_GC_SIZES": "1"} if args.gc_sizes else {}),
                    **({"GATEWAY_BENCH_LONG_TURNS": str(args.long_turns)} if args.long_turns else {}),
                },
            )
            stack.gateways.append(gw)
            vhost = f"{stack.place.prefix}vecozo"
            stack.place.delete_shovel(vhost, "link-vecozo-to-ggk")
            run_wrk(gw.url("vecozo"), args.message, stack.token(SENDER), "w", 64, 3)
            for r in range(args.rounds):
                _purge_accepted(stack)
                spec = {
                    **_http_spec(stack, gw, args.message, args.seconds, f"s{r}"),
                    "rate": rate,
                    "concurrency": 512,
                    "record_ids": True,
                }
                with meter(gw.pids, stack.broker_pids, stack.database_pid) as cpu:
                    sent = run_generator("http", spec)
                generated.append({**sent, "load": os.getloadavg()[0], "cpu": cpu})
                time.sleep(1)
            gw.stop()  # the processes write their traces as they exit
            stack.gateways.remove(gw)
        traces = {p.stem: json.loads(p.read_text()) for p in folder.glob("trace-*.json")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report(raw, generated, traces, args)


def joined(
    generated: dict[str, Any], traces: dict[str, dict[str, Any]], seconds: float
) -> list[tuple[float, float, float, Times]]:
    """(scheduled, sent, answered, the gateway's times) of every request scheduled in the timed window (of
    ``seconds``) that the gateway traced in full."""
    by_id = {}
    for pid, trace in traces.items():
        pauses = sorted((p[0], p[0] + p[1]) for p in trace.get("gc", []))
        for times in trace["requests"]:
            by_id[times.get("id")] = {**times, "process": pid, "gc": _overlap(pauses, times)}
    start, end = generated["started"], generated["started"] + seconds
    out = []
    for tid, sent, done, scheduled in generated["ids"]:
        times = by_id.get(tid)
        if start <= scheduled <= end and times is not None and all(times.get(k) is not None for k in NEEDED):
            out.append((scheduled, sent, done, times))
    return out


def _overlap(pauses: Sequence[tuple[float, float]], times: Times) -> float:
    """Seconds of the (sorted) GC pauses that fall between the request's read and its answer."""
    begin, end = times.get("read"), times.get("answer")
    if begin is None or end is None:
        return 0.0
    total = 0.0
    for start, stop in pauses[max(0, bisect.bisect_left(pauses, (begin,)) - 1) :]:
        if start > end:
            break
        total += max(0.0, min(stop, end) - max(start, begin))
    return total


def stage_rows(requests: Sequence[tuple[float, float, float, Times]]) -> list[tuple[str, ...]]:
    """Per stage: p50, p90, p99, max over every request, and the mean over the slowest 1 % (in ms)."""
    ordered = sorted(requests, key=lambda r: r[2] - r[0])
    slowest = ordered[-max(1, len(ordered) // 100) :]
    rows = []
    for name, of in STAGES:
        values = [of(*r) * 1000 for r in requests]
        tail = [of(*r) * 1000 for r in slowest]
        rows.append(
            (
                name,
                *(ms(percentile(values, q)) for q in (0.5, 0.9, 0.99)),
                ms(max(values, default=0.0)),
                ms(sum(tail) / len(tail) if tail else None),
            )
        )
    return rows


def _within(items: Sequence[Sequence[Any]], start: float, end: float) -> list[Sequence[Any]]:
    return [item for item in items if start <= item[0] <= end]


def process_rows(traces: dict[str, dict[str, Any]], start: float, end: float) -> list[tuple[str, ...]]:
    """Per gateway process, inside the window: requests, the loop's lag, GC pauses, the flushes."""
    rows = []
    for pid, trace in sorted(traces.items()):
        beats = _within(trace["lag"], start, end)
        lag = [b[1] * 1000 for b in beats]
        busy = [b[2] * 1000 for b in beats if len(b) > 2]
        pauses = _within(trace["gc"], start, end)
        flushes = [f for f in trace["flushes"] if start <= f[1] <= end]
        kinds = []
        for kind in sorted({f[0] for f in flushes}):
            these = [f for f in flushes if f[0] == kind]
            took = [(f[2] - f[1]) * 1000 for f in these]
            kinds.append(
                f"{kind.split('.')[0]} {len(these)} x {sum(f[3] for f in these) / len(these):.1f} rows, "
                f"p99 {percentile(took, 0.99):.1f} ms"
            )
        answered = sum(1 for t in trace["requests"] if start <= t["handler"] <= end)
        rows.append(
            (
                pid,
                str(answered),
                f"{percentile(lag, 0.5):.1f} / {percentile(lag, 0.99):.1f} / {max(lag, default=0.0):.1f}",
                f"{percentile(busy, 0.99):.1f} / {percentile(busy, 0.999):.1f} / {max(busy, default=0.0):.1f}",
                f"{len(pauses)} ({dict(Counter(p[3] for p in pauses))}), longest "
                f"{max((p[1] for p in pauses), default=0.0) * 1000:.1f} ms wall, "
                f"{max((p[2] for p in pauses), default=0.0) * 1000:.1f} ms CPU",
                "; ".join(kinds),
            )
        )
    return rows


def gc_rows(traces: dict[str, dict[str, Any]], start: float, end: float) -> list[tuple[str, ...]]:
    """Per gateway process and generation, inside the window: the collections, their CPU (p50 / max), the
    objects they found unreachable, and (traced with ``GATEWAY_BENCH_GC_SIZES``) the generation's size."""
    rows = []
    for pid, trace in sorted(traces.items()):
        pauses = _within(trace["gc"], start, end)
        for generation in sorted({p[3] for p in pauses}):
            these = [p for p in pauses if p[3] == generation]
            cpu = [p[2] * 1000 for p in these]
            collected = [p[4] for p in these if len(p) > 4]
            walked = [p[5][generation] for p in these if len(p) > 5 and p[5]]
            rows.append(
                (
                    pid,
                    str(generation),
                    str(len(these)),
                    f"{percentile(cpu, 0.5):.1f} / {max(cpu):.1f}",
                    f"{max((p[1] for p in these), default=0.0) * 1000:.1f}",
                    f"{sum(collected) / len(collected):,.0f}" if collected else "-",
                    f"{sum(walked) / len(walked):,.0f}" if walked else "-",
                )
            )
    return rows


def report(
    raw: Any, generated: list[dict[str, Any]], traces: dict[str, dict[str, Any]], args: argparse.Namespace
) -> Report:
    tables = []
    data: dict[str, Any] = {"raw_open": raw.as_dict(), "rounds": []}
    notes = [
        f"raw publish+confirm at the same rate, right before: p50 {ms(raw.p50_ms)} ms, p99 {ms(raw.p99_ms)} ms"
    ]
    for pid, trace in sorted(traces.items()):
        if trace.get("gc_types"):
            walked = ", ".join(f"{name} {count:,}" for name, count in trace["gc_types"][:20])
            notes.append(f"{pid}: what its collections walked, by type (all of its collections): {walked}")
        for stack, count in trace.get("stalls", [])[:12]:
            notes.append(f"{pid}: the loop stalled in (2 ms samples) {count}: {stack}")
    for r, generated_round in enumerate(generated):
        fig = _metered(
            from_samples("gateway ingest (open loop)", generated_round, None, args.open_rate),
            generated_round["cpu"],
        )
        requests = joined(generated_round, traces, args.seconds)
        rows = stage_rows(requests)
        start, end = generated_round["started"], generated_round["ended"]
        tables.append(
            Table(
                f"Round {r + 1}: {fig.rate:,.0f}/s carried of {args.open_rate:,.0f}/s offered, p99 "
                f"{ms(fig.p99_ms)} ms, load {generated_round['load']:.2f}, CPU per message: gateway "
                f"{ms(fig.cpu_gateway_ms)} ms, all-in {ms(fig.cpu_total_ms)} ms; {len(requests)} requests traced",
                ("stage", "p50", "p90", "p99", "max", "mean of the slowest 1 %"),
                tuple(rows),
            )
        )
        tables.append(
            Table(
                f"Round {r + 1}: the gateway processes",
                (
                    "process",
                    "requests",
                    "loop lag ms p50 / p99 / max",
                    "loop CPU between beats ms p99 / p99.9 / max",
                    "GC pauses (by generation)",
                    "flushes",
                ),
                tuple(process_rows(traces, start, end)),
            )
        )
        collections = gc_rows(traces, start, end)
        tables.append(
            Table(
                f"Round {r + 1}: garbage collections",
                (
                    "process",
                    "generation",
                    "collections",
                    "CPU ms p50 / max",
                    "longest wall ms",
                    "unreachable found (mean)",
                    "objects in the generation (mean)",
                ),
                tuple(collections),
            )
        )
        data["rounds"].append(
            {
                "figures": fig.as_dict(),
                "stages": rows,
                "gc": collections,
                "lag": process_rows(traces, start, end),
                "load": generated_round["load"],
            }
        )
    return Report("stages", tuple(tables), tuple(notes), data)
