"""The demo definitions in deploy/rabbitmq stay what the code declares."""

from __future__ import annotations

import json

from adapters.rabbitmq.definitions import DEFAULT_PATH, definitions, render
from adapters.rabbitmq.settings import BrokerSettings


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
