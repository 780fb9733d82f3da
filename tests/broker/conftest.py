"""Fixtures for the broker tests: settings with a random vhost prefix, the real broker and the in-memory fake.

Every vhost a test session makes starts with one random prefix and is deleted afterwards, as are the
participant users it provisioned. Behavioural tests run against both brokers through ``broker``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from itertools import count
from typing import TypeVar
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest

from adapters.rabbitmq.broker import Broker, RabbitBroker
from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.properties import LinkMessage
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.testing import FakeBroker
from gateway.config import Settings
from gateway.errors import NodeRole
from gateway.ports import NODES, Delivery, Leased, MailboxReader
from gateway.standard.header import Header

T = TypeVar("T")


def new_code() -> str:
    """A random 8-digit participant code that no demo or real party uses."""
    return "9" + f"{secrets.randbelow(10**7):07d}"


def delivery(
    recipient: str,
    *,
    origin: NodeRole = "vecozo",
    target: NodeRole = "ggk",
    body: bytes | None = None,
    sender: str = "42420001",
) -> Delivery:
    """A delivery of a (not necessarily valid) request from ``sender`` to ``recipient``."""
    header = Header("iWmo", "3.2", "WMO315", "414", sender, recipient, str(uuid4()), date(2026, 1, 5))
    payload = body if body is not None else f"<bericht id='{uuid4()}'>\u00e9\r\n</bericht>".encode()
    return Delivery(str(uuid4()), str(uuid4()), header, datetime.now(UTC), payload, origin, target)


async def eventually(probe: Callable[[], Awaitable[T]], expected: T, *, within: float = 30.0) -> T:
    """Poll ``probe`` until it returns ``expected`` (or give up after ``within`` seconds and return the last)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await probe()
        if value == expected or loop.time() > deadline:
            return value
        await asyncio.sleep(0.2)


async def lease_one(
    reader: MailboxReader, node: NodeRole, code: str, *, lease_seconds: int = 30, within: float = 15.0
) -> Leased | None:
    """The first message leased from ``code``'s mailbox within ``within`` seconds, or None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        got = await reader.lease(node, code, 1, lease_seconds)
        if got:
            return got[0]
        await asyncio.sleep(0.1)
    return None


class LinkPolicy:
    """The link callback tests steer: it records every message and raises the queued errors first."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []
        self.seen: list[LinkMessage] = []

    async def __call__(self, message: LinkMessage) -> None:
        self.seen.append(message)
        if self.errors:
            raise self.errors.pop(0)


# --- the real broker ------------------------------------------------------------------------------------


class Cleanup:
    """Vhost prefixes and users made by this session, removed at its end."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.users: set[str] = set()
        self._counter = count(1)

    def fresh(self, **changes: object) -> BrokerSettings:
        """Settings with a vhost prefix of their own (under the session prefix)."""
        prefix = f"{self.settings.vhost_prefix}{next(self._counter)}-"
        return self.settings.model_copy(update={"vhost_prefix": prefix, **changes})

    def remove_all(self) -> None:
        s = self.settings
        with httpx.Client(
            base_url=s.management_base + "/api", auth=s.management_credentials, timeout=30
        ) as api:
            mine = [v["name"] for v in api.get("/vhosts").json() if v["name"].startswith(s.vhost_prefix)]
            for (
                vhost
            ) in mine:  # shovels first: one pointing at a deleted vhost stalls the broker's vhost changes
                for shovel in api.get(f"/parameters/shovel/{quote(vhost, safe='')}").json():
                    api.delete(f"/parameters/shovel/{quote(vhost, safe='')}/{quote(shovel['name'], safe='')}")
            for vhost in mine:
                api.delete(f"/vhosts/{quote(vhost, safe='')}")
            for user in self.users:
                api.delete(f"/users/{user}")


@pytest.fixture(scope="session")
def broker_cleanup() -> Iterator[Cleanup]:
    base = Settings.from_env().broker
    settings = base.model_copy(
        update={
            "vhost_prefix": f"test{secrets.token_hex(4)}-",
            "delivery_limit": 2,
            "link_delivery_limit": 2,
            "retry_delay": 0.05,
            "connect_timeout": 3.0,
            "confirm_timeout": 10.0,
        }
    )
    cleanup = Cleanup(settings)
    yield cleanup
    cleanup.remove_all()


@pytest.fixture
def rabbit_settings(broker_cleanup: Cleanup) -> BrokerSettings:
    """Settings for one test: its own pair of vhosts; a message for the other node crosses by the link
    (``link.from-*`` and the link consumer, whose behaviour these tests pin), not straight into the mailbox."""
    return broker_cleanup.fresh(link_into_mailbox=False)


@pytest.fixture
async def rabbit(rabbit_settings: BrokerSettings, link_policy: LinkPolicy) -> AsyncIterator[RabbitBroker]:
    broker = RabbitBroker(rabbit_settings, on_link_message=link_policy)
    try:
        await broker.start()
        yield broker
    finally:
        await broker.close()
        async with ManagementApi(rabbit_settings) as api:  # few quorum queues alive at any time
            await api.delete_vhosts(rabbit_settings.vhost(node) for node in NODES)


@pytest.fixture
def link_policy() -> LinkPolicy:
    return LinkPolicy()


# --- either ---------------------------------------------------------------------------------------------


@pytest.fixture
async def fake_broker(link_policy: LinkPolicy) -> AsyncIterator[FakeBroker]:
    settings = BrokerSettings(delivery_limit=2, link_delivery_limit=2)
    fake = FakeBroker(settings, on_link_message=link_policy)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture(params=["fake", pytest.param("rabbit", marks=pytest.mark.broker)])
def broker(request: pytest.FixtureRequest) -> Broker:
    """The in-memory fake and the real broker, with the same limits and the same steerable link callback."""
    name = "fake_broker" if request.param == "fake" else "rabbit"
    found: Broker = request.getfixturevalue(name)
    return found
