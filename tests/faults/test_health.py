"""Readiness: /readyz answers 200 only while the database and the node's broker connection answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.rabbitmq.testing import FakeBroker
from gateway.config import Settings
from gateway.errors import NodeRole
from gateway.interfaces.link import LinkCallbacks
from gateway.runtime import Runtime
from tests.harness import shared_engine


def _fake(settings: object, nodes: tuple[NodeRole, ...], link: LinkCallbacks) -> FakeBroker:
    return FakeBroker(nodes=nodes, on_link_message=link, on_delivered=link.delivered)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    found = await Runtime.start(settings, broker_factory=_fake, engine=shared_engine())
    yield found
    await found.close()


async def _readyz(runtime: Runtime, node: NodeRole) -> httpx.Response:
    transport = httpx.ASGITransport(app=runtime.apps[node])
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
        return await client.get("/readyz")


async def test_ready_when_database_and_broker_answer(runtime: Runtime) -> None:
    """Both nodes answer 200 and name themselves."""
    answers = [await _readyz(runtime, node) for node in ("ggk", "vecozo")]
    assert [(200, "ggk"), (200, "vecozo")] == [(r.status_code, r.json()["node"]) for r in answers]


async def test_not_ready_while_the_broker_is_down(runtime: Runtime) -> None:
    """With the broker down /readyz is 503 (IB103) with Retry-After, so a load balancer sends nothing."""
    broker = runtime.broker
    assert isinstance(broker, FakeBroker)
    broker.down = True
    response = await _readyz(runtime, "vecozo")
    assert (503, True) == (response.status_code, "retry-after" in response.headers)
