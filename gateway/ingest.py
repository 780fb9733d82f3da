"""The ingest pipeline of one node: check, authorise, route, claim, publish, record.

Talks to the world only through ports (registry, tracking, publisher), so the same code runs against the
in-memory fakes and against SQLAlchemy + RabbitMQ.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Protocol

import structlog

from gateway.errors import GatewayError, NodeRole, NotUnique, Rejection, Unavailable
from gateway.ports import Delivery, MessageRecord, Publisher, Registry, Tracking, TrackingEvent
from gateway.routing import authorise, parties, route
from gateway.standard.header import Header

log = structlog.get_logger("gateway.ingest")

# Messages above this size are validated in a worker thread (lxml releases the GIL), smaller ones inline:
# a thread hop costs more than validating a typical 3-4 KB message.
THREAD_THRESHOLD = 64 * 1024


class Kind(Protocol):
    """What ingest needs of a catalogue entry."""

    @property
    def name(self) -> str: ...

    @property
    def sender(self) -> str: ...

    @property
    def retour(self) -> bool: ...

    @property
    def answers(self) -> str | None: ...

    @property
    def follows(self) -> tuple[str, ...]: ...


class Checker(Protocol):
    """The standard message engine as ingest sees it."""

    def check(self, data: bytes) -> Header: ...

    def kind_of(self, header: Header) -> Kind: ...


# an interface's own check of the message against its envelope (raises a Rejection)
Expectation = Callable[[Header, Kind], None]


# --- decisions: what the audit trail and the privacy index are told (issue 5) ---------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """One routing decision: ``accepted``, ``duplicate`` (the same bytes again) or ``refused``.

    Ids, party codes, chain codes and the body digest; ``header`` (which carries the client's BSN for the
    privacy index) is kept out of the repr. Parties and message are None when the refusal came first.
    """

    node: NodeRole
    decision: str
    tracking_id: str
    principal: str
    at: datetime
    sha256: str
    sender: str | None = None
    recipient: str | None = None
    message: str | None = None
    code: str | None = None
    reason: str | None = None
    header: Header | None = field(default=None, repr=False)


class DecisionSink(Protocol):
    async def decided(self, decision: Decision) -> None: ...


class _Seen:
    """How far a submission got: filled in by ``_submit`` for the decision on a refusal."""

    __slots__ = ("header", "recipient", "sender")

    def __init__(self) -> None:
        self.header: Header | None = None
        self.sender: str | None = None
        self.recipient: str | None = None


# --- end decisions ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to an accepted submission (or to a resubmission of the same bytes)."""

    tracking_id: str
    conversation_id: str
    message: str
    sender: str
    recipient: str
    target_node: NodeRole
    received_at: datetime
    duplicate: bool = False
    sha256: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class Ingest:
    """One node's ingest. ``submit`` returns :class:`Accepted` or raises a :class:`GatewayError`."""

    def __init__(
        self,
        node: NodeRole,
        checker: Checker,
        registry: Registry,
        tracking: Tracking,
        publisher: Publisher,
        clock: Callable[[], datetime] = _now,
        new_id: Callable[[], str] = _new_id,
        decisions: DecisionSink | None = None,
    ) -> None:
        self.decisions = decisions
        self.node = node
        self.checker = checker
        self.registry = registry
        self.tracking = tracking
        self.publisher = publisher
        self.clock = clock
        self.new_id = new_id

    async def check(self, data: bytes) -> Header:
        if len(data) > THREAD_THRESHOLD:
            return await asyncio.to_thread(self.checker.check, data)
        return self.checker.check(data)

    async def submit(self, data: bytes, principal: str, expect: Expectation | None = None) -> Accepted:
        """``expect`` (optional) sees the checked header before anything is claimed or published and may
        raise a Rejection: an interface's envelope checks against the message it carries."""
        received_at = self.clock()
        tracking_id = self.new_id()
        seen = _Seen()
        try:
            accepted = await self._submit(data, principal, tracking_id, received_at, expect, seen)
        except Rejection as exc:
            await self._refused(tracking_id, principal, exc, received_at)
            await self._decided_refusal(tracking_id, principal, exc, received_at, data, seen)
            raise
        if self.decisions is not None:
            await self.decisions.decided(
                Decision(
                    node=self.node,
                    decision="duplicate" if accepted.duplicate else "accepted",
                    tracking_id=accepted.tracking_id,
                    principal=principal,
                    at=received_at,
                    sha256=accepted.sha256,
                    sender=accepted.sender,
                    recipient=accepted.recipient,
                    message=accepted.message,
                    header=seen.header,
                )
            )
        return accepted

    async def _decided_refusal(
        self, tracking_id: str, principal: str, exc: Rejection, at: datetime, data: bytes, seen: _Seen
    ) -> None:
        if self.decisions is None:
            return
        decision = Decision(
            node=self.node,
            decision="refused",
            tracking_id=tracking_id,
            principal=principal,
            at=at,
            sha256=_sha256(data),
            sender=seen.sender,
            recipient=seen.recipient,
            message=seen.header.message if seen.header is not None else None,
            code=exc.code_for(self.node),
            reason=exc.reason,
        )
        try:
            await self.decisions.decided(decision)
        except Exception as err:  # recording a refusal must not hide the refusal itself
            log.warning("refusal.not_audited", tracking_id=tracking_id, error=type(err).__name__)

    async def _submit(
        self,
        data: bytes,
        principal: str,
        tracking_id: str,
        received_at: datetime,
        expect: Expectation | None = None,
        seen: _Seen | None = None,
    ) -> Accepted:
        header = await self.check(data)
        if seen is not None:
            seen.header = header
        kind = self.checker.kind_of(header)
        if expect is not None:
            expect(header, kind)
        who = parties(header, kind)
        if seen is not None:
            seen.sender, seen.recipient = who.sender, who.recipient
        today: date = received_at.date()
        may_submit = principal == who.sender or await self.registry.may_submit_for(
            principal, who.sender, today
        )
        authorise(principal, who.sender, may_submit)
        sender, recipient = await asyncio.gather(  # two independent reads: one round trip of waiting
            self.registry.participant(who.sender), self.registry.participant(who.recipient)
        )
        decided = route(kind, who, sender, recipient, self.node, today)

        conversation_id, answers = await self._conversation(header, kind, who.recipient)
        record = MessageRecord(
            tracking_id=tracking_id,
            conversation_id=conversation_id or self.new_id(),
            standard=header.standard,
            release=header.release,
            message=header.message,
            afzender=who.sender,
            ontvanger=who.recipient,
            submitter=principal,
            reference=header.reference,
            identificatie=header.identificatie,
            sha256=_sha256(data),
            size=len(data),
            received_at=received_at,
            status="pending",
            answers=answers,
        )
        claim = await self.tracking.claim(record)
        if claim.outcome == "conflict":
            raise NotUnique(
                f"{who.sender} already sent a {header.message} with reference {header.reference} "
                "with other content"
            )
        if claim.outcome == "resumed":
            # an earlier attempt was never confirmed (its process died, or its publish got no confirm):
            # go on under its ids (see Claim)
            previous = claim.previous
            assert previous is not None
            tracking_id = previous.tracking_id
            record = replace(record, tracking_id=tracking_id, conversation_id=previous.conversation_id)
            log.info("claim.resumed", node=self.node, tracking_id=tracking_id)
        if claim.outcome == "same":
            previous = claim.previous
            assert previous is not None
            if previous.status != "accepted":
                raise Unavailable("the same message is being processed; retry shortly")
            return Accepted(
                tracking_id=previous.tracking_id,
                conversation_id=previous.conversation_id,
                message=previous.message,
                sender=previous.afzender,
                recipient=previous.ontvanger,
                target_node=decided.target_node,
                received_at=previous.received_at,
                duplicate=True,
                sha256=previous.sha256,
            )

        delivery = Delivery(
            tracking_id=tracking_id,
            conversation_id=record.conversation_id,
            header=header,
            received_at=received_at,
            body=data,
            origin_node=self.node,
            target_node=decided.target_node,
        )
        try:
            await self.publisher.publish(delivery)
        except Exception as exc:
            # not confirmed, so not accepted; but a message sent before the connection broke may still be in
            # the broker: the claim is abandoned, not released, so that the sender's retry resumes it under
            # this tracking id and such a copy is a redelivery the recipient recognises (see Claim)
            await self._abandon(record)
            if isinstance(exc, GatewayError):
                raise
            log.error("publish.failed", tracking_id=tracking_id, error=type(exc).__name__)
            raise Unavailable("the broker did not confirm the message") from exc
        # the writes after the confirm are independent: started together, the tracking store's group commit
        # puts the confirm and the three events in one batch each instead of four sequential round trips
        after = [
            self.tracking.confirm(tracking_id),
            self._accepted_events(record, decided.target_node, principal),
        ]
        if header.referenties_aanbieder and not kind.retour and kind.sender == "aanbieder":
            after.append(self.tracking.add_referenties(tracking_id, who.sender, header.referenties_aanbieder))
        await asyncio.gather(*after)
        log.info(
            "message.accepted",
            node=self.node,
            tracking_id=tracking_id,
            message=header.message,
            sender=who.sender,
            recipient=who.recipient,
            size=len(data),
        )
        return Accepted(
            tracking_id=tracking_id,
            conversation_id=record.conversation_id,
            message=header.message,
            sender=who.sender,
            recipient=who.recipient,
            target_node=decided.target_node,
            received_at=received_at,
            sha256=record.sha256,
        )

    async def _abandon(self, record: MessageRecord) -> None:
        try:
            await self.tracking.abandon(record)
        except Exception as err:  # the claim then goes stale by itself (STALE_AFTER)
            log.warning("claim.not_abandoned", tracking_id=record.tracking_id, error=type(err).__name__)

    async def _conversation(
        self, header: Header, kind: Kind, recipient: str
    ) -> tuple[str | None, str | None]:
        """Find the conversation this message belongs to: (conversation id, tracking id it answers)."""
        original: MessageRecord | None = None
        if kind.retour and kind.answers:
            # the retour's header repeats the original's Afzender (our recipient) and Identificatie
            original = await self.tracking.find(recipient, kind.answers, header.identificatie)
        elif kind.follows:
            original = await self._followed(header, kind.follows, recipient)
        if original is None:
            return None, None
        return original.conversation_id, original.tracking_id

    async def _followed(self, header: Header, follows: Sequence[str], recipient: str) -> MessageRecord | None:
        for referentie in header.referenties_aanbieder:
            found = await self.tracking.find_by_referentie(recipient, referentie)
            if found is not None and found.message in follows:
                return found
        if header.declaratie_identificatie is not None:
            for name in follows:
                found = await self.tracking.find(recipient, name, header.declaratie_identificatie)
                if found is not None:
                    return found
        return None

    async def _accepted_events(self, record: MessageRecord, target: NodeRole, principal: str) -> None:
        at = record.received_at
        base = {"message": record.message, "sender": record.afzender, "recipient": record.ontvanger}
        # added in this order, so they are stored in this order (one batch of the group commit)
        await asyncio.gather(
            self.tracking.add_event(
                TrackingEvent(record.tracking_id, "received", self.node, at, {**base, "submitter": principal})
            ),
            self.tracking.add_event(
                TrackingEvent(record.tracking_id, "routed", self.node, at, {"to": target})
            ),
            self.tracking.add_event(TrackingEvent(record.tracking_id, "published", self.node, self.clock())),
        )

    async def _refused(self, tracking_id: str, principal: str, exc: Rejection, at: datetime) -> None:
        detail = {"code": exc.code_for(self.node), "reason": exc.reason, "submitter": principal}
        detail["errors"] = ",".join(sorted({e.code for e in exc.errors}))
        try:
            await self.tracking.add_event(TrackingEvent(tracking_id, "refused", self.node, at, detail))
        except Exception as err:  # recording a refusal must not hide the refusal itself
            log.warning("refusal.not_recorded", tracking_id=tracking_id, error=type(err).__name__)
        exc.tracking_id = tracking_id
        log.info(
            "message.refused", node=self.node, tracking_id=tracking_id, code=detail["code"], reason=exc.reason
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
