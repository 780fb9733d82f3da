"""In-memory fakes of the registry and tracking stores, with the behaviour of the SQL ones.

For tests that are not about the database. The same behavioural suite (tests/db) runs against these,
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from adapters.db import admin
from adapters.db import credentials as creds
from adapters.db.tracking import STALE_AFTER, Purged, abandoned_at, check_aware
from gateway.ports import Claim, MessageRecord, Participant, PartyKind, TrackingEvent


class _Credential:
    __slots__ = ("created_at", "digest", "label", "participant", "revoked", "salt")

    def __init__(self, participant: str, salt: str, digest: str, label: str | None) -> None:
        self.participant = participant
        self.salt = salt
        self.digest = digest
        self.label = label
        self.created_at = datetime.now(UTC)
        self.revoked = False


class MemoryRegistry:
    """``gateway.ports.Registry`` and ``RegistryAdmin`` in a dict."""

    def __init__(self, participants: tuple[Participant, ...] = ()) -> None:
        self._participants: dict[str, Participant] = {}
        self._submitters: dict[tuple[str, str], admin.Submitter] = {}
        self._credentials: dict[str, _Credential] = {}
        for p in participants:
            admin.validate_participant(p)
            self._participants[p.code] = p

    def __repr__(self) -> str:
        return f"MemoryRegistry(participants={len(self._participants)})"

    async def participant(self, code: str) -> Participant | None:
        return self._participants.get(code)

    async def may_submit_for(self, submitter: str, party: str, day: date) -> bool:
        relation = self._submitters.get((submitter, party))
        return relation is not None and relation.active_on(day)

    async def authenticate(self, credential: str) -> str | None:
        key_id = creds.key_id_of(credential)
        found = None if key_id is None else self._credentials.get(key_id)
        if found is None or found.revoked or not creds.matches(credential, found.salt, found.digest):
            return None
        return found.participant

    async def add_participant(self, participant: Participant) -> None:
        admin.validate_participant(participant)
        if participant.code in self._participants:
            raise admin.DuplicateParticipant(participant.code)
        self._participants[participant.code] = participant

    async def update_participant(self, participant: Participant) -> None:
        admin.validate_participant(participant)
        if participant.code not in self._participants:
            raise admin.UnknownParticipant(participant.code)
        self._participants[participant.code] = participant

    async def retire(self, code: str, last_day: date) -> Participant:
        if code not in self._participants:
            raise admin.UnknownParticipant(code)
        ended = admin.retired(self._participants[code], last_day)
        self._participants[code] = ended
        return ended

    async def participants(
        self, kind: PartyKind | None = None, active_on: date | None = None
    ) -> list[Participant]:
        return [
            p
            for _, p in sorted(self._participants.items())
            if (kind is None or p.kind == kind) and (active_on is None or p.active_on(active_on))
        ]

    async def add_submitter(self, submitter: admin.Submitter) -> None:
        admin.validate_submitter(submitter)
        for code in (submitter.submitter, submitter.party):
            if code not in self._participants:
                raise admin.UnknownParticipant(code)
        self._submitters[(submitter.submitter, submitter.party)] = submitter

    async def remove_submitter(self, submitter: str, party: str) -> bool:
        return self._submitters.pop((submitter, party), None) is not None

    async def submitters(self, party: str | None = None) -> list[admin.Submitter]:
        return [
            s
            for (sub, par), s in sorted(self._submitters.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            if party is None or par == party
        ]

    async def issue_credential(self, code: str, label: str | None = None) -> admin.IssuedCredential:
        if label is not None and len(label) > admin.MAX_LABEL:
            raise admin.InvalidParticipant(f"a credential label has at most {admin.MAX_LABEL} characters")
        if code not in self._participants:
            raise admin.UnknownParticipant(code)
        token, hashed = creds.new_token()
        self._credentials[hashed.key_id] = _Credential(code, hashed.salt, hashed.digest, label)
        return admin.IssuedCredential(hashed.key_id, code, token)

    async def revoke_credential(self, key_id: str) -> bool:
        found = self._credentials.get(key_id)
        if found is None or found.revoked:
            return False
        found.revoked = True
        return True

    async def credentials(self, code: str | None = None) -> list[admin.CredentialInfo]:
        rows = [
            admin.CredentialInfo(key_id, c.participant, c.created_at, c.revoked, c.label)
            for key_id, c in self._credentials.items()
            if code is None or c.participant == code
        ]
        return sorted(rows, key=lambda c: (c.participant, c.created_at, c.key_id))


def _utc(at: datetime) -> datetime:
    check_aware(at)
    return at.astimezone(UTC)


class MemoryTracking:
    """``gateway.ports.Tracking`` in dicts. Every method runs without awaiting, so each is atomic."""

    def __init__(self, stale_after: timedelta = STALE_AFTER) -> None:
        self.stale_after = stale_after
        self._records: dict[str, MessageRecord] = {}
        self._keys: dict[tuple[str, str, str], str] = {}
        self._events: list[TrackingEvent] = []
        self._referenties: dict[tuple[str, str], list[str]] = {}

    def __repr__(self) -> str:
        return f"MemoryTracking(records={len(self._records)}, events={len(self._events)})"

    async def claim(self, record: MessageRecord) -> Claim:
        record = replace(record, received_at=_utc(record.received_at))
        key = (record.afzender, record.message, record.reference)
        held = self._keys.get(key)
        if held is not None:
            previous = self._records[held]
            stale = (
                previous.status == "pending" and record.received_at - previous.received_at > self.stale_after
            )
            if not stale:
                return Claim("same" if previous.sha256 == record.sha256 else "conflict", previous)
            if previous.sha256 == record.sha256:
                self._records[held] = replace(
                    previous, received_at=record.received_at, submitter=record.submitter
                )
                return Claim("resumed", previous)
            self._forget(held)
        if record.tracking_id in self._records:
            raise ValueError(f"tracking id {record.tracking_id} is already in use")
        self._records[record.tracking_id] = record
        self._keys[key] = record.tracking_id
        return Claim("new")

    def _forget(self, tracking_id: str) -> None:
        gone = self._records.pop(tracking_id)
        del self._keys[(gone.afzender, gone.message, gone.reference)]
        for ids in self._referenties.values():
            if tracking_id in ids:
                ids.remove(tracking_id)

    async def confirm(self, tracking_id: str, events: Sequence[TrackingEvent] = ()) -> None:
        found = self._records.get(tracking_id)
        if found is not None and found.status == "pending":
            self._records[tracking_id] = replace(found, status="accepted")
        for event in events:
            await self.add_event(event)

    async def abandon(self, record: MessageRecord) -> None:
        found = self._records.get(record.tracking_id)
        if found is not None and found.status == "pending":
            at = abandoned_at(_utc(record.received_at), self.stale_after)
            self._records[record.tracking_id] = replace(found, received_at=at)

    async def release(self, tracking_id: str) -> None:
        found = self._records.get(tracking_id)
        if found is not None and found.status == "pending":
            self._forget(tracking_id)

    async def add_event(self, event: TrackingEvent) -> None:
        self._events.append(replace(event, at=_utc(event.at), detail=dict(event.detail)))

    async def record(self, tracking_id: str) -> MessageRecord | None:
        return self._records.get(tracking_id)

    async def events(self, tracking_id: str) -> list[TrackingEvent]:
        return [e for e in self._events if e.tracking_id == tracking_id]

    def _latest(self, candidates: list[MessageRecord]) -> MessageRecord | None:
        accepted = [r for r in candidates if r.status == "accepted"]
        return max(accepted, key=lambda r: (r.received_at, r.tracking_id), default=None)

    async def find(
        self, afzender: str, message: str, identificatie: str, *, ontvanger: str | None = None
    ) -> MessageRecord | None:
        return self._latest(
            [
                r
                for r in self._records.values()
                if (r.afzender, r.message, r.identificatie) == (afzender, message, identificatie)
                and ontvanger in (None, r.ontvanger)
            ]
        )

    async def find_by_referentie(
        self, aanbieder: str, referentie: str, *, ontvanger: str | None = None
    ) -> MessageRecord | None:
        ids = self._referenties.get((aanbieder, referentie), [])
        found = [self._records[i] for i in ids if i in self._records]
        return self._latest([r for r in found if ontvanger in (None, r.ontvanger)])

    async def add_referenties(self, tracking_id: str, aanbieder: str, referenties: tuple[str, ...]) -> None:
        if tracking_id not in self._records:
            raise ValueError(f"no message {tracking_id} to link referenties to")
        for referentie in referenties:
            ids = self._referenties.setdefault((aanbieder, referentie), [])
            if tracking_id not in ids:
                ids.append(tracking_id)

    async def flush(self) -> None:
        """Nothing is buffered here."""

    async def conversation(self, conversation_id: str) -> list[MessageRecord]:
        found = [r for r in self._records.values() if r.conversation_id == conversation_id]
        return sorted(found, key=lambda r: (r.received_at, r.tracking_id))

    async def purge_before(self, cutoff: datetime) -> Purged:
        cutoff = _utc(cutoff)
        kept = [e for e in self._events if e.at >= cutoff]
        gone_events = len(self._events) - len(kept)
        self._events = kept
        old = [t for t, r in self._records.items() if r.received_at < cutoff]
        for tracking_id in old:
            self._forget(tracking_id)
        return Purged(messages=len(old), events=gone_events)
