"""The dead-letter workbench as operators use it: what a dead letter shows, the checks of a request, and
the record of every action (audit trail with the operator's mandatory reason, track & trace event).

The workbench itself is a port (:class:`Workbench`); :mod:`adapters.rabbitmq.workbench` works it on the
node's ``dlq`` over AMQP.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import structlog

from gateway.errors import NodeRole
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


class Workbench(Protocol):
    """A node's dead letters: list them (metadata only), redrive or discard them."""

    async def list(self, node: NodeRole, limit: int = 200) -> list[DeadLetter]: ...

    async def act(
        self, action: Action, node: NodeRole, ids: Collection[str] | None, *, reason: str, operator: str
    ) -> Outcome:
        """Redrive or discard the dead letters with these tracking ids (``None``: all of them)."""
        ...


async def record_action(
    audit: AuditLog,
    tracking: Tracking | None,
    action: Action,
    node: NodeRole,
    letter: DeadLetter,
    reason: str,
    operator: str,
) -> None:
    """Write one redrive or discard to the audit trail, and to track & trace when the letter has an id."""
    now = datetime.now(UTC)
    party = letter.recipient if re.fullmatch(r"[0-9]{4}|[0-9]{8}", letter.recipient) else None
    await audit.append(
        AuditEvent.operator_action(
            at=now,
            operator=operator,
            action=action,
            tracking_id=letter.tracking_id or None,
            party=party,
            reason=reason,
        )
    )
    if tracking is not None and letter.tracking_id:
        detail = {"by": "operator", "from": DLQ}
        if action == "redrive":
            detail["to"] = letter.target
        try:
            await tracking.add_event(
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
