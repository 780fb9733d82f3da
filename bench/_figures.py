"""Figures of one measurement (rate, percentiles) and running the generators of :mod:`bench._load`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import REPO


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

    @property
    def cpu_total_ms(self) -> float | None:
        """Gateway + broker + database CPU per message: what one message costs the machine."""
        parts = (self.cpu_gateway_ms, self.cpu_broker_ms, self.cpu_database_ms)
        return None if self.cpu_gateway_ms is None else sum(p for p in parts if p is not None)

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
    lat = raw["latencies"]
    ok = sum(n for status, n in raw["statuses"].items() if status in ("202", "confirmed"))
    return Figures(
        what=what,
        concurrency=concurrency,
        offered=offered,
        ok=ok,
        sent=len(lat) + raw["errors"] + raw.get("unfinished", 0),
        seconds=raw["ended"] - raw["started"],
        p50_ms=percentile(lat, 0.50) * 1000,
        p99_ms=percentile(lat, 0.99) * 1000,
        max_ms=max(lat, default=0.0) * 1000,
        errors=raw["errors"] + raw.get("unfinished", 0) + len(lat) - ok,
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
    "gw CPU ms/msg",
    "broker CPU ms/msg",
    "db CPU ms/msg",
    "errors",
)


def row(fig: Figures, base: Figures | None = None) -> tuple[str, ...]:
    """One table row; ``base`` is the raw publish run the rate is compared with."""
    return (
        fig.what,
        "-" if fig.concurrency is None else str(fig.concurrency),
        per_s(fig.offered),
        per_s(fig.rate),
        ms(fig.p50_ms) if fig.p50_ms or fig.p99_ms else "-",
        ms(fig.p99_ms) if fig.p50_ms or fig.p99_ms else "-",
        ratio(fig.rate, base.rate if base else None),
        ms(fig.cpu_gateway_ms),
        ms(fig.cpu_broker_ms),
        ms(fig.cpu_database_ms),
        str(fig.errors),
    )


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
