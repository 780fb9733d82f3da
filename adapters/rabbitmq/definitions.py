"""The node topology as a RabbitMQ definitions document (what ``deploy/rabbitmq/definitions.json`` holds).

Generated from :mod:`adapters.rabbitmq.topology`, the same values the gateway declares at start; a test
checks that the committed file is what this module produces. Regenerate with::

    python -m adapters.rabbitmq.definitions deploy/rabbitmq/definitions.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import node_topology, shovels
from gateway.errors import NodeRole
from gateway.ports import NODES

DEMO_MAILBOXES: Mapping[NodeRole, tuple[str, ...]] = MappingProxyType(
    {"ggk": ("0363", "0384"), "vecozo": ("42420001", "65656055")}
)
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "definitions.json"


def definitions(
    settings: BrokerSettings, mailboxes: Mapping[NodeRole, Iterable[str]] = DEMO_MAILBOXES
) -> dict[str, Any]:
    """Vhosts, permissions of the gateway's user, exchanges, queues, bindings and the two shovels."""
    user, _ = settings.credentials
    doc: dict[str, list[dict[str, Any]]] = {
        "vhosts": [],
        "permissions": [],
        "exchanges": [],
        "queues": [],
        "bindings": [],
        "parameters": [],
    }
    for node in NODES:
        topo = node_topology(settings, node, mailboxes.get(node, ()))
        vhost = topo.vhost
        doc["vhosts"].append({"name": vhost})
        doc["permissions"].append(
            {"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}
        )
        doc["exchanges"] += [
            {
                "name": ex.name,
                "vhost": vhost,
                "type": ex.type,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for ex in topo.exchanges
        ]
        doc["queues"] += [
            {
                "name": q.name,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": q.declare_arguments,
            }
            for q in topo.queues
        ]
        doc["bindings"] += [
            {
                "source": b.exchange,
                "vhost": vhost,
                "destination": b.queue,
                "destination_type": "queue",
                "routing_key": b.routing_key,
                "arguments": {},
            }
            for b in topo.bindings
        ]
    doc["parameters"] = [
        {"component": "shovel", "vhost": s.vhost, "name": s.name, "value": dict(s.value)}
        for s in shovels(settings)
    ]
    return doc


def render(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the demo definitions (default settings, demo mailboxes) to the given path or stdout."""
    text = render(definitions(BrokerSettings()))
    if argv and argv[0] != "-":
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
