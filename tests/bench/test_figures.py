"""The bench's own arithmetic: CPU per message, the machine's ceiling, a forking server's CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace

from bench._figures import RATIO_KEYS, Figures, capacity_note, goal_met, ratios
from bench._stack import cpu_seconds, server_cpu_seconds
from bench._steps import _metered


def figures(**cpu: float | None) -> Figures:
    return Figures("gateway ingest (wrk)", 64, None, 1000, 1000, 1.0, 10.0, 20.0, 30.0, **cpu)


def test_total_cpu_adds_gateway_broker_and_database() -> None:
    assert figures(cpu_gateway_ms=1.5, cpu_broker_ms=0.3, cpu_database_ms=0.4).cpu_total_ms == 2.2


def test_capacity_note_gives_the_ceiling_and_the_cores_a_goal_needs() -> None:
    note = capacity_note("ingest", figures(cpu_gateway_ms=1.0, cpu_broker_ms=0.5, cpu_database_ms=0.5), 3000)
    cores = os.cpu_count() or 1
    assert note is not None
    assert f"= 2.0 ms -> at most {cores * 500:,} msg/s" in note and "3,000/s needs about 6.0 cores" in note


def test_no_capacity_note_without_a_gateway_reading() -> None:
    assert capacity_note("raw", figures(cpu_broker_ms=0.1), 3000) is None


def test_a_server_s_cpu_counts_children_that_came_and_went() -> None:
    """A parent that runs short busy children: the CPU they used counts once they are reaped."""
    script = (
        "import subprocess, sys\n"
        "for _ in range(3):\n"
        "    subprocess.run([sys.executable, '-c', 'x = 0\\nfor i in range(3_000_000): x += i'])\n"
        "import time; time.sleep(5)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        before = server_cpu_seconds(parent.pid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server_cpu_seconds(parent.pid) - before < 0.2:
            time.sleep(0.2)
        used = server_cpu_seconds(parent.pid) - before
        own = cpu_seconds([parent.pid])
    finally:
        parent.kill()
        parent.wait()
    assert used >= 0.2 and own < used


def run(what: str, concurrency: int | None, **kw: float | None) -> Figures:
    return Figures(what, concurrency, None, 1000, 1000, 1.0, 10.0, 20.0, 30.0, **kw)  # type: ignore[arg-type]


def test_raw_all_in_cpu_is_the_publishing_client_plus_the_broker() -> None:
    """The raw baseline has no gateway: its all-in cost is its client's CPU and the broker's."""
    assert run("raw", 64, cpu_client_ms=0.1, cpu_broker_ms=0.15).cpu_total_ms == 0.25


def test_ratios_compare_all_in_cpu_at_64_and_ingest_alone_at_1() -> None:
    """ingest and end to end over raw at c=64; ingest at c=1 over ingest at c=64; p99s and the validate rate."""
    raw = [
        run("raw", 1, cpu_client_ms=0.5, cpu_broker_ms=0.5),
        run("raw", 64, cpu_client_ms=0.1, cpu_broker_ms=0.1),
    ]
    ingest = [
        run("ingest", 1, cpu_gateway_ms=3.0, cpu_broker_ms=0.5, cpu_database_ms=0.5),
        run("ingest", 64, cpu_gateway_ms=0.5, cpu_broker_ms=0.2, cpu_database_ms=0.1),
    ]
    e2e = [run("e2e", 64, cpu_gateway_ms=1.2, cpu_broker_ms=0.6, cpu_database_ms=0.2)]
    raw_open = replace(run("raw open", None, cpu_client_ms=0.1), p99_ms=2.0)
    ingest_open = replace(run("ingest open", None, cpu_gateway_ms=1.0), p99_ms=11.5)
    values = ratios(raw, raw_open, ingest, ingest_open, e2e, 12_345.0)
    assert tuple(values) == RATIO_KEYS
    expected = {
        "ingest_cpu_vs_raw": 4.0,
        "e2e_cpu_vs_raw": 10.0,
        "single_vs_c64_cpu": 5.0,
        "open_loop_p99_ms": 11.5,
        "raw_open_loop_p99_ms": 2.0,
        "validate_rules_per_s_one_core": 12_345.0,
    }
    assert expected == {k: round(v, 6) if v is not None else None for k, v in values.items()}


def test_a_missing_run_leaves_its_ratio_empty() -> None:
    """Without a run at c=1 or an open loop the ratios that need them are None, the others still computed."""
    raw = [run("raw", 64, cpu_client_ms=0.1, cpu_broker_ms=0.1)]
    ingest = [run("ingest", 64, cpu_gateway_ms=0.3, cpu_broker_ms=0.1)]
    values = ratios(raw, None, ingest, None, [], None)
    expected = {
        "ingest_cpu_vs_raw": 2.0,
        "e2e_cpu_vs_raw": None,
        "single_vs_c64_cpu": None,
        "open_loop_p99_ms": None,
        "raw_open_loop_p99_ms": None,
        "validate_rules_per_s_one_core": None,
    }
    assert expected == {k: round(v, 6) if v is not None else None for k, v in values.items()}


def test_goals_of_the_ratios() -> None:
    """Each ratio against its goal; the open-loop p99 against the raw p99 + 10 ms."""
    values = {
        "ingest_cpu_vs_raw": 4.0,
        "e2e_cpu_vs_raw": 10.5,
        "single_vs_c64_cpu": 2.0,
        "open_loop_p99_ms": 12.1,
        "raw_open_loop_p99_ms": 2.0,
        "validate_rules_per_s_one_core": 9_999.0,
    }
    met = {k: goal_met(k, values) for k in RATIO_KEYS}
    expected = {
        "ingest_cpu_vs_raw": True,
        "e2e_cpu_vs_raw": False,
        "single_vs_c64_cpu": True,
        "open_loop_p99_ms": False,
        "raw_open_loop_p99_ms": None,
        "validate_rules_per_s_one_core": False,
    }
    assert expected == met


def test_cpu_per_message_divides_by_every_message_of_the_metered_span() -> None:
    """A generator that counted its warm-up too: the CPU of the whole span over all it handled."""
    fig = replace(run("raw", 64), completed=1250)
    metered = _metered(fig, [None, 0.25], client_s=0.125)
    assert (metered.cpu_broker_ms, metered.cpu_client_ms, metered.cpu_gateway_ms) == (0.2, 0.1, None)
