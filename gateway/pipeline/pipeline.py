"""The one ingest pipeline of a node: judge, then claim, publish with confirm, record, tell the observers.

Every interface calls :meth:`Pipeline.run` (or :meth:`Pipeline.submit` for one message) with the bytes it
unpacked, the authenticated party and its envelope's :class:`Facts`, and maps the :class:`Verdict` to its
own answer. Talks to the world only through ports (registry, tracking, publisher), so the same code runs
against the in-memory fakes and against SQLAlchemy + RabbitMQ.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog

from gateway.errors import ErrorItem, GatewayError, NodeRole, NoOriginal, NotUnique, Rejection, Unavailable
from gateway.pipeline.judge import Judge, Refusal
from gateway.pipeline.link import arrival_events
from gateway.pipeline.observe import NOBODY, Observers
from gateway.pipeline.sniff import message_name
from gateway.pipeline.values import (
    BARE,
    Accepted,
    Checker,
    Decision,
    EnvelopeClaim,
    Facts,
    Kind,
    Outcome,
    Read,
    Routed,
    Verdict,
)
from gateway.ports import (
    Delivery,
    MessageRecord,
    Publisher,
    Registry,
    Tracking,
    TrackingEvent,
    utc_now,
    uuid_text,
)
from gateway.routing import Parties
from gateway.standard.header import Header

log = structlog.get_logger("gateway.ingest")

ENVELOPED = "enveloped"  # tracking event: which envelope carried a message in (and its references)


def _new_id() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` writes it, at a quarter of its cost
    (that built and checked a UUID object: 2 % of a node's CPU per message at two or three ids each)."""
    return uuid_text(os.urandom(16), 4)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Pipeline:
    """One node's ingest; see the module docstring."""

    def __init__(
        self,
        node: NodeRole,
        checker: Checker,
        registry: Registry,
        tracking: Tracking,
        publisher: Publisher,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = _new_id,
        observers: Observers = NOBODY,
    ) -> None:
        self.node = node
        self.judge = Judge(checker, registry)
        self.tracking = tracking
        self.publisher = publisher
        self.clock = clock
        self.new_id = new_id
        self.observers = observers

    def __repr__(self) -> str:
        return f"Pipeline(node={self.node!r})"

    async def submit(self, data: bytes, principal: str, facts: Facts = BARE) -> Accepted:
        """One message: :class:`Accepted`, or its refusal raised."""
        verdict = await self.run((data,), principal, facts)
        refused = verdict.refused
        if refused is None:
            return verdict.accepted[0]
        # the refusal's traceback holds this frame: were the verdict (or the refusal) still a local of it, the
        # refusal, its frames and the message in them would be a reference cycle, freed only by a full garbage
        # collection (rare in a large heap): under overload the refused requests piled up as garbage
        del verdict
        try:
            raise refused
        finally:
            del refused

    async def run(self, bodies: Sequence[bytes], principal: str, facts: Facts = BARE) -> Verdict:
        """Judge every carried message, then claim the envelope's reference and publish each in turn."""
        received_at = self.clock()
        tracking_id = facts.tracking_id or self.new_id()
        try:
            routed = await self.judge.judge(
                bodies, principal, facts, self.node, received_at.date(), self.tracking
            )
        except Refusal as refusal:
            read = refusal.read
            data = read.data if read is not None else _envelope_bytes(bodies)
            refused_as = self.new_id() if facts.refused_apart else tracking_id
            await self._refused(
                refused_as, principal, refusal.exc, received_at, data, read, refusal.parties_known, facts
            )
            return Verdict(refused=refusal.exc, at=refusal.position)
        except Unavailable as exc:
            self._unavailable(tracking_id, principal, received_at, _envelope_bytes(bodies), exc)
            return Verdict(refused=exc)
        owned: str | None = None
        if facts.claim is not None:
            try:
                owned = await self._claim_envelope(facts.claim, principal, received_at)
            except Rejection as exc:
                data = _envelope_bytes(bodies)
                await self._refused(tracking_id, principal, exc, received_at, data, None, False, facts)
                return Verdict(refused=exc)
            except Unavailable as exc:
                self._unavailable(tracking_id, principal, received_at, _envelope_bytes(bodies), exc)
                return Verdict(refused=exc)
        accepted: list[Accepted] = []
        for item in routed:
            this_id = tracking_id if item.position == 0 else self.new_id()
            try:
                accepted.append(await self._commit(item, principal, this_id, received_at, facts))
            except GatewayError as exc:
                if owned is not None:
                    # nothing accepted: the reference is free again; something accepted: a retry must match
                    await (self.tracking.confirm(owned) if accepted else self.tracking.release(owned))
                if isinstance(exc, Rejection):
                    await self._refused(
                        this_id, principal, exc, received_at, item.read.data, item.read, True, facts
                    )
                elif isinstance(exc, Unavailable):
                    self._unavailable(this_id, principal, received_at, item.read.data, exc)
                else:
                    raise
                return Verdict(tuple(accepted), exc, item.position)
        if owned is not None:
            await self.tracking.confirm(owned)
        return Verdict(tuple(accepted))

    async def _claim_envelope(self, claim: EnvelopeClaim, principal: str, at: datetime) -> str | None:
        """Claim the envelope's reference for its sender: the claim's id when this request holds it."""
        claim_id = self.new_id()
        found = await self.tracking.claim(claim.record(claim_id, principal, at))
        if found.outcome == "conflict":
            raise NotUnique(claim.reused)
        return found.owned(claim_id)

    async def _commit(
        self, item: Routed, principal: str, tracking_id: str, received_at: datetime, facts: Facts
    ) -> Accepted:
        header, kind, who, data = item.read.header, item.read.kind, item.read.who, item.read.data
        target = item.route.target_node
        conversation_id, answers = await self._conversation(header, kind, who)
        digest = facts.sha256 if item.position == 0 else None
        record = item.read.pending(
            tracking_id, conversation_id or self.new_id(), principal, received_at, answers, digest
        )
        first = facts.claim_with if item.position == 0 else None
        claim = await (self.tracking.claim if first is None else first)(record)
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
            accepted = Accepted.of(previous, target, header.findings, duplicate=True)
            await self._accepted(accepted, principal, received_at, header, facts)
            return accepted

        delivery = Delivery(
            tracking_id=tracking_id,
            conversation_id=record.conversation_id,
            header=header,
            received_at=received_at,
            body=data,
            origin_node=self.node,
            target_node=target,
            digest=record.sha256,
        )
        try:
            landed = await self.publisher.publish(delivery)
        except Exception as exc:
            # not confirmed, so not accepted; but a message sent before the connection broke may still be in
            # the broker: the claim is abandoned, not released, so that the sender's retry resumes it under
            # this tracking id and such a copy is a redelivery the recipient recognises (see Claim)
            await self._abandon(record)
            if isinstance(exc, GatewayError):
                raise
            log.error("publish.failed", tracking_id=tracking_id, error=type(exc).__name__)
            raise Unavailable("the broker did not confirm the message") from exc
        self.observers.published(delivery)
        accepted = Accepted.of(record, target, header.findings)
        decision = self._decision(accepted, principal, received_at, header, facts)
        # the writes after the confirm are independent: started together (the decision's sinks too: the
        # audit trail, the privacy index), they go to the database as one group commit (one statement on
        # PostgreSQL) instead of sequential round trips and commits
        # all started at once, none nested: every row is handed in before the group commit takes its batch
        events = self._accepted_events(record, target, principal, facts, item.position, header.findings)
        if landed:  # in its mailbox on the other node already: what that node's link would have recorded
            events += self._landed_events(delivery)
        after: list[Coroutine[Any, Any, None]] = [
            self.tracking.confirm(tracking_id, events),
            *self.observers.deciding(decision),
        ]
        if header.referenties_aanbieder and not kind.retour and kind.sender == "aanbieder":
            after.append(self.tracking.add_referenties(tracking_id, who.sender, header.referenties_aanbieder))
        await started_together(after)
        log.info(
            "message.accepted",
            node=self.node,
            tracking_id=tracking_id,
            message=header.message,
            sender=who.sender,
            recipient=who.recipient,
            size=len(data),
        )
        self.observers.count(decision)
        return accepted

    async def _accepted(
        self, accepted: Accepted, principal: str, at: datetime, header: Header, facts: Facts
    ) -> None:
        decision = self._decision(accepted, principal, at, header, facts)
        await self.observers.decided(decision)
        self.observers.count(decision)

    def _decision(
        self, accepted: Accepted, principal: str, at: datetime, header: Header, facts: Facts
    ) -> Decision:
        outcome: Outcome = "duplicate" if accepted.duplicate else "accepted"
        return Decision(
            self.node,
            outcome,
            accepted.tracking_id,
            principal,
            at,
            accepted.sha256,
            sender=accepted.sender,
            recipient=accepted.recipient,
            message=accepted.message,
            header=header,
            interface=facts.interface,
        )

    async def _abandon(self, record: MessageRecord) -> None:
        try:
            await self.tracking.abandon(record)
        except Exception as err:  # the claim then goes stale by itself (STALE_AFTER)
            log.warning("claim.not_abandoned", tracking_id=record.tracking_id, error=type(err).__name__)

    async def _conversation(self, header: Header, kind: Kind, who: Parties) -> tuple[str | None, str | None]:
        """Find the conversation this message belongs to: (conversation id, tracking id it answers).

        Only a message that ``who.recipient`` sent to ``who.sender`` is a candidate: a party cannot join (or
        probe for) a conversation between others. A retour that answers nothing of its sender's is refused,
        with one answer whether the quoted message does not exist or was sent to someone else.
        """
        original: MessageRecord | None = None
        if kind.retour and kind.answers:
            # the retour's header repeats the original's Afzender (our recipient) and Identificatie
            original = await self.tracking.find(
                who.recipient, kind.answers, header.identificatie, ontvanger=who.sender
            )
            if original is None:
                raise NoOriginal(
                    f"{header.message} answers no {kind.answers} that {who.recipient} sent to {who.sender}"
                )
        elif kind.follows:
            original = await self._followed(header, kind.follows, who)
        if original is None:
            return None, None
        return original.conversation_id, original.tracking_id

    async def _followed(self, header: Header, follows: Sequence[str], who: Parties) -> MessageRecord | None:
        for referentie in header.referenties_aanbieder:
            found = await self.tracking.find_by_referentie(who.recipient, referentie, ontvanger=who.sender)
            if found is not None and found.message in follows:
                return found
        if header.declaratie_identificatie is not None:
            for name in follows:
                found = await self.tracking.find(
                    who.recipient, name, header.declaratie_identificatie, ontvanger=who.sender
                )
                if found is not None:
                    return found
        return None

    def _accepted_events(
        self,
        record: MessageRecord,
        target: NodeRole,
        principal: str,
        facts: Facts,
        position: int,
        findings: Sequence[ErrorItem] = (),
    ) -> list[TrackingEvent]:
        """The tracking events of an accepted message, in the order they are stored."""
        at = record.received_at
        base = {"message": record.message, "sender": record.afzender, "recipient": record.ontvanger}
        if findings:  # warn mode: the broken content rules by code (never values), for track & trace
            base["rules"] = ",".join(sorted({f.rule for f in findings if f.rule}))
        events = [
            TrackingEvent(record.tracking_id, "received", self.node, at, {**base, "submitter": principal}),
            TrackingEvent(record.tracking_id, "routed", self.node, at, {"to": target}),
            TrackingEvent(record.tracking_id, "published", self.node, self.clock()),
        ]
        if facts.trail is not None:
            events.append(TrackingEvent(record.tracking_id, ENVELOPED, self.node, at, facts.trail(position)))
        return events

    def _landed_events(self, delivery: Delivery) -> list[TrackingEvent]:
        """The events of a message the publisher put straight into its mailbox on the other node (one
        cluster, one deployment): that node's ``crossed-link`` and ``in-mailbox``, as its link records them."""
        at, target = self.clock(), delivery.target_node
        self.observers.crossed(target, delivery.received_at)
        self.observers.delivered(target, delivery.received_at)
        return arrival_events(delivery.tracking_id, target, self.node, delivery.recipient, at, at)

    async def _refused(
        self,
        tracking_id: str,
        principal: str,
        exc: Rejection,
        at: datetime,
        data: bytes,
        read: Read | None,
        parties_known: bool,
        facts: Facts,
    ) -> None:
        code = exc.code_for(self.node)
        detail = {"code": code, "reason": exc.reason, "submitter": principal}
        detail["errors"] = ",".join(sorted({e.code for e in exc.errors}))
        rules = sorted({e.rule for e in exc.errors if e.rule})
        if rules:
            detail["rules"] = ",".join(rules)
        try:
            await self.tracking.add_event(TrackingEvent(tracking_id, "refused", self.node, at, detail))
        except Exception as err:  # recording a refusal must not hide the refusal itself
            log.warning("refusal.not_recorded", tracking_id=tracking_id, error=type(err).__name__)
        exc.tracking_id = tracking_id
        exc.judged = True
        log.info("message.refused", node=self.node, tracking_id=tracking_id, code=code, reason=exc.reason)
        header = read.header if read is not None else None
        sha256 = facts.claim.sha256 if read is None and facts.claim is not None else _sha256(data)
        who = read.who if read is not None and parties_known else None
        decision = Decision(
            self.node,
            "refused",
            tracking_id,
            principal,
            at,
            sha256,
            sender=who.sender if who is not None else None,
            recipient=who.recipient if who is not None else None,
            message=header.message if header is not None else None,
            code=code,
            reason=exc.reason,
            sniffed=message_name(data),
            interface=facts.interface,
        )
        try:
            await self.observers.decided(decision)
        except Exception as err:  # recording a refusal must not hide the refusal itself
            log.warning("refusal.not_audited", tracking_id=tracking_id, error=type(err).__name__)
        self.observers.count(decision)

    def _unavailable(
        self, tracking_id: str, principal: str, at: datetime, data: bytes, exc: Unavailable
    ) -> None:
        exc.judged = True
        sniffed = message_name(data)
        self.observers.count(
            Decision(self.node, "unavailable", tracking_id, principal, at, "", sniffed=sniffed)
        )


async def started_together(coroutines: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run ``coroutines`` as ``asyncio.gather`` would, in this task: each is first run up to where it waits
    (so everything each hands to a group commit is handed in before any of them waits), then each is driven
    to its end in turn; the first error is raised once all have ended, and when this task is cancelled the
    ones not ended are closed. Without the task per coroutine, the gathering future and the callbacks that
    ``gather`` makes: less than half the cost of a gather of three.

    A coroutine here may wait only on asyncio futures (or yield to the loop); the steps of all of them run
    in this task's context."""
    waiting: list[tuple[Coroutine[Any, Any, None], Any]] = []
    failed: BaseException | None = None
    for coroutine in coroutines:
        try:
            waiting.append((coroutine, _waits_on(coroutine.send(None))))
        except StopIteration:
            pass
        except BaseException as exc:  # raised once the others have ended, as gather does
            failed = failed or exc
    for at, (coroutine, step) in enumerate(waiting):
        while True:
            try:
                if step is None:  # a bare yield to the loop (asyncio.sleep(0))
                    await asyncio.sleep(0)
                else:
                    await step
            except asyncio.CancelledError:
                for left, _ in waiting[at:]:
                    left.close()
                raise
            except BaseException as exc:  # handed to the coroutine that waited for it
                resume: Any = functools.partial(coroutine.throw, exc)
            else:
                resume = functools.partial(coroutine.send, None)
            try:
                step = _waits_on(resume())
            except StopIteration:
                break
            except BaseException as exc:  # raised once the others have ended
                failed = failed or exc
                break
    if failed is not None:
        try:
            raise failed
        finally:
            del failed


def _waits_on(step: Any) -> Any:
    """What a coroutine's step yielded, taken as a task takes it: a future (its flag that it is being
    waited on reset, so that another coroutine can wait on it too) or None."""
    if step is None:
        return None
    if not asyncio.isfuture(step):
        raise TypeError(f"a coroutine started together waited on {type(step).__name__}")
    step._asyncio_future_blocking = False
    return step


def _envelope_bytes(bodies: Sequence[bytes]) -> bytes:
    """The bytes a refusal of the envelope itself concerns: the one carried message, or none of a batch."""
    return bodies[0] if len(bodies) == 1 else b""
