"""Fixtures of the fault-injection suite: a RabbitMQ node of its own, a local 3-node cluster, a seeded
database per scenario, and the figures every scenario prints (also at the end of the run, and as JSON in
``test-output/faults.json``)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from tests.broker.own_node import OwnNode
from tests.faults.cluster import LocalCluster
from tests.faults.load import Figures
from tests.harness import seed_demo

ROOT = Path(__file__).resolve().parents[2]
FIGURES: list[Figures] = []


@pytest.fixture(scope="session")
def own_node() -> Iterator[OwnNode]:
    """One RabbitMQ node (management + shovel plugins), stopped and removed after the session."""
    node = OwnNode.create()
    try:
        node.start()
        yield node
    finally:
        node.destroy()


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    cluster = LocalCluster.start(3)
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def prefix() -> str:
    """A vhost prefix of the scenario's own on the shared own node."""
    return f"f{secrets.token_hex(3)}-"


@pytest.fixture
async def seeded(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A fresh SQLite database with the demo participants: its URL and their API tokens."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    return url, await seed_demo(url)


def report(figures: Figures) -> None:
    """Print a scenario's figures now and keep them for the end-of-run summary."""
    FIGURES.append(figures)
    print("\n" + figures.line())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("fault injection figures")
    for figures in FIGURES:
        terminalreporter.write_line(figures.line())
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "faults.json").write_text(json.dumps([asdict(f) for f in FIGURES], indent=2) + "\n")
