"""Benchmarks of the gateway, one section per module: ``python -m bench SECTION`` (``python -m bench`` lists them).

A section is any public module in this package that defines

- ``TITLE``: one line saying what it measures;
- ``add_arguments(parser)``: its command-line options (an ``argparse`` sub-parser);
- ``run(args) -> Report``: the measurement.

``__main__`` prints the report's tables and notes and writes the report as JSON to
``bench/results/SECTION-YYYYmmddTHHMMSS.json`` (git-ignored). This module holds what sections share: timing
with warm-up, repetitions and the median, pinning to one core, table formatting, environment facts.
Benchmarks are not tests: nothing here asserts, it measures and reports against the goals it names.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
SHARED = REPO.parent / "shared" / "istandaarden"
EXAMPLES = (SHARED / "ijw-3.2" / "examples", SHARED / "iwmo-3.2" / "examples")  # the official example mix


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of already formatted cells under a title."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def render(self) -> str:
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) for i, c in enumerate(self.columns)]

        def line(cells: Sequence[str]) -> str:
            first, *rest = (
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
            )
            return "  ".join([first, *rest]).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([self.title, line(self.columns), rule, *(line(r) for r in self.rows)])


@dataclass(frozen=True, slots=True)
class Report:
    """What a section hands back: tables to print, notes, and the data written as JSON."""

    section: str
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        return "\n\n".join(
            [*(t.render() for t in self.tables), *(("\n".join(self.notes),) if self.notes else ())]
        )


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds (wall clock, or CPU time where the measurement says so) of each repetition of ``number``
    calls; the median is the figure to quote."""

    number: int
    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def best(self) -> float:
        """The fastest repetition: least disturbed by other work, the figure for small differences."""
        return min(self.runs)

    @property
    def per_call(self) -> float:
        return self.median / self.number

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "runs_s": list(self.runs),
            "median_s": self.median,
            "best_s": self.best,
        }


def measure(
    fn: Callable[[], object],
    *,
    number: int,
    repeat: int = 7,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeat`` times ``number`` calls, timed with ``clock``
    (wall time; ``time.thread_time`` for the CPU time of one core, which other load does not inflate)."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        runs.append(clock() - start)
    return Timing(number, tuple(runs))


def measure_interleaved(
    fns: Mapping[str, Callable[[], object]],
    *,
    number: int,
    repeat: int = 7,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Timing]:
    """As :func:`measure` for several functions, taking turns within each repetition, so that drifting load
    on the machine hits all of them alike and their ratio stays meaningful."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = clock()
            for _ in range(number):
                fn()
            runs[name].append(clock() - start)
    return {name: Timing(number, tuple(r)) for name, r in runs.items()}


def paired_ratio(slow: Timing, fast: Timing) -> float:
    """Median over repetitions of ``fast``'s time divided by ``slow``'s: the rate of ``slow`` relative to
    ``fast`` (0.8 = slow does 80 % of fast's calls per second). Both timed in turns by
    :func:`measure_interleaved`, so each pair saw the same load."""
    return statistics.median(f / s for s, f in zip(slow.runs, fast.runs, strict=True))


def calibrate(fn: Callable[[], object], *, target_s: float = 0.25) -> int:
    """How many calls of ``fn`` take about ``target_s`` (at least 1)."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-9)
    return max(1, round(target_s / once))


@contextmanager
def one_core(*, enabled: bool = True) -> Iterator[int | None]:
    """Pin this process to one CPU for the block (Linux); yields the CPU number, or None when not pinned."""
    if not enabled or not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


def environment() -> dict[str, Any]:
    """Facts that make figures comparable: interpreter, libraries, CPU, load."""
    import lxml.etree

    facts: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
    }
    if hasattr(os, "getloadavg"):
        facts["loadavg"] = list(os.getloadavg())
    return facts


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def write_json(report: Report, directory: Path = RESULTS_DIR) -> Path:
    """Write the report as JSON under ``directory``; returns the file written."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = directory / f"{report.section}-{now.strftime('%Y%m%dT%H%M%S')}.json"
    payload = {
        "section": report.section,
        "when": now.isoformat(timespec="seconds"),
        "environment": environment(),
        "tables": [asdict(t) for t in report.tables],
        "notes": list(report.notes),
        **report.data,
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def rate(count: int, seconds: float) -> str:
    """``count`` per ``seconds`` as a readable figure: ``12,345``."""
    return f"{count / seconds:,.0f}"
