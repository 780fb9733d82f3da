"""The dead-letter workbench on RabbitMQ: a node's ``dlq`` over AMQP with the gateway's own session.

Listing takes messages without acknowledging them and closes the channel, which returns them all to the
queue unchanged. A redrive publishes the message (same body, same properties and gateway headers; the
broker's ``x-`` headers left off) back to the queue it died in, normally its mailbox, waits for the
broker's confirm, and only then acknowledges the dead letter; a discard acknowledges it. Every action is
recorded (:func:`gateway.ops.deadletters.record_action`) before the call returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from adapters.rabbitmq.properties import MessageProperties, gateway_headers
from gateway.errors import NodeRole, Unavailable
from gateway.ops.deadletters import (
    DLQ,
    MAX_SCAN,
    Action,
    DeadLetter,
    InvalidAction,
    Outcome,
    check_operator,
    check_reason,
    record_action,
)
from gateway.ports import Tracking
from gateway.security.audit import AuditLog

log = structlog.get_logger("gateway.ops")

_GET_TIMEOUT = 5.0


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def dead_letter_of(node: NodeRole, message: AbstractIncomingMessage) -> DeadLetter:
    raw = message.headers or {}
    died_in = _text(raw.get("x-first-death-queue"))
    reason = _text(raw.get("x-first-death-reason"))
    died_at: str | None = None
    deaths = 0
    found = raw.get("x-death")
    for death in found if isinstance(found, list) else []:
        if not isinstance(death, Mapping):
            continue
        count = death.get("count")
        deaths += int(count) if isinstance(count, int) else 1
        stamp = death.get("time")
        if died_at is None and isinstance(stamp, datetime):
            died_at = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).isoformat()
        died_in = died_in or _text(death.get("queue"))
        reason = reason or _text(death.get("reason"))
    return DeadLetter(
        node=node,
        tracking_id=message.message_id or "",
        conversation_id=message.correlation_id or "",
        headers=gateway_headers(raw),
        died_in=died_in,
        reason=reason or "unknown",
        died_at=died_at,
        deaths=deaths,
        size=len(message.body),
    )


class DeadLetters:
    """The :class:`gateway.ops.deadletters.Workbench` over a :class:`adapters.rabbitmq.RabbitBroker`'s sessions."""

    def __init__(self, sessions: Any, audit: AuditLog, tracking: Tracking | None = None) -> None:
        self.sessions = sessions
        self.audit = audit
        self.tracking = tracking
        self._lock = asyncio.Lock()  # one operation at a time per process: listings see a whole queue

    def __repr__(self) -> str:
        return "DeadLetters()"

    async def _channel(self, node: NodeRole) -> AbstractChannel:
        channel: AbstractChannel = await self.sessions[node].channel()
        return channel

    async def list(self, node: NodeRole, limit: int = 200) -> list[DeadLetter]:
        """Up to ``limit`` dead letters of ``node``, oldest first; all stay in the queue."""
        async with self._lock:
            channel = await self._channel(node)
            try:
                queue = await channel.get_queue(DLQ, ensure=False)
                found = []
                for _ in range(limit):
                    message = await queue.get(no_ack=False, fail=False, timeout=_GET_TIMEOUT)
                    if message is None:
                        break
                    found.append(dead_letter_of(node, message))
                return found
            finally:
                await _close(channel)  # returns every message taken

    async def act(
        self,
        action: Action,
        node: NodeRole,
        tracking_ids: Collection[str] | None,
        *,
        reason: str,
        operator: str,
    ) -> Outcome:
        """Redrive or discard the dead letters with these tracking ids (``None``: all of them)."""
        reason = check_reason(reason)
        operator = check_operator(operator)
        wanted = None if tracking_ids is None else set(tracking_ids)
        if wanted is not None and not wanted:
            raise InvalidAction("no dead letter selected")
        done: list[str] = []
        failed: list[str] = []
        targets: dict[str, str] = {}
        async with self._lock:
            channel = await self._channel(node)
            try:
                queue = await channel.get_queue(DLQ, ensure=False)
                for _ in range(MAX_SCAN):
                    if wanted is not None and wanted <= set(done) | set(failed):
                        break
                    message = await queue.get(no_ack=False, fail=False, timeout=_GET_TIMEOUT)
                    if message is None:
                        break
                    letter = dead_letter_of(node, message)
                    if wanted is not None and letter.tracking_id not in wanted:
                        continue  # not ours: returned when the channel closes
                    if action == "redrive":
                        try:
                            await self._redrive(node, letter, message)
                        except Unavailable:
                            failed.append(letter.tracking_id)
                            continue
                        targets[letter.tracking_id] = letter.target
                    await message.ack()
                    done.append(letter.tracking_id)
                    await record_action(self.audit, self.tracking, action, node, letter, reason, operator)
            finally:
                await _close(channel)
        missing = () if wanted is None else tuple(sorted(wanted - set(done) - set(failed)))
        outcome = Outcome(action, node, tuple(done), tuple(failed), missing, targets)
        log.info(
            "ops.dead_letters",
            action=action,
            node=node,
            done=len(done),
            failed=len(failed),
            missing=len(missing),
            operator=operator,
        )
        return outcome

    async def _redrive(self, node: NodeRole, letter: DeadLetter, message: AbstractIncomingMessage) -> None:
        """Publish the same body and properties to the default exchange, routed to the target queue."""
        again = MessageProperties.of_incoming(message).message(bytes(message.body))
        await self.sessions[node].publish("", letter.target, again)


async def _close(channel: AbstractChannel) -> None:
    try:
        if not channel.is_closed:
            await channel.close()
    except Exception as exc:  # the broker requeues whatever the channel held
        log.warning("ops.channel_close_failed", error=type(exc).__name__)
