"""The audit trail: an append-only, keyed hash chain of routing decisions and operator actions.

Each entry's hash is HMAC-SHA256, with a key kept outside the database (:class:`ChainKey`), over the
canonical JSON of all its other fields, ``prev_hash`` included: changing, removing or reordering an entry
breaks the chain from there on, and without the key nobody can re-seal the entries after a change. Signed
:class:`Checkpoint` s of the head, kept outside the database too, show entries removed from the end (with
the head moved back, or everything deleted). Entries hold ids, party codes, message types, digests and
reason codes only: never payload or personal data.

Pure: :func:`seal` makes the next entry, :func:`verify` checks a sequence of them. Storage is in
``adapters/audit``, the checkpoint file in ``gateway.security.checkpoints``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol

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
    ``reason``: a chain code or reason slug; ``actor``: the authenticated party or operator name. Made by
    :meth:`routing` or :meth:`operator_action`, which state every field (None where it does not apply), as the
    sealed :class:`AuditEntry` does: a field of the chain is never left out by a default.
    """

    at: datetime
    kind: Kind
    actor: str
    decision: str
    sender: str | None
    receiver: str | None
    message: str | None
    tracking_id: str | None
    body_sha256: str | None
    reason: str | None

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
        return cls(
            at,
            "operator",
            operator,
            action,
            sender=None,
            receiver=party,
            message=None,
            tracking_id=tracking_id,
            body_sha256=None,
            reason=reason,
        )


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


class ChainKey:
    """The HMAC-SHA256 key of the chain; its repr shows a fingerprint, never the key."""

    __slots__ = ("_key", "_started", "fingerprint")

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the audit key must be at least 16 bytes")
        self._key = key
        self.fingerprint = hashlib.sha256(b"fingerprint:" + key).hexdigest()[:12]
        # the HMAC with the key and a purpose's prefix taken in, per purpose: a copy of it continues with
        # the rest (the same digest as one HMAC over all of it, without setting the key up every time)
        self._started: dict[str, Any] = {}

    def mac(self, purpose: str, fields: Mapping[str, Any]) -> str:
        """Hex HMAC-SHA256 over ``purpose`` and the canonical JSON of ``fields`` (an entry and a checkpoint
        are signed under different purposes, so one can never stand in for the other)."""
        return self._mac(purpose, canonical_json(dict(fields)))

    def _mac(self, purpose: str, data: bytes) -> str:
        """Hex HMAC-SHA256 over ``purpose``, a newline and ``data``."""
        started = self._started.get(purpose)
        if started is None:
            started = self._started[purpose] = hmac.new(
                self._key, purpose.encode("ascii") + b"\n", hashlib.sha256
            )
        running = started.copy()
        running.update(data)
        return str(running.hexdigest())

    def __repr__(self) -> str:
        return f"ChainKey({self.fingerprint}...)"


@dataclass(frozen=True, slots=True)
class Head:
    """The newest entry's sequence number and hash (0 and GENESIS for an empty chain)."""

    seq: int = 0
    hash: str = GENESIS


_ENTRY: Final = "audit-entry"  # the purpose an entry's hash is made under (chain_hash, seal)


def chain_hash(fields: Mapping[str, Any], key: ChainKey) -> str:
    """HMAC-SHA256 (hex) over the canonical JSON of an entry's fields other than ``hash``."""
    return key.mac(_ENTRY, {name: fields[name] for name in HASHED_FIELDS})


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "at ``at`` the chain's head was entry ``seq`` with ``hash``", kept outside the
    database (a file and the log): entries removed up to a checkpoint cannot go unseen."""

    seq: int
    hash: str
    at: str
    mac: str

    @classmethod
    def of(cls, head: Head, key: ChainKey, at: datetime) -> Checkpoint:
        stamp = timestamp(at)
        fields = {"seq": head.seq, "hash": head.hash, "at": stamp}
        return cls(head.seq, head.hash, stamp, key.mac("audit-checkpoint", fields))

    def signed_by(self, key: ChainKey) -> bool:
        expected = key.mac("audit-checkpoint", {"seq": self.seq, "hash": self.hash, "at": self.at})
        return hmac.compare_digest(expected, self.mac)

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at, "mac": self.mac}

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Checkpoint:
        return cls(int(row["seq"]), str(row["hash"]), str(row["at"]), str(row["mac"]))


def seal(event: AuditEvent, head: Head, key: ChainKey) -> AuditEntry:
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
    # the fields are HASHED_FIELDS, in that order: hashed without two more copies of them (chain_hash, mac)
    return AuditEntry(**fields, hash=key._mac(_ENTRY, canonical_json(fields)))


ProblemKind = Literal[
    "changed", "removed", "reordered", "broken-link", "truncated", "no-head", "rewritten", "bad-checkpoint"
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One place where the chain does not hold."""

    seq: int
    kind: ProblemKind
    text: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.kind}: {self.text}"


class ChainVerifier:
    """Checks entries one at a time (so a long chain can be read in pages); see :func:`verify`.

    ``checkpoints``: signed heads read from outside the database; each must be signed with ``key`` and name
    an entry the chain still holds, with that hash.
    """

    def __init__(self, key: ChainKey, checkpoints: Iterable[Checkpoint] = ()) -> None:
        self.key = key
        self.problems: list[Problem] = []
        self.count = 0
        self._expected_seq = 1
        self._prev_hash = GENESIS
        self._last = Head()
        self._checkpoints: dict[int, str] = {}
        for checkpoint in checkpoints:
            if not checkpoint.signed_by(key):
                self.problems.append(
                    Problem(checkpoint.seq, "bad-checkpoint", "a checkpoint whose signature does not hold")
                )
            elif checkpoint.seq > 0:
                self._checkpoints[checkpoint.seq] = checkpoint.hash

    def feed(self, entry: AuditEntry) -> None:
        problems = self.problems
        if entry.seq < self._expected_seq:
            problems.append(Problem(entry.seq, "reordered", f"comes after entry {self._expected_seq - 1}"))
        elif entry.seq > self._expected_seq:
            first, last = self._expected_seq, entry.seq - 1
            missing = f"entry {first} is" if first == last else f"entries {first}-{last} are"
            problems.append(Problem(entry.seq, "removed", f"{missing} missing"))
        if not hmac.compare_digest(chain_hash(entry.hashed_fields(), self.key), entry.hash):
            problems.append(Problem(entry.seq, "changed", "content does not match its keyed hash"))
        if entry.prev_hash != self._prev_hash:
            problems.append(Problem(entry.seq, "broken-link", "prev_hash is not the previous entry's hash"))
        signed = self._checkpoints.pop(entry.seq, None)
        if signed is not None and signed != entry.hash:
            problems.append(
                Problem(entry.seq, "rewritten", "differs from the signed checkpoint of this entry")
            )
        self._expected_seq = max(self._expected_seq, entry.seq + 1)
        self._prev_hash = entry.hash
        self._last = Head(entry.seq, entry.hash)
        self.count += 1

    def finish(self, head: Head | None = None, *, head_missing: bool = False) -> list[Problem]:
        """All problems found; given the recorded ``head``, also entries removed from the end. A store
        whose head row is gone (``head_missing``) has been tampered with: the head is made with the tables."""
        if head_missing:
            self.problems.append(Problem(0, "no-head", "the chain's head record is missing"))
        if head is not None and head.seq > 0 and head != self._last:
            self.problems.append(
                Problem(
                    head.seq,
                    "truncated",
                    f"the chain ends at entry {self._last.seq}, its recorded head is entry {head.seq}",
                )
            )
        for seq in sorted(self._checkpoints):
            self.problems.append(
                Problem(
                    seq,
                    "truncated",
                    f"a signed checkpoint names entry {seq}; the chain holds no such entry",
                )
            )
        self._checkpoints.clear()
        return self.problems


def verify(
    entries: Iterable[AuditEntry],
    key: ChainKey,
    head: Head | None = None,
    checkpoints: Iterable[Checkpoint] = (),
) -> list[Problem]:
    """Every problem in ``entries`` (in stored order, from the first entry); empty when the chain holds.

    Detects a changed entry (its keyed hash does not match its content), a removed one (a gap in ``seq``), a
    reordered one (``seq`` going back), a forged link (``prev_hash`` not the previous entry's hash) and, given
    the recorded ``head`` and signed ``checkpoints``, entries removed from the end or rewritten.
    """
    verifier = ChainVerifier(key, checkpoints)
    for entry in entries:
        verifier.feed(entry)
    return verifier.finish(head)


class AuditLog(Protocol):
    """Where the chain is kept. ``append`` seals and stores one event, serialised across processes."""

    async def append(self, event: AuditEvent) -> AuditEntry: ...

    async def entries(self, after: int = 0, limit: int | None = None) -> Sequence[AuditEntry]: ...

    async def head(self) -> Head | None:
        """The recorded head; None when its record is missing (which only tampering does)."""
        ...
