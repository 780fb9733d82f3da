"""What goes into the audit trail: every routing decision of ingest, and operator actions.

:class:`AuditSink` is a pipeline :class:`gateway.pipeline.DecisionSink`; :func:`audit_operator` is what an
operator route calls after a change (registry, redrive, discard). Both hand the audit store an
:class:`gateway.security.audit.AuditEvent`: ids, party codes, message types, digests, codes. Never payload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import structlog

from gateway.pipeline import Decision
from gateway.security.audit import AuditEvent, AuditLog

log = structlog.get_logger("gateway.audit")

OPERATOR = "operator"  # the actor of actions done with the operator credential


class AuditWriter(Protocol):
    """Stores one event (``adapters.audit.SqlAuditLog.record`` groups concurrent ones in one commit)."""

    async def record(self, event: AuditEvent) -> None: ...


def routing_event(decision: Decision) -> AuditEvent:
    """The audit event of one routing decision; the reason is the chain code and the reason slug."""
    reason = None
    if decision.code is not None:
        reason = f"{decision.code} {decision.reason}" if decision.reason else decision.code
    return AuditEvent.routing(
        at=decision.at,
        actor=decision.principal,
        decision=decision.decision,
        sender=decision.sender,
        receiver=decision.recipient,
        message=decision.message,
        tracking_id=decision.tracking_id,
        body_sha256=decision.sha256,
        reason=reason,
    )


class AuditSink:
    """Appends every routing decision to the audit trail before the answer goes out."""

    def __init__(self, writer: AuditWriter) -> None:
        self.writer = writer

    async def decided(self, decision: Decision) -> None:
        await self.writer.record(routing_event(decision))

    def __repr__(self) -> str:
        return f"AuditSink({self.writer!r})"


class Audited(Protocol):
    """What an operator route has: the node's audit trail, if one is wired."""

    @property
    def audit(self) -> AuditLog | None: ...


async def audit_operator(
    services: Audited,
    action: str,
    *,
    party: str | None = None,
    tracking_id: str | None = None,
    reason: str | None = None,
    operator: str = OPERATOR,
) -> None:
    """Record an operator action on the node whose services are ``services`` (no-op without an audit).

    ``action``: a slug such as ``participant-added``, ``participant-retired``, ``credential-issued``,
    ``credential-revoked``, ``submitter-added``, ``redrive``, ``discard``; ``party``: the party it concerns.
    """
    audit = services.audit
    if audit is None:
        return
    event = AuditEvent.operator_action(
        at=datetime.now(UTC),
        operator=operator,
        action=action,
        tracking_id=tracking_id,
        party=party,
        reason=reason,
    )
    record = getattr(audit, "record", None)
    if record is not None:
        await record(event)
    else:
        await audit.append(event)
    log.info("operator.action", action=action, party=party, tracking_id=tracking_id)
