"""Fixtures for end-to-end tests: the whole gateway on the real broker, with SQLite and with PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.rabbitmq import BrokerSettings
from tests.broker.conftest import Cleanup, broker_cleanup
from tests.db.conftest import PostgresServer, postgres_server
from tests.harness import GatewayUnderTest, gateway_under_test

__all__ = ["broker_cleanup", "postgres_server"]  # fixtures shared with the broker and database suites


@pytest.fixture
def e2e_broker_settings(broker_cleanup: Cleanup) -> BrokerSettings:
    """A pair of vhosts of this test's own, removed at the end of the session."""
    settings: BrokerSettings = broker_cleanup.fresh()
    return dataclasses.replace(settings, delivery_limit=3)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def e2e_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
async def gw(sqlite_url: str, e2e_broker_settings: BrokerSettings) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway on SQLite and the real broker."""
    async with gateway_under_test(sqlite_url, e2e_broker_settings) as found:
        yield found


@pytest.fixture
async def gw_any_db(
    e2e_database_url: str, e2e_broker_settings: BrokerSettings
) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway on the real broker, once with SQLite and once with PostgreSQL."""
    async with gateway_under_test(e2e_database_url, e2e_broker_settings) as found:
        yield found
