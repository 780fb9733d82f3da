"""Ports: the small protocols through which the core talks to the broker and the database.

They speak the project's own types only (no aio-pika, SQLAlchemy or HTTP types). Real implementations live
in ``adapters/``; each has an in-memory fake beside it for tests that are not about that adapter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal, Protocol

from gateway.errors import NodeRole
from gateway.standard.header import Header

PartyKind = Literal["gemeente", "aanbieder"]
NODES: tuple[NodeRole, ...] = ("ggk", "vecozo")


def utc_now() -> datetime:
    """The system clock in UTC: what a service that takes a ``clock`` reads unless a test gives its own."""
    return datetime.now(UTC)


# --- values ---------------------------------------------------------------------------------------------


def uuid_text(raw: bytes, version: int) -> str:
    """16 bytes as the text of a UUID of ``version`` (its version and RFC 4122 variant bits set), as
    ``str(uuid.UUID(...))`` writes it, without a ``UUID`` object between (ids are made per message)."""
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | (version << 4)
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class Participant:
    """A registered party: gemeente (4-digit CBS code) or aanbieder (8-digit AGB-code)."""

    code: str
    kind: PartyKind
    name: str
    home_node: NodeRole
    active_from: date
    active_until: date | None = None
    delivery_format: Literal["xml", "stuf"] = "xml"

    def active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_until is None or day <= self.active_until)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message on its way: the exact submitted bytes plus what travels as AMQP properties.

    The repr shows ids and size only, never the body.
    """

    tracking_id: str
    conversation_id: str
    header: Header
    received_at: datetime
    body: bytes = field(repr=False)
    origin_node: NodeRole = "vecozo"
    target_node: NodeRole = "ggk"
    # the body's sha256 (hex) when the caller has it already (the pipeline's record): not hashed again
    digest: str = field(default="", repr=False, compare=False)

    @property
    def sender(self) -> str:
        """The party that sends this message: for a retour the header's Ontvanger (it answers), else Afzender."""
        return self.header.ontvanger if self.header.is_retour else self.header.afzender

    @property
    def recipient(self) -> str:
        """The party whose mailbox receives this message: a retour travels back to the header's Afzender."""
        return self.header.afzender if self.header.is_retour else self.header.ontvanger

    @property
    def sha256(self) -> str:
        return self.digest or hashlib.sha256(self.body).hexdigest()

    def amqp_headers(self) -> dict[str, str]:
        """The headers every mailbox message carries (no personal data)."""
        h = self.header
        return {
            "standard": h.standard,
            "release": h.release,
            "berichtcode": h.code,
            "message": h.message,
            "afzender": h.afzender,
            "ontvanger": h.ontvanger,
            "identificatie": h.reference,
            "sha256": self.sha256,
            "received-at": self.received_at.isoformat(),
            "origin-node": self.origin_node,
            "sender": self.sender,
            "recipient": self.recipient,
        }


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One step in a message's life. ``detail`` holds codes, paths and ids only."""

    tracking_id: str
    event: (
        str  # received, refused, routed, published, crossed-link, in-mailbox, fetched, acked, dead-lettered
    )
    node: NodeRole
    at: datetime
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """What the tracking store knows about one accepted message (never the payload).

    ``afzender``/``ontvanger`` are the parties that actually send and receive it: for a retour that is the
    header's Ontvanger and Afzender respectively (a retour keeps the header of the message it answers).
    ``reference`` is the sender's own id (IdentificatieRetour for a retour), the uniqueness key with
    (afzender, message); ``identificatie`` is the header's Identificatie.
    """

    tracking_id: str
    conversation_id: str
    standard: str
    release: str
    message: str
    afzender: str
    ontvanger: str
    submitter: str
    reference: str
    identificatie: str
    sha256: str
    size: int
    received_at: datetime
    status: str  # pending, accepted
    answers: str | None = None  # tracking id of the message this one answers


@dataclass(frozen=True, slots=True)
class Claim:
    """Result of claiming (sender, message type, reference) for a new submission.

    ``outcome`` is ``new`` (go on and publish), ``same`` (same bytes seen before: answer with ``previous``),
    ``conflict`` (same reference, other bytes: refuse with IB216/CC08) or ``resumed``: the same bytes were
    claimed by a process that died before it confirmed (the claim went stale); go on and publish under
    ``previous``'s tracking id, so that if the first attempt did reach the broker, the recipient sees the same
    message id twice and drops the second as a redelivery.
    """

    outcome: Literal["new", "same", "conflict", "resumed"]
    previous: MessageRecord | None = None

    def owned(self, claimed_as: str) -> str | None:
        """The tracking id this claimant now holds and must confirm or release (``claimed_as`` for a new
        claim, the previous id for a resumed one), or None when it holds nothing."""
        if self.outcome == "new":
            return claimed_as
        if self.outcome == "resumed" and self.previous is not None:
            return self.previous.tracking_id
        return None


# --- ports ----------------------------------------------------------------------------------------------


class Publisher(Protocol):
    """Publishes a delivery persistent, mandatory, and returns only after the broker confirmed it.

    Raises :class:`gateway.errors.Unavailable` when the broker cannot take it (down, nack, unroutable).
    True when a message for the other node was put straight into its recipient's mailbox there (both nodes
    of one deployment on one cluster): no link consumer takes it, so its ``crossed-link`` and ``in-mailbox``
    events are the sending node's to record; else None (or False).
    """

    async def publish(self, delivery: Delivery) -> bool | None: ...


class Registry(Protocol):
    """The participant registry."""

    async def participant(self, code: str) -> Participant | None: ...

    async def may_submit_for(self, submitter: str, party: str, day: date) -> bool: ...

    async def authenticate(self, credential: str) -> str | None:
        """The party code that owns this API credential, or None."""
        ...


class Tracking(Protocol):
    """Uniqueness index, message records, lifecycle events and conversation lookups."""

    async def claim(self, record: MessageRecord) -> Claim: ...

    async def confirm(self, tracking_id: str, events: Sequence[TrackingEvent] = ()) -> None:
        """Mark a claim accepted (its publish was confirmed), and record ``events`` with it, in this order:
        one hand-over of everything the tracking store writes after a publish."""
        ...

    async def release(self, tracking_id: str) -> None:
        """Forget a pending claim whose publish failed (nothing is recorded as accepted)."""
        ...

    async def abandon(self, record: MessageRecord) -> None:
        """Give up a pending claim whose publish failed without knowing whether the broker kept the message
        (no confirm: a timeout, a lost connection). The claim stays, stale at once: the next submission of the
        same bytes resumes it under this tracking id (a copy the broker did keep is then a redelivery the
        recipient drops); other bytes replace it."""
        ...

    async def add_event(self, event: TrackingEvent) -> None: ...

    async def record(self, tracking_id: str) -> MessageRecord | None: ...

    async def events(self, tracking_id: str) -> list[TrackingEvent]: ...

    async def find(
        self, afzender: str, message: str, identificatie: str, *, ontvanger: str | None = None
    ) -> MessageRecord | None:
        """The accepted message sent by ``afzender`` of type ``message`` with this Identificatie (and, when
        ``ontvanger`` is given, addressed to that party: an answer links only to a message sent to its
        sender)."""
        ...

    async def find_by_referentie(
        self, aanbieder: str, referentie: str, *, ontvanger: str | None = None
    ) -> MessageRecord | None:
        """The latest accepted request (315/317) of this aanbieder that carried this ReferentieAanbieder (and,
        when ``ontvanger`` is given, was addressed to that party)."""
        ...

    async def add_referenties(
        self, tracking_id: str, aanbieder: str, referenties: tuple[str, ...]
    ) -> None: ...

    async def conversation(self, conversation_id: str) -> list[MessageRecord]:
        """Every message of one conversation, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class Leased:
    """A mailbox message handed out over HTTP: it returns to the queue unless acked before the lease ends."""

    lease_id: str
    tracking_id: str
    conversation_id: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    redelivered: bool = False


class MailboxReader(Protocol):
    """HTTP access to a participant's mailbox: lease a batch, ack each message."""

    async def lease(
        self, node: NodeRole, code: str, max_messages: int, lease_seconds: int
    ) -> list[Leased]: ...

    async def ack(self, node: NodeRole, code: str, lease_id: str) -> str | None:
        """The acked message's tracking id when the lease was still held (it is now removed), else None."""
        ...
