"""The participant registry on SQLAlchemy: implements ``gateway.ports.Registry`` and ``RegistryAdmin``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db import credentials as creds
from adapters.db.admin import (
    MAX_LABEL,
    CredentialInfo,
    DuplicateParticipant,
    InvalidParticipant,
    IssuedCredential,
    Submitter,
    UnknownParticipant,
    retired,
    validate_participant,
    validate_submitter,
)
from adapters.db.connections import Connections
from adapters.db.schema import credentials, participants, submitters
from gateway.ports import Participant, PartyKind

_PARTICIPANT = tuple(Participant.__dataclass_fields__)  # the participants table's columns, by name


def _participant(row: RowMapping) -> Participant:
    return Participant(**{name: row[name] for name in _PARTICIPANT})


def _participant_row(p: Participant) -> dict[str, Any]:
    return {name: getattr(p, name) for name in _PARTICIPANT}


T = TypeVar("T")

# at most this many entries in the read cache; a full cache is emptied (a flood of unknown key ids must not
# grow memory)
CACHE_ENTRIES = 10_000
# answers of "not there" (unknown key id, party or relation) are kept apart, at most this many: a flood of
# bogus key ids only ever empties these, never the entries of the parties that are really calling
CACHE_MISSES = 1_000


class ReadCache:
    """Answers of the hot reads (participant, credential row, submitter relation) kept ``seconds`` long.

    Every ingest reads the caller's credential and both parties; these change rarely, so one process reuses
    what it read for a few seconds. A change made through this process (admin API, CLI in-process) empties
    the cache at once; one made by another process is seen here within ``seconds``. ``seconds`` 0 turns it
    off. Only the stored form is kept (participant, salt and digest), never a token: the secret is checked
    on every request. Misses (None, False) are bounded on their own (:data:`CACHE_MISSES`).
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[tuple[str, ...], tuple[float, Any]] = {}
        # reads under way: callers that miss the same key while it is read wait for that one read (when an
        # entry expires under load, dozens of requests would otherwise each read it at once)
        self._reading: dict[tuple[str, ...], asyncio.Future[Any]] = {}
        self._generation = 0  # moved on by clear(): a read begun before a change is not kept
        self._misses: dict[tuple[str, ...], tuple[float, Any]] = {}  # None/False answers, bounded apart

    def __repr__(self) -> str:
        return f"ReadCache(seconds={self.seconds}, entries={len(self._entries)}, misses={len(self._misses)})"

    async def get(self, key: tuple[str, ...], read: Callable[[], Awaitable[T]]) -> T:
        if self.seconds <= 0:
            return await read()
        hit = self._entries.get(key) or self._misses.get(key)
        if hit is not None and hit[0] > self._clock():
            value: T = hit[1]
            return value
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read(key, read, self._generation))
            # a failure that nobody waits for any more is still retrieved (no "never retrieved" warning)
            reading.add_done_callback(_retrieved)
            self._reading[key] = reading
        # shielded: a caller that gives up (its request cancelled) does not cancel the others' read
        result: T = await asyncio.shield(reading)
        return result

    async def _read(self, key: tuple[str, ...], read: Callable[[], Awaitable[T]], generation: int) -> T:
        try:
            value = await read()
        finally:
            if self._reading.get(key) is asyncio.current_task():
                del self._reading[key]
        if generation == self._generation:
            missed = value is None or value is False
            kept, most = (self._misses, CACHE_MISSES) if missed else (self._entries, CACHE_ENTRIES)
            if len(kept) >= most:
                kept.clear()
            kept[key] = (self._clock() + self.seconds, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
        self._misses.clear()
        self._reading.clear()
        self._generation += 1


def _retrieved(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()


def _submitter(row: RowMapping) -> Submitter:
    return Submitter(row["submitter"], row["party"], row["active_from"], row["active_until"])


class SqlRegistry:
    """Participants, submitter relations and API credentials (stored as salted hashes)."""

    def __init__(self, connections: Connections, cache_seconds: float = 0.0) -> None:
        self._db = connections
        self.cache = ReadCache(cache_seconds)

    def __repr__(self) -> str:
        return f"SqlRegistry(dialect={self._db.dialect!r})"

    # --- gateway.ports.Registry ---------------------------------------------------------------------

    async def participant(self, code: str) -> Participant | None:
        return await self.cache.get(("participant", code), lambda: self._participant(code))

    async def _participant(self, code: str) -> Participant | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(participants).where(participants.c.code == code))).first()
        return None if row is None else _participant(row._mapping)

    async def may_submit_for(self, submitter: str, party: str, day: date) -> bool:
        return await self.cache.get(
            ("submitter", submitter, party, day.isoformat()),
            lambda: self._may_submit_for(submitter, party, day),
        )

    async def _may_submit_for(self, submitter: str, party: str, day: date) -> bool:
        query = select(submitters.c.submitter).where(
            submitters.c.submitter == submitter,
            submitters.c.party == party,
            submitters.c.active_from <= day,
            or_(submitters.c.active_until.is_(None), submitters.c.active_until >= day),
        )
        async with self._db.read() as conn:
            return (await conn.execute(query)).first() is not None

    async def authenticate(self, credential: str) -> str | None:
        key_id = creds.key_id_of(credential)
        if key_id is None:
            return None
        row = await self.cache.get(("credential", key_id), lambda: self._credential(key_id))
        if row is None or not creds.matches(credential, row[1], row[2]):
            return None
        return row[0]

    async def _credential(self, key_id: str) -> tuple[str, str, str] | None:
        """(participant, salt, digest) of a credential that is not revoked."""
        query = select(credentials.c.participant, credentials.c.salt, credentials.c.digest).where(
            credentials.c.key_id == key_id, credentials.c.revoked.is_(False)
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (str(row.participant), str(row.salt), str(row.digest))

    # --- management ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def _changing(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that changes the registry: the read cache is emptied once it is over."""
        try:
            async with self._db.transaction() as conn:
                yield conn
        finally:
            self.cache.clear()

    async def add_participant(self, participant: Participant) -> None:
        validate_participant(participant)
        try:
            async with self._changing() as conn:
                await conn.execute(insert(participants).values(_participant_row(participant)))
        except IntegrityError:
            raise DuplicateParticipant(participant.code) from None

    async def update_participant(self, participant: Participant) -> None:
        validate_participant(participant)
        async with self._changing() as conn:
            done = await conn.execute(
                update(participants)
                .where(participants.c.code == participant.code)
                .values(_participant_row(participant))
            )
            if done.rowcount != 1:
                raise UnknownParticipant(participant.code)

    async def retire(self, code: str, last_day: date) -> Participant:
        async with self._changing() as conn:
            row = (await conn.execute(select(participants).where(participants.c.code == code))).first()
            if row is None:
                raise UnknownParticipant(code)
            ended = retired(_participant(row._mapping), last_day)
            await conn.execute(
                update(participants)
                .where(participants.c.code == code)
                .values(active_until=ended.active_until)
            )
        return ended

    async def participants(
        self, kind: PartyKind | None = None, active_on: date | None = None
    ) -> list[Participant]:
        query = select(participants).order_by(participants.c.code)
        if kind is not None:
            query = query.where(participants.c.kind == kind)
        if active_on is not None:
            query = query.where(
                participants.c.active_from <= active_on,
                or_(participants.c.active_until.is_(None), participants.c.active_until >= active_on),
            )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_participant(r._mapping) for r in rows]

    async def add_submitter(self, submitter: Submitter) -> None:
        validate_submitter(submitter)
        key = and_(submitters.c.submitter == submitter.submitter, submitters.c.party == submitter.party)
        async with self._changing() as conn:
            # write first, so that SQLite takes its write lock before reading
            changed = await conn.execute(
                update(submitters)
                .where(key)
                .values(active_from=submitter.active_from, active_until=submitter.active_until)
            )
            if changed.rowcount == 1:
                return
            found = await conn.execute(
                select(participants.c.code).where(
                    participants.c.code.in_((submitter.submitter, submitter.party))
                )
            )
            known = {r.code for r in found}
            for code in (submitter.submitter, submitter.party):
                if code not in known:
                    raise UnknownParticipant(code)
            await conn.execute(
                insert(submitters).values(
                    submitter=submitter.submitter,
                    party=submitter.party,
                    active_from=submitter.active_from,
                    active_until=submitter.active_until,
                )
            )

    async def remove_submitter(self, submitter: str, party: str) -> bool:
        async with self._changing() as conn:
            done = await conn.execute(
                delete(submitters).where(submitters.c.submitter == submitter, submitters.c.party == party)
            )
            return bool(done.rowcount == 1)

    async def submitters(self, party: str | None = None) -> list[Submitter]:
        query = select(submitters).order_by(submitters.c.party, submitters.c.submitter)
        if party is not None:
            query = query.where(submitters.c.party == party)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_submitter(r._mapping) for r in rows]

    async def issue_credential(self, code: str, label: str | None = None) -> IssuedCredential:
        if label is not None and len(label) > MAX_LABEL:
            raise InvalidParticipant(f"a credential label has at most {MAX_LABEL} characters")
        token, hashed = creds.new_token()
        async with self._changing() as conn:
            found = await conn.execute(select(participants.c.code).where(participants.c.code == code))
            if found.first() is None:
                raise UnknownParticipant(code)
            await conn.execute(
                insert(credentials).values(
                    key_id=hashed.key_id,
                    participant=code,
                    salt=hashed.salt,
                    digest=hashed.digest,
                    label=label,
                    created_at=datetime.now(UTC),
                    revoked=False,
                )
            )
        return IssuedCredential(hashed.key_id, code, token)

    async def revoke_credential(self, key_id: str) -> bool:
        async with self._changing() as conn:
            done = await conn.execute(
                update(credentials)
                .where(credentials.c.key_id == key_id, credentials.c.revoked.is_(False))
                .values(revoked=True)
            )
            return bool(done.rowcount == 1)

    async def credentials(self, code: str | None = None) -> list[CredentialInfo]:
        query = select(
            credentials.c.key_id,
            credentials.c.participant,
            credentials.c.created_at,
            credentials.c.revoked,
            credentials.c.label,
        ).order_by(credentials.c.participant, credentials.c.created_at, credentials.c.key_id)
        if code is not None:
            query = query.where(credentials.c.participant == code)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [CredentialInfo(r.key_id, r.participant, r.created_at, bool(r.revoked), r.label) for r in rows]
