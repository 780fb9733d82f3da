"""The audit trail: an append-only, hash-chained record of routing decisions and operator actions.

Each entry's hash is SHA-256 over the canonical JSON of all its other fields, ``prev_hash`` included, so
changing, removing or reordering any entry breaks the chain from there on. Entries hold ids, party codes,
message types, digests and reason codes only: never payload or personal data.

Pure: :func:`seal` makes the next entry, :func:`verify` checks a sequence of them. Storage is in
``adapters/audit``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from gateway.security.receipts import canonical_json, timestamp

Kind = Literal["decision", "operator"]
GENESIS = "0" * 64  # the prev_hash of the first entry
HASHED_FIELDS = (
    "seq",
    "at",
    "kind",
    "actor",
    "sender",
    "receiver",
    "message",
    "tracking_id",
    "body_sha256",
    "decision",
    "reason",
    "prev_hash",
)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, before it takes its place in the chain.

    ``decision``: e.g. ``accepted``, ``refused``, ``redrive``, ``discard``, ``participant-added``;
    ``reason``: a chain code or reason slug; ``actor``: the authenticated party or operator name.
    """

    at: datetime
    kind: Kind
    actor: str
    decision: str
    sender: str | None = None
    receiver: str | None = None
    message: str | None = None
    tracking_id: str | None = None
    body_sha256: str | None = None
    reason: str | None = None

    @classmethod
    def routing(
        cls,
        *,
        at: datetime,
        actor: str,
        decision: str,
        sender: str | None,
        receiver: str | None,
        message: str | None,
        tracking_id: str | None,
        body_sha256: str | None,
        reason: str | None = None,
    ) -> AuditEvent:
        """A routing decision on a submitted message (accepted or refused)."""
        return cls(
            at, "decision", actor, decision, sender, receiver, message, tracking_id, body_sha256, reason
        )

    @classmethod
    def operator_action(
        cls,
        *,
        at: datetime,
        operator: str,
        action: str,
        tracking_id: str | None = None,
        party: str | None = None,
        reason: str | None = None,
    ) -> AuditEvent:
        """An operator action (redrive, discard, a registry change); ``party`` is the party it concerns."""
        return cls(at, "operator", operator, action, receiver=party, tracking_id=tracking_id, reason=reason)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One sealed entry of the chain; safe to print (ids, codes and digests only)."""

    seq: int
    at: str  # UTC, see gateway.security.receipts.timestamp
    kind: Kind
    actor: str
    sender: str | None
    receiver: str | None
    message: str | None
    tracking_id: str | None
    body_sha256: str | None
    decision: str
    reason: str | None
    prev_hash: str
    hash: str

    def hashed_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    def as_dict(self) -> dict[str, Any]:
        return {**self.hashed_fields(), "hash": self.hash}

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> AuditEntry:
        return cls(**{name: row[name] for name in (*HASHED_FIELDS, "hash")})


@dataclass(frozen=True, slots=True)
class Head:
    """The newest entry's sequence number and hash (0 and GENESIS for an empty chain)."""

    seq: int = 0
    hash: str = GENESIS


def chain_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the canonical JSON of an entry's fields other than ``hash``."""
    return hashlib.sha256(canonical_json({name: fields[name] for name in HASHED_FIELDS})).hexdigest()


def seal(event: AuditEvent, head: Head) -> AuditEntry:
    """The entry that follows ``head`` in the chain."""
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "at": timestamp(event.at),
        "kind": event.kind,
        "actor": event.actor,
        "sender": event.sender,
        "receiver": event.receiver,
        "message": event.message,
        "tracking_id": event.tracking_id,
        "body_sha256": event.body_sha256,
        "decision": event.decision,
        "reason": event.reason,
        "prev_hash": head.hash,
    }
    return AuditEntry(**fields, hash=chain_hash(fields))


ProblemKind = Literal["changed", "removed", "reordered", "broken-link", "truncated"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One place where the chain does not hold."""

    seq: int
    kind: ProblemKind
    text: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.kind}: {self.text}"


class ChainVerifier:
    """Checks entries one at a time (so a long chain can be read in pages); see :func:`verify`."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.count = 0
        self._expected_seq = 1
        self._prev_hash = GENESIS
        self._last = Head()

    def feed(self, entry: AuditEntry) -> None:
        problems = self.problems
        if entry.seq < self._expected_seq:
            problems.append(Problem(entry.seq, "reordered", f"comes after entry {self._expected_seq - 1}"))
        elif entry.seq > self._expected_seq:
            first, last = self._expected_seq, entry.seq - 1
            missing = f"entry {first} is" if first == last else f"entries {first}-{last} are"
            problems.append(Problem(entry.seq, "removed", f"{missing} missing"))
        if chain_hash(entry.hashed_fields()) != entry.hash:
            problems.append(Problem(entry.seq, "changed", "content does not match its hash"))
        if entry.prev_hash != self._prev_hash:
            problems.append(Problem(entry.seq, "broken-link", "prev_hash is not the previous entry's hash"))
        self._expected_seq = max(self._expected_seq, entry.seq + 1)
        self._prev_hash = entry.hash
        self._last = Head(entry.seq, entry.hash)
        self.count += 1

    def finish(self, head: Head | None = None) -> list[Problem]:
        """All problems found; given the recorded ``head``, also entries removed from the end."""
        if head is not None and head.seq > 0 and head != self._last:
            self.problems.append(
                Problem(
                    head.seq,
                    "truncated",
                    f"the chain ends at entry {self._last.seq}, its recorded head is entry {head.seq}",
                )
            )
        return self.problems


def verify(entries: Iterable[AuditEntry], head: Head | None = None) -> list[Problem]:
    """Every problem in ``entries`` (in stored order, from the first entry); empty when the chain holds.

    Detects a changed entry (its hash does not match its content), a removed one (a gap in ``seq``), a
    reordered one (``seq`` going back), a forged link (``prev_hash`` not the previous entry's hash) and, given
    the recorded ``head``, entries removed from the end.
    """
    verifier = ChainVerifier()
    for entry in entries:
        verifier.feed(entry)
    return verifier.finish(head)


class AuditLog(Protocol):
    """Where the chain is kept. ``append`` seals and stores one event, serialised across processes."""

    async def append(self, event: AuditEvent) -> AuditEntry: ...

    async def entries(self, after: int = 0, limit: int | None = None) -> Sequence[AuditEntry]: ...

    async def head(self) -> Head: ...
