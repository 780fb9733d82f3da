"""Who sees dead letters: a watch queue beside the DLQ, and the TTL of unfetched mailbox messages.

Every queue of a node dead-letters to the fanout exchange ``dlx``, which feeds ``dlq`` (where dead letters
stay for the operators). :class:`DeadLetterWatcher` binds a queue of its own, ``dlq.watch``, to the same
exchange, so it receives a copy of every dead letter and reports it (track & trace records a
``dead-lettered`` event) without taking anything out of ``dlq``. The copy is acked once reported; a report
that fails is retried, and a copy that keeps failing is dropped after its delivery limit (the original stays
in ``dlq``).

:func:`apply_mailbox_ttl` puts the ``mailbox-ttl`` policy on a node's vhost: a message left unfetched in a
mailbox longer than the TTL expires and dead-letters (quorum queues support message TTL from RabbitMQ 3.10
on). A policy, not a queue argument, so existing mailboxes get it without being declared anew and the TTL
can change at any time.

The watch queue (:data:`WATCH_QUEUE_SPEC`, :data:`WATCH_BINDING`) and the policy (:func:`mailbox_ttl_policy`)
are data here, read both by the watcher and :func:`apply_mailbox_ttl` and by
:mod:`adapters.rabbitmq.definitions`: a broker that loaded ``deploy/rabbitmq/definitions.json`` already holds
what the gateway declares at start, with the same values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage

from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.settle import settle
from adapters.rabbitmq.topology import DLX, BindingSpec, PolicySpec, QueueSpec
from adapters.rabbitmq.watch import QueueWatcher, header_text
from gateway.errors import NodeRole

log = structlog.get_logger("adapters.rabbitmq")

WATCH_QUEUE = "dlq.watch"
WATCH_DELIVERY_LIMIT = 20
MAILBOX_TTL_POLICY = "mailbox-ttl"
MAILBOX_PATTERN = r"^mailbox\."

WATCH_QUEUE_SPEC = QueueSpec(WATCH_QUEUE, MappingProxyType({"x-delivery-limit": WATCH_DELIVERY_LIMIT}))
"""``dlq.watch``: a quorum queue that drops a copy after its delivery limit (no dead-letter exchange of its own:
a copy that cannot be reported must not come back through ``dlx``)."""
WATCH_BINDING = BindingSpec(DLX, WATCH_QUEUE, "")
"""``dlq.watch`` gets every dead letter of its vhost (``dlx`` is a fanout exchange)."""


def mailbox_ttl_policy(ttl: int) -> PolicySpec | None:
    r"""The ``mailbox-ttl`` policy for a TTL of ``ttl`` seconds; None for 0 (no TTL).

    Priority 0 like ``link-delivery-limit``: the patterns do not overlap (``^mailbox\.``, ``^link\.``), so
    each queue of the topology has at most one of the gateway's policies.
    """
    if ttl < 0:
        raise ValueError("a mailbox TTL is not negative")
    if ttl == 0:
        return None
    return PolicySpec(MAILBOX_TTL_POLICY, MAILBOX_PATTERN, MappingProxyType({"message-ttl": ttl * 1000}))


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that was dead-lettered: its tracking id, from which queue, why (``expired``,
    ``delivery_limit``, ``rejected``, ``maxlen``), on which node, and when it was seen."""

    tracking_id: str
    node: NodeRole
    queue: str
    reason: str
    at: datetime


DeadLetterCallback = Callable[[DeadLetter], Awaitable[None]]


def dead_letter_of(
    node: NodeRole, message_id: str | None, headers: Mapping[str, Any], at: datetime
) -> DeadLetter:
    """Read where and why a message died from the broker's headers (``x-first-death-*``, else ``x-death``)."""
    reason, queue = (
        header_text(headers.get("x-first-death-reason")),
        header_text(headers.get("x-first-death-queue")),
    )
    deaths = headers.get("x-death")
    if (not reason or not queue) and isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        reason = reason or header_text(deaths[0].get("reason"))
        queue = queue or header_text(deaths[0].get("queue"))
    return DeadLetter(message_id or "", node, queue or "unknown", reason or "unknown", at)


async def apply_mailbox_ttl(api: ManagementApi, settings: BrokerSettings, node: NodeRole, ttl: int) -> None:
    """Mailbox messages of ``node`` expire after ``ttl`` seconds unfetched.

    ``ttl`` 0 puts no policy (one put before stays until ``rabbitmqctl clear_policy mailbox-ttl``).
    """
    policy = mailbox_ttl_policy(ttl)
    if policy is not None:
        await api.put_policy(
            settings.vhost(node), policy.name, policy.pattern, policy.definition, priority=policy.priority
        )


class DeadLetterWatcher(QueueWatcher):
    """Reports every dead letter of one node to ``callback`` (see the module docstring)."""

    queue = WATCH_QUEUE_SPEC
    binding = WATCH_BINDING
    purpose = "dead-letter-watch"

    def __init__(
        self,
        settings: BrokerSettings,
        node: NodeRole,
        callback: DeadLetterCallback,
        *,
        sessions: Sessions | None = None,
        retry_delay: float = 1.0,
    ) -> None:
        super().__init__(settings, node, sessions=sessions)
        self._callback = callback
        self._retry_delay = retry_delay

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        dead = dead_letter_of(self.node, message.message_id, message.headers or {}, datetime.now(UTC))
        async with settle(message, retry_delay=self._retry_delay) as result:
            await self._callback(dead)
        if result.outcome != "acked":
            log.warning(
                "dead_letter.not_reported", node=self.node, outcome=result.outcome, error=result.reason
            )
