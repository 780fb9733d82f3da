"""Fixtures of the security and privacy tests: a whole gateway on the in-memory broker with its keys, PKI and
BSN key in the test's own directory (fast), and HTTPS servers of its nodes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from adapters.rabbitmq.testing import FakeBroker
from gateway.config import SecuritySettings, Settings
from gateway.errors import NodeRole
from gateway.http.serving import node_server_config
from gateway.runtime import Runtime
from gateway.security.pkidir import PkiDir, parties_from_toml
from tests.harness import DEMO_SEED, OPERATOR_TOKEN, GatewayUnderTest, in_process, seed_demo, shared_engine


def fake_broker(settings: object, nodes: tuple[NodeRole, ...], link: Any) -> FakeBroker:
    return FakeBroker(nodes=nodes, on_link_message=link, on_delivered=link.delivered)


def security(tmp: Path, **changes: Any) -> SecuritySettings:
    """Security settings whose keys live in ``tmp``; no background purge unless asked for."""
    base = SecuritySettings(
        receipt_dir=tmp / "pki", privacy_key_file=tmp / "privacy.key", purge_interval=0, rate_limit=0
    )
    return base.model_copy(update=changes)


@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiDir:
    """The dev PKI of the demo participants (made once: key generation takes a moment)."""
    import tomllib

    directory = PkiDir(tmp_path_factory.mktemp("pki"))
    directory.init(parties_from_toml(tomllib.loads(DEMO_SEED.read_text(encoding="utf-8"))))
    return directory


@asynccontextmanager
async def fake_gateway(
    tmp: Path, sec: SecuritySettings, database_url: str | None = None
) -> AsyncIterator[GatewayUnderTest]:
    """Both nodes on the in-memory broker and a fresh SQLite database with the demo participants."""
    url = database_url or f"sqlite+aiosqlite:///{tmp / 'gateway.db'}"
    tokens = await seed_demo(url)
    settings = Settings(database_url=url, operator_token=OPERATOR_TOKEN, security=sec)
    runtime = await Runtime.start(settings, broker_factory=fake_broker, engine=shared_engine())
    async with in_process(runtime, tokens) as gut:
        yield gut


@pytest.fixture
async def fake_gw(tmp_path: Path) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway (in-memory broker, SQLite) with its keys in the test's directory."""
    async with fake_gateway(tmp_path, security(tmp_path)) as gut:
        yield gut


@asynccontextmanager
async def served(app: Any, settings: Settings, node: NodeRole, **overrides: Any) -> AsyncIterator[str]:
    """``app`` served by uvicorn as ``gateway serve`` serves it (TLS, limits) on a free port; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = node_server_config(app, settings, node, **{"log_level": "critical", **overrides})
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    scheme = "https" if settings.security.tls_dir is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


ClientFactory = Callable[..., httpx.AsyncClient]
