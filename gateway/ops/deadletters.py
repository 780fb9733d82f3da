"""The dead-letter workbench: list a node's dead letters (metadata only), redrive or discard them.

Works on the node's ``dlq`` over AMQP with the gateway's own session. Listing takes messages without
acknowledging them and closes the channel, which returns them all to the queue unchanged. A redrive
publishes the message (same body, same properties and gateway headers; the broker's ``x-`` headers left
off) back to the queue it died in, normally its mailbox, waits for the broker's confirm, and only then
acknowledges the dead letter; a discard acknowledges it. Every action is written to the audit trail with
the operator's mandatory reason before the call returns.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from adapters.rabbitmq.properties import MessageProperties, gateway_headers
from gateway.errors import NodeRole, Unavailable
from gateway.ports import Tracking, TrackingEvent
from gateway.security.audit import AuditEvent, AuditLog

log = structlog.get_logger("gateway.ops")

DLQ = "dlq"
MAX_SCAN = 10_000
_GET_TIMEOUT = 5.0
_QUEUE = re.compile(r"^(mailbox\.[0-9]{4}|mailbox\.[0-9]{8}|link\.(to|from)-(ggk|vecozo))$")
_OPERATOR = re.compile(r"^[A-Za-z0-9._@-]{1,60}$")

Action = Literal["redrive", "discard"]


class InvalidAction(ValueError):
    """The request lacks a usable reason or names nothing to act on (the text says which)."""


def check_reason(reason: str) -> str:
    """The reason as it goes into the audit trail: 3 to 200 printable characters, trimmed."""
    text = " ".join(reason.split())
    if len(text) < 3:
        raise InvalidAction("a reason of at least 3 characters is required")
    if len(text) > 200:
        raise InvalidAction("the reason is longer than 200 characters")
    return text


def check_operator(name: str) -> str:
    if not _OPERATOR.match(name):
        raise InvalidAction("operator names use letters, digits and . _ @ - only")
    return name


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead letter as the workbench shows it: ids, gateway headers and why it died. Never the body."""

    node: NodeRole
    tracking_id: str
    conversation_id: str
    headers: Mapping[str, str]
    died_in: str  # the queue it was dead-lettered from
    reason: str  # rejected, delivery_limit, expired, maxlen
    died_at: str | None
    deaths: int
    size: int

    @property
    def recipient(self) -> str:
        return self.headers.get("recipient", "")

    @property
    def target(self) -> str:
        """Where a redrive puts it: the queue it died in when that is a gateway queue, else its mailbox."""
        if _QUEUE.match(self.died_in):
            return self.died_in
        return f"mailbox.{self.recipient}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "trackingId": self.tracking_id,
            "conversationId": self.conversation_id,
            "message": self.headers.get("message", ""),
            "sender": self.headers.get("sender", ""),
            "recipient": self.recipient,
            "identificatie": self.headers.get("identificatie", ""),
            "receivedAt": self.headers.get("received-at", ""),
            "diedIn": self.died_in,
            "reason": self.reason,
            "diedAt": self.died_at,
            "deaths": self.deaths,
            "size": self.size,
            "target": self.target,
            "headers": dict(self.headers),
        }

    @classmethod
    def of(cls, node: NodeRole, message: AbstractIncomingMessage) -> DeadLetter:
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
        return cls(
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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one redrive or discard request did."""

    action: Action
    node: NodeRole
    done: tuple[str, ...] = ()  # tracking ids acted on
    failed: tuple[str, ...] = ()  # tracking ids whose redrive the broker did not confirm (still dead)
    missing: tuple[str, ...] = ()  # asked for, not in the DLQ
    targets: Mapping[str, str] = field(default_factory=dict)  # tracking id -> queue it was redriven to

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "node": self.node,
            "done": list(self.done),
            "failed": list(self.failed),
            "missing": list(self.missing),
            "targets": dict(self.targets),
        }


class DeadLetters:
    """The workbench over a :class:`adapters.rabbitmq.RabbitBroker`'s sessions."""

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
                    found.append(DeadLetter.of(node, message))
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
                    letter = DeadLetter.of(node, message)
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
                    await self._record(action, node, letter, reason, operator)
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

    async def _record(
        self, action: Action, node: NodeRole, letter: DeadLetter, reason: str, operator: str
    ) -> None:
        now = datetime.now(UTC)
        party = letter.recipient if re.fullmatch(r"[0-9]{4}|[0-9]{8}", letter.recipient) else None
        await self.audit.append(
            AuditEvent.operator_action(
                at=now,
                operator=operator,
                action=action,
                tracking_id=letter.tracking_id or None,
                party=party,
                reason=reason,
            )
        )
        if self.tracking is not None and letter.tracking_id:
            detail = {"by": "operator", "from": DLQ}
            if action == "redrive":
                detail["to"] = letter.target
            try:
                await self.tracking.add_event(
                    TrackingEvent(
                        letter.tracking_id,
                        "redriven" if action == "redrive" else "discarded",
                        node,
                        now,
                        detail,
                    )
                )
            except Exception as exc:  # the action itself is done and audited
                log.warning("ops.dead_letter_event_not_recorded", error=type(exc).__name__)


async def _close(channel: AbstractChannel) -> None:
    try:
        if not channel.is_closed:
            await channel.close()
    except Exception as exc:  # the broker requeues whatever the channel held
        log.warning("ops.channel_close_failed", error=type(exc).__name__)
