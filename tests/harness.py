"""A whole gateway under test: both nodes wired to the real broker (own vhosts) and a fresh database.

Used by the end-to-end tests of every interface. Requests go in-process through httpx's ASGI transport;
messages go through the real RabbitMQ, its shovels and the link consumers.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.db import Database
from adapters.db.seed import apply_seed, demo_tokens, load_seed
from adapters.rabbitmq import BrokerSettings, ManagementApi
from gateway.config import Settings
from gateway.errors import NodeRole
from gateway.ports import NODES
from gateway.runtime import Runtime, rabbit_broker
from gateway.standard.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
DEMO_SEED = ROOT / "deploy" / "demo" / "participants.toml"
OPERATOR_TOKEN = "operator-test-token"


@dataclass
class GatewayUnderTest:
    runtime: Runtime
    tokens: dict[str, str]
    clients: dict[NodeRole, httpx.AsyncClient] = field(default_factory=dict)

    @staticmethod
    def home(party: str) -> NodeRole:
        """Demo parties: gemeenten live on the municipal node, aanbieders on the provider node."""
        return "ggk" if len(party) == 4 else "vecozo"

    def auth(self, party: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[party]}"}

    async def submit(self, party: str, data: bytes, node: NodeRole | None = None) -> httpx.Response:
        """POST one message as ``party`` to its own node (or ``node``)."""
        client = self.clients[node or self.home(party)]
        headers = {**self.auth(party), "Content-Type": "application/xml"}
        return await client.post("/v1/berichten", content=data, headers=headers)

    async def lease(
        self, party: str, max_messages: int = 10, lease_seconds: int = 30
    ) -> list[dict[str, Any]]:
        client = self.clients[self.home(party)]
        params: dict[str, int] = {"max": max_messages, "lease_seconds": lease_seconds}
        response = await client.get("/v1/mailbox", params=params, headers=self.auth(party))
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    async def receive(
        self, party: str, within: float = 20.0, ack: bool = True
    ) -> tuple[bytes, dict[str, Any]]:
        """The next message in ``party``'s mailbox (waiting up to ``within`` s): its bytes and its item."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            got = await self.lease(party, 1)
            if got:
                item = got[0]
                if ack:
                    await self.ack(party, item["leaseId"])
                return base64.b64decode(item["body"]), item
            await asyncio.sleep(0.1)
        raise AssertionError(f"nothing arrived in the mailbox of {party} within {within} s")

    async def ack(self, party: str, lease_id: str) -> httpx.Response:
        client = self.clients[self.home(party)]
        return await client.post(f"/v1/mailbox/{lease_id}/ack", headers=self.auth(party))

    async def trace(self, party: str, tracking_id: str, node: NodeRole | None = None) -> dict[str, Any]:
        client = self.clients[node or self.home(party)]
        response = await client.get(f"/v1/berichten/{tracking_id}", headers=self.auth(party))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def drain(self, party: str) -> int:
        """Ack everything now in ``party``'s mailbox; how many there were."""
        total = 0
        while batch := await self.lease(party, 100):
            for item in batch:
                await self.ack(party, item["leaseId"])
            total += len(batch)
        return total


_ENGINE: list[Engine] = []


def shared_engine() -> Engine:
    """One compiled engine for the whole test session (compiling the schemas takes a second or two)."""
    if not _ENGINE:
        _ENGINE.append(Engine.load())
    return _ENGINE[0]


async def seed_demo(database_url: str) -> dict[str, str]:
    """Register the demo participants in the database at ``database_url``; their API tokens by party code."""
    db = await Database.connect(database_url)
    try:
        await apply_seed(db.registry, load_seed(DEMO_SEED))
        return await demo_tokens(db.registry, [p.code for p in await db.registry.participants()], {})
    finally:
        await db.close()


@asynccontextmanager
async def in_process(runtime: Runtime, tokens: dict[str, str]) -> AsyncIterator[GatewayUnderTest]:
    """The started ``runtime`` with an in-process HTTP client per node; closes clients and runtime after."""
    gut = GatewayUnderTest(runtime, tokens)
    try:
        for node, app in runtime.apps.items():
            transport = httpx.ASGITransport(app=app)
            gut.clients[node] = httpx.AsyncClient(transport=transport, base_url=f"http://{node}.test")
        yield gut
    finally:
        for client in gut.clients.values():
            await client.aclose()
        await runtime.close()


@asynccontextmanager
async def gateway_under_test(
    database_url: str, broker_settings: BrokerSettings, **changes: Any
) -> AsyncIterator[GatewayUnderTest]:
    """Seed the demo participants, start both nodes, and yield the gateway with a client per node."""
    tokens = await seed_demo(database_url)
    settings = Settings(database_url=database_url, operator_token=OPERATOR_TOKEN, lease_seconds=30, **changes)
    runtime = await Runtime.start(
        settings, broker_factory=rabbit_broker, broker_settings=broker_settings, engine=shared_engine()
    )
    try:
        async with in_process(runtime, tokens) as gut:
            yield gut
    finally:
        await remove_vhosts(broker_settings)


async def remove_vhosts(settings: BrokerSettings) -> None:
    """Delete the test's vhosts at once: hundreds of idle quorum queues slow the whole broker down."""
    async with ManagementApi(settings, timeout=60) as api:
        await api.delete_vhosts(settings.vhost(node) for node in NODES)
