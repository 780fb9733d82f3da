"""Fixtures for the operations tests: a whole gateway on the in-memory broker (fast), and the e2e fixtures
on the real broker (also served over mutual TLS) for the tests that are about the broker or the clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.rabbitmq.testing import FakeBroker
from gateway.config import Settings
from gateway.errors import NodeRole
from gateway.interfaces.link import LinkCallbacks
from gateway.runtime import Runtime
from tests.e2e.conftest import (
    broker_cleanup,
    demo_pki,
    e2e_broker_settings,
    gw,
    https_gw,
    postgres_server,
    sqlite_url,
)
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest, in_process, seed_demo, shared_engine

__all__ = [
    "broker_cleanup",
    "demo_pki",
    "e2e_broker_settings",
    "gw",
    "https_gw",
    "postgres_server",
    "sqlite_url",
]


def fake_broker(settings: object, nodes: tuple[NodeRole, ...], link: LinkCallbacks) -> FakeBroker:
    return FakeBroker(nodes=nodes, on_link_message=link, on_delivered=link.delivered)


@asynccontextmanager
async def fake_gateway(tmp_path: Path, **changes: Any) -> AsyncIterator[GatewayUnderTest]:
    """Both nodes on the in-memory broker and a fresh SQLite database, with the demo participants."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    tokens = await seed_demo(url)
    settings = Settings(database_url=url, operator_token=OPERATOR_TOKEN, **changes)
    runtime = await Runtime.start(settings, broker_factory=fake_broker, engine=shared_engine())
    async with in_process(runtime, tokens) as gut:
        yield gut


@pytest.fixture
async def fake_gw(tmp_path: Path) -> AsyncIterator[GatewayUnderTest]:
    """Both nodes on the in-memory broker and a fresh SQLite database, with the demo participants."""
    async with fake_gateway(tmp_path) as gut:
        yield gut
