"""The node topology as data: what each node's vhost holds and how the shovels join the two.

Pure: no I/O. :mod:`adapters.rabbitmq.declare` turns it into declarations on a live broker and
:mod:`adapters.rabbitmq.definitions` into the ``definitions.json`` of ``deploy/rabbitmq``; both read the same
values, so the two cannot drift apart.

Per node vhost::

    exchange outbound (direct) --routing key = other node--> quorum queue link.to-{other}  ==shovel==>
    quorum queue link.from-{other}  (filled by the other node's shovel, read by the link consumer)
    exchange mailbox (direct)  --routing key = code-->        quorum queue mailbox.{code}
    exchange dlx (fanout)      -->                            quorum queue dlq

Every queue except ``dlq`` dead-letters to ``dlx`` (at-least-once) after its delivery limit: a mailbox
carries its limit as a queue argument (``x-delivery-limit``), the link queues get theirs from a policy.
Why the difference: a shovel declares its source and destination queue itself when it starts (also when
definitions are imported at boot, where parameters come before queues), with the ``src-queue-args`` /
``dest-queue-args`` it is given, and RabbitMQ 3.10 does not accept ``x-delivery-limit`` there. So the link
queues are declared with exactly the arguments a shovel may use, and the limit comes from the policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from adapters.rabbitmq.settings import BrokerSettings
from gateway.errors import NodeRole
from gateway.ports import NODES

OUTBOUND = "outbound"
MAILBOX = "mailbox"
DLX = "dlx"
DLQ = "dlq"

ExchangeType = Literal["direct", "fanout"]
_CODE = re.compile(r"^[0-9]{4}$|^[0-9]{8}$")


def other(node: NodeRole) -> NodeRole:
    return "vecozo" if node == "ggk" else "ggk"


def link_to(node: NodeRole) -> str:
    """The queue on ``node``'s vhost holding what goes to the other node."""
    return f"link.to-{other(node)}"


def link_from(node: NodeRole) -> str:
    """The queue on ``node``'s vhost holding what came from the other node."""
    return f"link.from-{other(node)}"


def mailbox_queue(code: str) -> str:
    """The mailbox queue of a participant (4-digit CBS code or 8-digit AGB-code)."""
    if not _CODE.match(code):
        raise ValueError("a participant code has 4 or 8 digits")
    return f"mailbox.{code}"


def shovel_name(source: NodeRole) -> str:
    return f"link-{source}-to-{other(source)}"


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    name: str
    type: ExchangeType


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A durable quorum queue; ``arguments`` are the declaration arguments beyond the queue type."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    @property
    def declare_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": "quorum", **self.arguments}


@dataclass(frozen=True, slots=True)
class BindingSpec:
    exchange: str
    queue: str
    routing_key: str


@dataclass(frozen=True, slots=True)
class NodeTopology:
    node: NodeRole
    vhost: str
    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]
    bindings: tuple[BindingSpec, ...]
    policies: tuple[PolicySpec, ...]


@dataclass(frozen=True, slots=True)
class ShovelSpec:
    """A dynamic shovel: a runtime parameter of component ``shovel`` in ``vhost``."""

    name: str
    vhost: str
    value: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A queue policy in a node's vhost."""

    name: str
    pattern: str
    definition: Mapping[str, Any]
    priority: int = 0


def _dead_lettered(limit: int | None = None) -> Mapping[str, Any]:
    args: dict[str, Any] = {
        "x-dead-letter-exchange": DLX,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    if limit is not None:
        args["x-delivery-limit"] = limit
    return MappingProxyType(args)


LINK_QUEUE_ARGUMENTS = _dead_lettered()


def mailbox_spec(settings: BrokerSettings, code: str) -> tuple[QueueSpec, BindingSpec]:
    """The queue and binding of one participant's mailbox."""
    name = mailbox_queue(code)
    return QueueSpec(name, _dead_lettered(settings.delivery_limit)), BindingSpec(MAILBOX, name, code)


def node_topology(settings: BrokerSettings, node: NodeRole, mailboxes: Iterable[str] = ()) -> NodeTopology:
    """Everything ``node``'s vhost holds, with a mailbox for each code in ``mailboxes``."""
    link = LINK_QUEUE_ARGUMENTS
    queues = [QueueSpec(DLQ), QueueSpec(link_to(node), link), QueueSpec(link_from(node), link)]
    bindings = [BindingSpec(DLX, DLQ, ""), BindingSpec(OUTBOUND, link_to(node), other(node))]
    for code in sorted(set(mailboxes)):
        queue, binding = mailbox_spec(settings, code)
        queues.append(queue)
        bindings.append(binding)
    return NodeTopology(
        node=node,
        vhost=settings.vhost(node),
        exchanges=(
            ExchangeSpec(DLX, "fanout"),
            ExchangeSpec(OUTBOUND, "direct"),
            ExchangeSpec(MAILBOX, "direct"),
        ),
        queues=tuple(queues),
        bindings=tuple(bindings),
        policies=(link_policy(settings),),
    )


def link_policy(settings: BrokerSettings) -> PolicySpec:
    """The delivery limit of the two link queues."""
    return PolicySpec(
        "link-delivery-limit", r"^link\.", MappingProxyType({"delivery-limit": settings.link_delivery_limit})
    )


def shovel_spec(settings: BrokerSettings, source: NodeRole) -> ShovelSpec:
    """The shovel that moves ``source``'s ``link.to-X`` into X's ``link.from-{source}``, acking on confirm."""
    target = other(source)
    value = {
        "src-protocol": "amqp091",
        "src-uri": settings.shovel_uri(source),
        "src-queue": link_to(source),
        "src-queue-args": {"x-queue-type": "quorum", **LINK_QUEUE_ARGUMENTS},
        "dest-protocol": "amqp091",
        "dest-uri": settings.shovel_uri(target),
        "dest-queue": link_from(target),
        "dest-queue-args": {"x-queue-type": "quorum", **LINK_QUEUE_ARGUMENTS},
        "ack-mode": "on-confirm",
        "src-delete-after": "never",
        "reconnect-delay": 1,
    }
    return ShovelSpec(shovel_name(source), settings.vhost(source), MappingProxyType(value))


def shovels(settings: BrokerSettings) -> tuple[ShovelSpec, ...]:
    return tuple(shovel_spec(settings, node) for node in NODES)
