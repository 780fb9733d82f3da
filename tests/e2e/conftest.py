"""Fixtures for end-to-end tests: the whole gateway on the real broker, with SQLite and with PostgreSQL, and
served over mutual TLS on real ports for the command-line clients (``gateway simulate``, ``gateway status``)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from adapters.rabbitmq import BrokerSettings
from gateway.security.pkidir import PkiDir
from tests.broker.conftest import Cleanup, broker_cleanup
from tests.db.conftest import PostgresServer, postgres_server
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest, gateway_under_test
from tests.privacy.conftest import demo_pki, security, served

# fixtures shared with the broker, database and privacy suites
__all__ = ["broker_cleanup", "demo_pki", "postgres_server"]


@pytest.fixture
def e2e_broker_settings(broker_cleanup: Cleanup) -> BrokerSettings:
    """A pair of vhosts of this test's own, removed at the end of the session."""
    settings: BrokerSettings = broker_cleanup.fresh()
    return settings.model_copy(update={"delivery_limit": 3})


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
async def gw_warn(sqlite_url: str, e2e_broker_settings: BrokerSettings) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway with GATEWAY_CONTENT_RULES=warn: content rules reported, not refused."""
    async with gateway_under_test(sqlite_url, e2e_broker_settings, content_rules="warn") as found:
        yield found


@pytest.fixture
async def gw_any_db(
    e2e_database_url: str, e2e_broker_settings: BrokerSettings
) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway on the real broker, once with SQLite and once with PostgreSQL."""
    async with gateway_under_test(e2e_database_url, e2e_broker_settings) as found:
        yield found


@dataclass(frozen=True)
class ServedGateway:
    """The gateway on the real broker, both nodes served over HTTPS as ``gateway serve`` serves them."""

    gw: GatewayUnderTest
    urls: dict[str, str]  # node -> https://127.0.0.1:PORT
    env: dict[str, str]  # the environment of a command-line client: host, ports, dev PKI, operator credential
    workdir: Path  # an empty directory to run the client in (no var/ of the repository)


@pytest.fixture
async def https_gw(
    sqlite_url: str, e2e_broker_settings: BrokerSettings, demo_pki: PkiDir, tmp_path: Path
) -> AsyncIterator[ServedGateway]:
    """Both nodes over mutual TLS (dev PKI of the demo participants, client certificates optional)."""
    sec = security(tmp_path, tls_dir=demo_pki.root)
    async with gateway_under_test(sqlite_url, e2e_broker_settings, security=sec) as gut:
        apps, settings = gut.runtime.apps, gut.runtime.settings
        async with (
            served(apps["ggk"], settings, "ggk") as ggk,
            served(apps["vecozo"], settings, "vecozo") as vecozo,
        ):
            env = {
                **os.environ,
                "GATEWAY_HOST": "127.0.0.1",
                "GATEWAY_GGK_PORT": str(urlsplit(ggk).port),
                "GATEWAY_VECOZO_PORT": str(urlsplit(vecozo).port),
                "GATEWAY_TLS_DIR": str(demo_pki.root),
                "GATEWAY_CLIENT_CERTS": "optional",
                "GATEWAY_OPERATOR_TOKEN": OPERATOR_TOKEN,
            }
            workdir = tmp_path / "client"
            workdir.mkdir()
            yield ServedGateway(gut, {"ggk": ggk, "vecozo": vecozo}, env, workdir)


async def gateway_command(served_gw: ServedGateway, *args: str, **env: str) -> tuple[int, str, str]:
    """Run ``gateway ARGS`` as its own process against ``served_gw`` (its environment changed by ``env``; at
    most a minute): exit code, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        env={**served_gw.env, **env},
        cwd=served_gw.workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
