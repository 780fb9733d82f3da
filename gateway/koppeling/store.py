"""The REST data of the VSP-Koppeling: what was pushed under which traceerId, and each provider's pull list.

Two kinds of row, both codes, ids, times and digests only, except the payload of a message on the pull list:

- :class:`Pushed`: one push (the sender's ``traceerId``, ``conversatieId``, ``alsAntwoordOp``,
  ``referentieId`` and stated ``berichtstroom``), so that a ``traceerId`` belongs to one message of its sender
  (BRS114), with the tracking id the pipeline gives the message: :func:`push_id`, derived from the sender
  and the traceerId, so that the tracking store's key of the message holds the traceerId too. It is written
  with the pipeline's claim of that message (:meth:`KoppelingStore.claim_with`: one statement on
  PostgreSQL; on SQL a push its sender submits itself is that claim alone, its stated ids on the message's
  row), or as refused when the pipeline refused the message. A ``pending`` push is as far as its message is
  (accepted once the message's record is); it is settled only when refused (with its ``meldingen``: status
  ``AfgekeurdDoorDienst``) or when the pipeline took its message under another tracking id (``accepted``,
  with that id);
- :class:`Inboxed`: one message taken from a provider's mailbox for REST pull, with the metadata it is
  listed with and its payload, until the provider confirms it (``DELETE``); the payload is dropped 24 hours
  after its first download, the row after the retention period.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from hashlib import blake2b
from typing import Any, Literal, Protocol

from gateway.koppeling.problems import Meld
from gateway.ports import Claim, MessageRecord, uuid_text

PushState = Literal["pending", "accepted", "refused"]

# the key of the tracking ids of pushed messages: UUIDs of version 8 (RFC 9562: made by a rule of one's own),
# never one of the random version-4 ids every other message gets
PUSH_IDS = uuid.UUID("5f0c2a4e-7d3b-4c1e-9a61-2b8e4f6d1c07")
_KEY = PUSH_IDS.bytes


@lru_cache(maxsize=1024)
def push_id(afzender: str, traceer_id: str) -> str:
    """The id of a push and the tracking id of its message: one per sender and traceerId, as stated (a
    second push of the traceerId meets the first in the tracking store's key of the message).

    A keyed BLAKE2b digest of both (Python's own, no OpenSSL digest fetched per call) with the version and
    variant bits of a UUID version 8, formatted without a ``UUID`` object between. The last ids are kept:
    a push's id is worked out by the push and checked again by the store's claim of it."""
    return uuid_text(blake2b(f"{afzender}/{traceer_id}".encode(), digest_size=16, key=_KEY).digest(), 8)


@dataclass(frozen=True, slots=True)
class Pushed:
    """One REST push. ``routing`` is what of the stated routing is shown again, as JSON: ``routeringgegevens``
    with its ``berichtstroom`` (afzender and geadresseerden are the message's own, checked against it)."""

    id: str
    afzender: str
    submitter: str
    traceer_id: str
    conversatie_id: str
    sha256: str
    received_at: datetime
    routing: Mapping[str, Any] = field(repr=False)
    als_antwoord_op: str | None = None
    referentie_id: str | None = None
    state: PushState = "pending"
    tracking_id: str | None = None
    meldingen: tuple[Meld, ...] = ()
    changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Inboxed:
    """One message on a provider's pull list. ``metadata`` is the listed ``BerichtMetadata`` without
    ``basisgegevens`` (which the interface adds: time, size, checksum, download address)."""

    party: str
    traceer_id: str
    tracking_id: str
    ontvangen_op: datetime
    size: int
    sha256: str
    metadata: Mapping[str, Any] = field(repr=False)
    berichttype: str
    conversatie_id: str
    als_antwoord_op: str | None = None
    payload: bytes | None = field(default=None, repr=False)
    downloaded_at: datetime | None = None
    confirmed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """A search path of ``POST /berichten/zoeken`` on the pull list (None: any)."""

    berichttype: str | None = None
    berichtsubtype: str | None = None
    berichtversie: int | None = None
    berichtsubversie: int | None = None
    actie: str | None = None
    geadresseerde_rol: str | None = None
    geadresseerde_code: str | None = None
    conversatie_id: str | None = None
    als_antwoord_op: str | None = None

    def matches(self, item: Inboxed) -> bool:
        """The fields a store does not filter on itself (it filters type, conversation and answer)."""
        stroom = item.metadata.get("routeringgegevens", {}).get("berichtstroom", {})
        geadresseerden = item.metadata.get("routeringgegevens", {}).get("geadresseerden", [])
        checks = (
            (self.berichtsubtype, stroom.get("berichtsubtype")),
            (self.berichtversie, stroom.get("berichtversie")),
            (self.berichtsubversie, stroom.get("berichtsubversie")),
            (self.actie, stroom.get("actie")),
        )
        if any(wanted is not None and wanted != found for wanted, found in checks):
            return False
        if self.geadresseerde_rol is None and self.geadresseerde_code is None:
            return True
        return any(
            (self.geadresseerde_rol is None or g.get("rol") == self.geadresseerde_rol)
            and (self.geadresseerde_code is None or g.get("code") == self.geadresseerde_code)
            for g in geadresseerden
        )


@dataclass(frozen=True, slots=True)
class Settled:
    """How a push ended: accepted (with the tracking id of its message) or refused (with its meldingen)."""

    push_id: str
    state: PushState
    tracking_id: str | None
    meldingen: tuple[Meld, ...]
    at: datetime


class TraceerIdTaken(Exception):
    """The ``traceerId`` of a push is held by ``held`` (the same push again, or another message): nothing
    of this push or its message was written."""

    def __init__(self, held: Pushed) -> None:
        super().__init__("the traceerId is held by another push")
        self.held = held


# the tracking store's claim of a message (gateway.ports.Tracking.claim)
ClaimMessage = Callable[[MessageRecord], Awaitable[Claim]]


async def claim_in_turn(
    store: KoppelingStore, pushed: Pushed, record: MessageRecord, claim: ClaimMessage
) -> Claim:
    """:meth:`KoppelingStore.claim_with` as two writes: the push, then (its traceerId free) the message."""
    held = await store.claim_push(pushed)
    if held is not None:
        raise TraceerIdTaken(held)
    return await claim(record)


@dataclass(frozen=True, slots=True)
class Purged:
    """How much one retention run removed."""

    payloads: int
    inboxed: int
    pushed: int


class KoppelingStore(Protocol):
    """Pushes by traceerId and the pull lists (``adapters.db``: memory, SQLite, PostgreSQL)."""

    async def claim_push(self, pushed: Pushed) -> Pushed | None:
        """Claim ``pushed.traceer_id`` for its sender: None when claimed, else the push that holds it."""
        ...

    async def claim_with(self, pushed: Pushed, record: MessageRecord, claim: ClaimMessage) -> Claim:
        """Write ``pushed`` and, only if its traceerId was free, claim its message ``record`` (whose tracking
        id is ``pushed.id``) as the tracking store's ``claim`` does, atomically where the database can (one
        statement): the message's :class:`Claim`, or :class:`TraceerIdTaken` raised (nothing written)."""
        ...

    async def settle_push(self, settled: Settled) -> None:
        """Record how the claimed push ended."""
        ...

    async def release_push(self, push_id: str) -> None:
        """Forget a pending claim whose message never reached a verdict (the broker was down)."""
        ...

    async def pushes_by_traceer(self, traceer_id: str, afzenders: Collection[str] = ()) -> list[Pushed]:
        """The pushes under this traceerId, or answering it (``alsAntwoordOp``): every push of one of
        ``afzenders`` and every push submitted for another party (a store may leave out the pushes that
        another sender submitted itself)."""
        ...

    async def pushes_by_tracking(self, tracking_ids: list[str]) -> dict[str, Pushed]: ...

    async def pushes_in_conversation(
        self, conversatie_id: str, afzenders: Collection[str] = ()
    ) -> list[Pushed]:
        """The pushes of this conversatieId, as :meth:`pushes_by_traceer` chooses them."""
        ...

    async def add_inboxed(self, items: list[Inboxed]) -> None:
        """Put messages on pull lists; one already there (a redelivery) is left as it is."""
        ...

    async def ready(self, party: str, limit: int, where: Filter | None = None) -> list[Inboxed]:
        """The oldest unconfirmed messages of ``party`` whose payload is still there, without payloads."""
        ...

    async def unconfirmed(self, party: str) -> int:
        """How many messages :meth:`ready` could list for ``party``: unconfirmed, payload still there (one
        whose payload went 24 hours after its download is no longer on the list, so it takes no room)."""
        ...

    async def payload(self, party: str, traceer_id: str, at: datetime) -> Inboxed | None:
        """The message with its payload (marked downloaded at ``at`` the first time); None when unknown,
        another party's, confirmed (no longer on the pull list) or its payload gone."""
        ...

    async def confirm(self, party: str, traceer_id: str, at: datetime) -> Inboxed | None:
        """Confirm receipt: the message leaves the list for good. None when ``party`` has no such message;
        confirmed before, it is returned with its first ``confirmed_at`` (a repeated confirmation holds)."""
        ...

    async def purge(self, downloaded_before: datetime, older_than: datetime) -> Purged:
        """Drop payloads downloaded before the first cutoff, and every row received before the second."""
        ...
