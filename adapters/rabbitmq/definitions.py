"""The node topology as a RabbitMQ definitions document (what ``deploy/rabbitmq/definitions.json`` holds).

Generated from :mod:`adapters.rabbitmq.topology` and :mod:`adapters.rabbitmq.deadletters` (the ``mailbox-ttl``
policy and the ``dlq.watch`` queue), the same values the gateway declares at start, so a gateway starting on a
broker that loaded the file changes nothing there; a test checks that the committed file is what this module
produces. Regenerate with::

    python -m adapters.rabbitmq.definitions deploy/rabbitmq/definitions.json
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from adapters.rabbitmq.deadletters import WATCH_BINDING, WATCH_QUEUE_SPEC, mailbox_ttl_policy
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import BindingSpec, PolicySpec, QueueSpec, node_topology, shovels
from gateway.config import SecuritySettings
from gateway.errors import NodeRole
from gateway.ports import NODES

DEMO_MAILBOXES: Mapping[NodeRole, tuple[str, ...]] = MappingProxyType(
    {"ggk": ("0363", "0384"), "vecozo": ("42420001", "65656055")}
)
_DEMO_SALT = hashlib.sha256(b"gegevensknooppunt demo definitions").digest()[:4]
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "definitions.json"
DEFAULT_MAILBOX_TTL = SecuritySettings().mailbox_ttl


def definitions(
    settings: BrokerSettings,
    mailboxes: Mapping[NodeRole, Iterable[str]] = DEMO_MAILBOXES,
    *,
    mailbox_ttl: int = DEFAULT_MAILBOX_TTL,
) -> dict[str, Any]:
    """The gateway's user, vhosts, permissions, exchanges, queues, bindings, policies and the two shovels.

    Per vhost: the node topology, the policy ``mailbox-ttl`` with ``mailbox_ttl`` seconds (none for 0, as
    the gateway puts none) and the dead-letter watch queue ``dlq.watch`` with its binding to ``dlx``.

    The user is there because a node that loads definitions at boot creates no default user: without it
    nobody could log in. Its password hash uses a fixed salt so the file is reproducible; it is a demo
    credential (the settings' password, ``guest`` by default), to be replaced in a real deployment.
    """
    ttl_policy = mailbox_ttl_policy(mailbox_ttl)
    user, password = settings.credentials
    doc: dict[str, list[dict[str, Any]]] = {
        "users": [
            {
                "name": user,
                "password_hash": password_hash(password),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": ["administrator"],
            }
        ],
        "vhosts": [],
        "permissions": [],
        "exchanges": [],
        "queues": [],
        "bindings": [],
        "policies": [],
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
        queues = (*topo.queues, WATCH_QUEUE_SPEC)
        policies = topo.policies if ttl_policy is None else (*topo.policies, ttl_policy)
        bindings = (*topo.bindings, WATCH_BINDING)
        doc["queues"] += [queue_entry(vhost, q) for q in queues]
        doc["policies"] += [policy_entry(vhost, p) for p in policies]
        doc["bindings"] += [binding_entry(vhost, b) for b in bindings]
    doc["parameters"] = [
        {"component": "shovel", "vhost": s.vhost, "name": s.name, "value": dict(s.value)}
        for s in shovels(settings)
    ]
    return doc


def queue_entry(vhost: str, queue: QueueSpec) -> dict[str, Any]:
    return {
        "name": queue.name,
        "vhost": vhost,
        "durable": True,
        "auto_delete": False,
        "arguments": queue.declare_arguments,
    }


def policy_entry(vhost: str, policy: PolicySpec) -> dict[str, Any]:
    """A policy as the gateway puts it (:meth:`adapters.rabbitmq.management.ManagementApi.put_policy`)."""
    return {
        "vhost": vhost,
        "name": policy.name,
        "pattern": policy.pattern,
        "apply-to": "queues",
        "definition": dict(policy.definition),
        "priority": policy.priority,
    }


def binding_entry(vhost: str, binding: BindingSpec) -> dict[str, Any]:
    return {
        "source": binding.exchange,
        "vhost": vhost,
        "destination": binding.queue,
        "destination_type": "queue",
        "routing_key": binding.routing_key,
        "arguments": {},
    }


def password_hash(password: str, salt: bytes = _DEMO_SALT) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


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
