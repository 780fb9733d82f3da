"""The values of the pipeline: what it reads, what an envelope states, what it decides. Pure: no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from gateway.errors import ErrorItem, GatewayError, NodeRole
from gateway.ports import Claim, MessageRecord, Participant
from gateway.routing import MessageKind, Parties, Route
from gateway.standard.header import Header

# Messages above this size are validated in a worker thread (lxml releases the GIL), smaller ones inline:
# a thread hop costs more than validating a typical 3-4 KB message.
THREAD_THRESHOLD = 64 * 1024


class Kind(MessageKind, Protocol):
    """What the pipeline needs of a catalogue entry: what routing needs, and which messages it answers or
    follows."""

    @property
    def answers(self) -> str | None: ...

    @property
    def follows(self) -> tuple[str, ...]: ...


class Checker(Protocol):
    """The standard message engine as the pipeline sees it."""

    def check(self, data: bytes) -> Header: ...

    def kind_of(self, header: Header) -> Kind: ...

    def kinds(self) -> Mapping[str, Kind]:
        """The catalogue by message name (``JW301``)."""
        ...


# an envelope's check of one carried message against what the envelope says (raises a Rejection)
Expectation = Callable[[Header, Kind], None]
# an envelope's rules on its own stated sender and recipient: (sender, recipient, catalogue, today)
EnvelopeRules = Callable[[Participant | None, Participant | None, Mapping[str, Kind], date], object]


@dataclass(frozen=True, slots=True)
class Read:
    """One message read once: its bytes, its checked header, its catalogue entry and its parties."""

    data: bytes = field(repr=False)
    header: Header = field(repr=False)
    kind: Kind
    who: Parties

    def pending(
        self,
        tracking_id: str,
        conversation_id: str,
        principal: str,
        at: datetime,
        answers: str | None,
        sha256: str | None = None,
    ) -> MessageRecord:
        """The message as the tracking store keeps it while it is claimed and not yet confirmed (``sha256``:
        the digest of its bytes, when the caller has it already)."""
        header, who, data = self.header, self.who, self.data
        named = (header.standard, header.release, header.message, who.sender, who.recipient, principal)
        digest = sha256 or hashlib.sha256(data).hexdigest()
        reference = (header.reference, header.identificatie, digest, len(data))
        return MessageRecord(tracking_id, conversation_id, *named, *reference, at, "pending", answers)


# an envelope's check of everything it carries at once (raises a Rejection)
Agreement = Callable[[Sequence[Read]], None]


@dataclass(frozen=True, slots=True)
class EnvelopeClaim:
    """The envelope's own reference, unique per sender as a message's is (a StUF referentienummer, a VSP
    TraceerId): claimed once every carried message passed, confirmed once one is accepted."""

    standard: str
    release: str
    message: str
    sender: str
    recipient: str
    reference: str
    sha256: str
    size: int
    reused: str  # the refusal's text when the sender used this reference before for other content

    def record(self, claim_id: str, principal: str, at: datetime) -> MessageRecord:
        """The pending claim as the tracking store keeps it: the reference under the envelope's own name."""
        named = (self.standard, self.release, self.message, self.sender, self.recipient, principal)
        reference = (self.reference, self.reference, self.sha256, self.size)  # reference, identificatie
        return MessageRecord(claim_id, claim_id, *named, *reference, at, "pending")


@dataclass(frozen=True, slots=True)
class Facts:
    """What an interface's envelope states about what it carries; the pipeline holds the messages to it.

    A bare submission (REST) states nothing. ``sender`` is authorised before anything is read, with
    ``rules`` seeing the registry's entries of ``sender`` and ``recipient`` first; ``limit`` bounds each
    carried message; ``expect`` sees each message once read, ``agree`` all of them; ``whole`` checks the
    uniqueness of every message before any is published; ``trail`` is the detail of the ``enveloped``
    tracking event of each accepted message (by its position); ``tracking_id``, when given, is the tracking
    id of the first message (an envelope that records it beside its own reference before the pipeline runs);
    ``claim_with``, when given, claims the first message instead of the tracking store's ``claim`` (an
    envelope that writes its own reference in the same statement: a REST push's traceerId);
    ``refused_apart``: a message refused before its claim is recorded under a tracking id of its own, not
    ``tracking_id`` (a REST push's names its traceerId, which may be another message's); ``sha256``, when
    given, is the digest of the first message's bytes, which the interface computed already.
    """

    interface: str = "rest"
    sender: str | None = None
    recipient: str | None = None
    rules: EnvelopeRules | None = None
    limit: int | None = None
    expect: Expectation | None = None
    agree: Agreement | None = None
    whole: bool = False
    claim: EnvelopeClaim | None = None
    trail: Callable[[int], Mapping[str, str]] | None = None
    tracking_id: str | None = None
    claim_with: Callable[[MessageRecord], Awaitable[Claim]] | None = None
    refused_apart: bool = False
    sha256: str | None = None


BARE = Facts()


@dataclass(frozen=True, slots=True)
class Routed:
    """A message that passed every check: read, authorised and routed, ready to be claimed and published."""

    position: int
    read: Read
    route: Route


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
    # broken content rules of a message accepted in warn mode (GATEWAY_CONTENT_RULES=warn)
    findings: tuple[ErrorItem, ...] = ()

    @classmethod
    def of(
        cls, record: MessageRecord, target: NodeRole, findings: tuple[ErrorItem, ...], duplicate: bool = False
    ) -> Accepted:
        """The answer for the message ``record`` keeps (for a resubmission: the first one's)."""
        r = record
        ids = (r.tracking_id, r.conversation_id, r.message, r.afzender, r.ontvanger)
        return cls(*ids, target, r.received_at, duplicate, r.sha256, findings)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of a submission: every message accepted, or a refusal (with the position of the message
    it concerns, None for the envelope) after the ``accepted`` ones before it."""

    accepted: tuple[Accepted, ...] = ()
    refused: GatewayError | None = None
    at: int | None = None


Outcome = Literal["accepted", "duplicate", "refused", "unavailable"]


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision: ``accepted``, ``duplicate`` (the same bytes again), ``refused`` or ``unavailable``.

    Ids, party codes, chain codes and the body digest; ``header`` (which carries the client's BSN for the
    privacy index) is kept out of the repr. Parties and message are None when the refusal came first;
    ``sniffed`` is the message type the bytes of a refused or unavailable message declare (a metric label).
    """

    node: NodeRole
    decision: Outcome
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
    sniffed: str | None = None
    interface: str = "rest"
