"""The demo definitions in deploy/rabbitmq stay what the code declares."""

from __future__ import annotations

import json
import re
from typing import Any, cast

import httpx

from adapters.rabbitmq.deadletters import (
    MAILBOX_PATTERN,
    MAILBOX_TTL_POLICY,
    WATCH_DELIVERY_LIMIT,
    WATCH_QUEUE,
    DeadLetter,
    DeadLetterWatcher,
    apply_mailbox_ttl,
    mailbox_ttl_policy,
)
from adapters.rabbitmq.definitions import DEFAULT_PATH, definitions, render
from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import DLX
from gateway.config import SecuritySettings
from gateway.ports import NODES


def test_committed_definitions_match_the_code() -> None:
    """deploy/rabbitmq/definitions.json is exactly what `python -m adapters.rabbitmq.definitions` writes."""
    assert render(definitions(BrokerSettings())) == DEFAULT_PATH.read_text(encoding="utf-8")


def test_definitions_hold_the_demo_mailboxes() -> None:
    """The demo definitions give the four demo participants a mailbox on their home node."""
    doc = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    mailboxes = sorted((q["vhost"], q["name"]) for q in doc["queues"] if q["name"].startswith("mailbox."))
    expected = [
        ("ggk", "mailbox.0363"),
        ("ggk", "mailbox.0384"),
        ("vecozo", "mailbox.42420001"),
        ("vecozo", "mailbox.65656055"),
    ]
    assert expected == mailboxes


def test_definitions_shovel_each_way_on_confirm() -> None:
    """The definitions hold one shovel per direction, each acking on confirm."""
    doc = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    shovels = sorted(
        (
            p["vhost"],
            p["value"]["src-queue"],
            p["value"]["dest-uri"],
            p["value"]["dest-queue"],
            p["value"]["ack-mode"],
        )
        for p in doc["parameters"]
    )
    expected = [
        ("ggk", "link.to-vecozo", "amqp:///vecozo", "link.from-ggk", "on-confirm"),
        ("vecozo", "link.to-ggk", "amqp:///ggk", "link.from-vecozo", "on-confirm"),
    ]
    assert expected == shovels


# --- what the gateway adds at start: the mailbox TTL policy and the dead-letter watch queue --------------


def _file() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return doc


def test_definitions_hold_the_mailbox_ttl_policy() -> None:
    """Each vhost has the gateway's `mailbox-ttl` policy with the default TTL (30 days) in milliseconds."""
    ttl = SecuritySettings().mailbox_ttl
    policies = [p for p in _file()["policies"] if p["name"] == MAILBOX_TTL_POLICY]
    expected = [
        {
            "vhost": vhost,
            "name": "mailbox-ttl",
            "pattern": MAILBOX_PATTERN,
            "apply-to": "queues",
            "definition": {"message-ttl": ttl * 1000},
            "priority": 0,
        }
        for vhost in NODES
    ]
    assert (expected, 30 * 86400 * 1000) == (policies, policies[0]["definition"]["message-ttl"])


async def test_gateway_puts_the_policy_of_the_definitions() -> None:
    """apply_mailbox_ttl sends exactly the file's policy (name, pattern, definition, apply-to, priority)."""
    settings = BrokerSettings()
    put: list[tuple[str, str, dict[str, Any]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        put.append((request.method, request.url.path, json.loads(request.content)))
        return httpx.Response(204)

    api = ManagementApi(settings)
    await api.aclose()
    api._client = httpx.AsyncClient(base_url="http://broker/api", transport=httpx.MockTransport(answer))
    async with api:
        for node in NODES:
            await apply_mailbox_ttl(api, settings, node, SecuritySettings().mailbox_ttl)
    expected = [
        (
            "PUT",
            f"/api/policies/{p['vhost']}/{p['name']}",
            {k: v for k, v in p.items() if k not in ("vhost", "name")},
        )
        for p in _file()["policies"]
        if p["name"] == MAILBOX_TTL_POLICY
    ]
    assert expected == put


def test_no_mailbox_ttl_policy_for_ttl_zero() -> None:
    """TTL 0 means no policy, in the file as at the gateway's start."""
    doc = definitions(BrokerSettings(), mailbox_ttl=0)
    assert (None, ["link-delivery-limit"] * 2) == (
        mailbox_ttl_policy(0),
        [p["name"] for p in doc["policies"]],
    )


def test_gateway_policies_do_not_overlap() -> None:
    """Every queue in the file matches at most one policy (RabbitMQ applies only one): links get the delivery
    limit, mailboxes the TTL, `dlq` and `dlq.watch` none."""
    doc = _file()
    applied = {
        (q["vhost"], q["name"]): [
            p["name"]
            for p in doc["policies"]
            if p["vhost"] == q["vhost"] and re.search(p["pattern"], q["name"])
        ]
        for q in doc["queues"]
    }
    expected = {
        (q["vhost"], q["name"]): (
            ["link-delivery-limit"]
            if q["name"].startswith("link.")
            else [MAILBOX_TTL_POLICY]
            if q["name"].startswith("mailbox.")
            else []
        )
        for q in doc["queues"]
    }
    assert expected == applied


def test_definitions_hold_the_watch_queue() -> None:
    """Each vhost has `dlq.watch` (quorum, the watcher's delivery limit) bound to `dlx` with key ""."""
    doc = _file()
    queues = [q for q in doc["queues"] if q["name"] == WATCH_QUEUE]
    bindings = [b for b in doc["bindings"] if b["destination"] == WATCH_QUEUE]
    expected_queues = [
        {
            "name": "dlq.watch",
            "vhost": vhost,
            "durable": True,
            "auto_delete": False,
            "arguments": {"x-queue-type": "quorum", "x-delivery-limit": WATCH_DELIVERY_LIMIT},
        }
        for vhost in NODES
    ]
    expected_bindings = [
        {
            "source": DLX,
            "vhost": vhost,
            "destination": "dlq.watch",
            "destination_type": "queue",
            "routing_key": "",
            "arguments": {},
        }
        for vhost in NODES
    ]
    assert (expected_queues, expected_bindings) == (queues, bindings)


class _Amqp:
    """Stands in for the watcher's sessions, its channel and its queue; records what is declared and bound."""

    def __init__(self) -> None:
        self.declared: list[tuple[str, bool, dict[str, Any]]] = []
        self.bound: list[tuple[str, str]] = []
        self.is_closed = False

    def __getitem__(self, node: str) -> _Amqp:
        return self

    async def channel(self, prefetch: int) -> _Amqp:
        return self

    async def declare_queue(self, name: str, *, durable: bool, arguments: dict[str, Any]) -> _Amqp:
        self.declared.append((name, durable, arguments))
        return self

    async def bind(self, exchange: str, *, routing_key: str) -> None:
        self.bound.append((exchange, routing_key))

    async def consume(self, callback: object) -> str:
        return "tag"

    async def get_queue(self, name: str, *, ensure: bool) -> _Amqp:
        return self

    async def cancel(self, tag: str) -> None:
        pass

    async def close(self) -> None:
        self.is_closed = True


async def test_watcher_declares_the_queue_of_the_definitions() -> None:
    """DeadLetterWatcher.start declares `dlq.watch` with the file's arguments and binds it as the file does."""

    async def ignore(dead: DeadLetter) -> None:
        pass

    amqp = _Amqp()
    watcher = DeadLetterWatcher(BrokerSettings(), "ggk", ignore, sessions=cast(Sessions, amqp))
    await watcher.start()
    await watcher.stop()
    doc = _file()
    [queue] = [q for q in doc["queues"] if q["vhost"] == "ggk" and q["name"] == WATCH_QUEUE]
    [binding] = [b for b in doc["bindings"] if b["vhost"] == "ggk" and b["destination"] == WATCH_QUEUE]
    expected = (
        [(queue["name"], queue["durable"], queue["arguments"])],
        [(binding["source"], binding["routing_key"])],
    )
    assert expected == (amqp.declared, amqp.bound)
