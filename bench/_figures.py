"""Figures of one measurement (rate, percentiles) and running the generators of :mod:`bench._load`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import REPO, Table


@dataclass(frozen=True)
class Figures:
    """Throughput and latency of one run; ``ok`` of ``sent`` requests succeeded inside the timed window."""

    what: str
    concurrency: int | None
    offered: float | None  # open loop: the scheduled rate
    ok: int
    sent: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int = 0
    cpu_gateway_ms: float | None = None  # CPU per message, all gateway processes
    cpu_broker_ms: float | None = None
    cpu_database_ms: float | None = None  # PostgreSQL server processes (None: SQLite, inside the gateway)
    cpu_client_ms: float | None = (
        None  # the raw baseline's publishing process (never the HTTP load generator)
    )
    completed: int | None = None  # successes of the whole metered run (warm-up included): CPU's divisor

    @property
    def cpu_total_ms(self) -> float | None:
        """All-in CPU per message, what one message costs the machine: the raw baseline's publishing client
        or the gateway processes, plus the broker and the database server. None without either side."""
        if self.cpu_gateway_ms is None and self.cpu_client_ms is None:
            return None
        parts = (self.cpu_client_ms, self.cpu_gateway_ms, self.cpu_broker_ms, self.cpu_database_ms)
        return sum(p for p in parts if p is not None)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate": self.rate}


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def from_samples(what: str, raw: dict[str, Any], concurrency: int | None, offered: float | None) -> Figures:
    """The figures of a generator's samples: latencies are those of the successes (202, confirmed); every
    other answer, a connection error or a request still unanswered at the end is an error."""
    lat = raw["latencies"]
    ok = sum(n for status, n in raw["statuses"].items() if status in ("202", "confirmed"))
    sent = sum(raw["statuses"].values()) + raw["errors"] + raw.get("unfinished", 0)
    return Figures(
        what=what,
        concurrency=concurrency,
        offered=offered,
        ok=ok,
        sent=sent,
        seconds=raw["ended"] - raw["started"],
        p50_ms=percentile(lat, 0.50) * 1000,
        p99_ms=percentile(lat, 0.99) * 1000,
        max_ms=max(lat, default=0.0) * 1000,
        errors=sent - ok,
        completed=raw.get("completed"),
    )


def start_generator(kind: str, spec: dict[str, Any]) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``python -m bench._load KIND SPEC OUT``; returns the process and the file it writes.

    A consumer is returned once it consumes (it prints one line then)."""
    out = Path(tempfile.mkstemp(prefix=f"gw-bench-{kind}-", suffix=".json")[1])
    args = [sys.executable, "-m", "bench._load", kind, json.dumps(spec), str(out)]
    if kind != "consume":
        return subprocess.Popen(args, cwd=REPO), out
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    if not proc.stdout.readline():
        raise RuntimeError("the mailbox consumer did not start")
    return proc, out


def finish_generator(proc: subprocess.Popen[bytes], out: Path, timeout: float = 600) -> dict[str, Any]:
    code = proc.wait(timeout)
    try:
        if code != 0:
            raise RuntimeError(f"load generator failed with exit code {code}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result
    finally:
        out.unlink(missing_ok=True)


def run_generator(kind: str, spec: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    proc, out = start_generator(kind, spec)
    return finish_generator(proc, out, timeout)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def per_s(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def ratio(value: float | None, base: float | None) -> str:
    return "-" if not value or not base else f"{value / base:.2f}"


COLUMNS = (
    "measurement",
    "conc",
    "offered/s",
    "msg/s",
    "p50 ms",
    "p99 ms",
    "x raw",
    "client CPU ms/msg",
    "gw CPU ms/msg",
    "broker CPU ms/msg",
    "db CPU ms/msg",
    "all-in CPU ms/msg",
    "CPU x raw",
    "errors",
)


def row(fig: Figures, base: Figures | None = None) -> tuple[str, ...]:
    """One table row; ``base`` is the raw publish run the rate and the all-in CPU are compared with."""
    return (
        fig.what,
        "-" if fig.concurrency is None else str(fig.concurrency),
        per_s(fig.offered),
        per_s(fig.rate),
        ms(fig.p50_ms) if fig.p50_ms or fig.p99_ms else "-",
        ms(fig.p99_ms) if fig.p50_ms or fig.p99_ms else "-",
        ratio(fig.rate, base.rate if base else None),
        ms2(fig.cpu_client_ms),
        ms2(fig.cpu_gateway_ms),
        ms2(fig.cpu_broker_ms),
        ms2(fig.cpu_database_ms),
        ms2(fig.cpu_total_ms),
        ratio(fig.cpu_total_ms, base.cpu_total_ms if base else None),
        str(fig.errors),
    )


def ms2(value: float | None) -> str:
    """A CPU cost per message: two decimals (the raw baseline's are a tenth of a millisecond)."""
    return "-" if value is None else f"{value:,.2f}"


# --- the ratios of issue 18: what a message costs the gateway against what the transport costs ------------

RATIO_KEYS = (
    "ingest_cpu_vs_raw",
    "e2e_cpu_vs_raw",
    "single_vs_c64_cpu",
    "open_loop_p99_ms",
    "raw_open_loop_p99_ms",
    "validate_rules_per_s_one_core",
)
RATIO_GOALS = {
    "ingest_cpu_vs_raw": "<= 4 (moonshot 2.5)",
    "e2e_cpu_vs_raw": "<= 10",
    "single_vs_c64_cpu": "<= 2",
    "open_loop_p99_ms": "<= raw_open_loop_p99_ms + 10",
    "raw_open_loop_p99_ms": "",
    "validate_rules_per_s_one_core": ">= 10,000",
}
AT = 64  # the concurrency the CPU ratios compare at


def _at(figures: Sequence[Figures], concurrency: int) -> Figures | None:
    return next((f for f in figures if f.concurrency == concurrency), None)


def _over(value: Figures | None, base: Figures | None) -> float | None:
    top = None if value is None else value.cpu_total_ms
    bottom = None if base is None else base.cpu_total_ms
    return top / bottom if top is not None and bottom else None


def _p99(fig: Figures | None) -> float | None:
    """The p99 of a run's successes; none when nothing succeeded or more than 1 % did not (refused with a
    503, cut off unanswered): the p99 of the 202s would then leave out more than the 1 % it may."""
    if fig is None or not fig.ok or fig.errors > 0.01 * fig.sent:
        return None
    return fig.p99_ms


def ratios(
    raw: Sequence[Figures],
    raw_open: Figures | None,
    ingest: Sequence[Figures],
    ingest_open: Figures | None,
    e2e: Sequence[Figures],
    validate_per_s: float | None,
) -> dict[str, float | None]:
    """The ratios of the benchmark, exactly :data:`RATIO_KEYS` (None where a run is missing): all-in CPU per
    message at concurrency 64 of ingest and of end to end over the raw baseline's; ingest at 1 over ingest at
    64; the open-loop p99s (POST->202 and publish->confirm); the engine's validation rate on one core."""
    raw64, ingest64 = _at(raw, AT), _at(ingest, AT)
    return {
        "ingest_cpu_vs_raw": _over(ingest64, raw64),
        "e2e_cpu_vs_raw": _over(_at(e2e, AT), raw64),
        "single_vs_c64_cpu": _over(_at(ingest, 1), ingest64),
        "open_loop_p99_ms": _p99(ingest_open),
        "raw_open_loop_p99_ms": _p99(raw_open),
        "validate_rules_per_s_one_core": validate_per_s,
    }


def goal_met(key: str, values: Mapping[str, float | None]) -> bool | None:
    """Whether the ratio ``key`` meets its goal of issue 18 (None: not measured, or no goal of its own)."""
    value = values.get(key)
    if value is None:
        return None
    if key == "ingest_cpu_vs_raw":
        return value <= 4
    if key == "e2e_cpu_vs_raw":
        return value <= 10
    if key == "single_vs_c64_cpu":
        return value <= 2
    if key == "open_loop_p99_ms":
        raw = values.get("raw_open_loop_p99_ms")
        return None if raw is None else value <= raw + 10
    if key == "validate_rules_per_s_one_core":
        return value >= 10_000
    return None


def ratio_table(values: Mapping[str, float | None], title: str) -> Table:
    """The ratios as a table: key, value, goal, met."""
    rows = []
    for key in RATIO_KEYS:
        value = values.get(key)
        shown = (
            "-"
            if value is None
            else (f"{value:,.0f}" if key.endswith("_per_s_one_core") else f"{value:,.2f}")
        )
        met = goal_met(key, values)
        rows.append((key, shown, RATIO_GOALS[key], "" if met is None else ("met" if met else "NOT met")))
    return Table(title, ("ratio", "value", "goal", ""), tuple(rows))


def capacity_note(what: str, fig: Figures, goal_rate: float) -> str | None:
    """What one message costs the machine in ``fig`` and what that allows: the CPU ceiling of this machine
    and the cores the goal's rate needs at that cost (the load generator's own CPU not counted)."""
    total = fig.cpu_total_ms
    if not total:
        return None
    cores = os.cpu_count() or 1
    parts = [f"gateway {ms(fig.cpu_gateway_ms)}", f"broker {ms(fig.cpu_broker_ms)}"]
    if fig.cpu_database_ms is not None:
        parts.append(f"database {ms(fig.cpu_database_ms)}")
    return (
        f"{what}: CPU per message {' + '.join(parts)} = {total:,.1f} ms -> at most {cores * 1000 / total:,.0f} "
        f"msg/s on this machine's {cores} core(s); {goal_rate:,.0f}/s needs about {goal_rate * total / 1000:,.1f} "
        "cores at that cost"
    )
