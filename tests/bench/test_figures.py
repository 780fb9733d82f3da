"""The bench's own arithmetic: CPU per message, the machine's ceiling, a forking server's CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench._figures import Figures, capacity_note
from bench._stack import cpu_seconds, server_cpu_seconds


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
