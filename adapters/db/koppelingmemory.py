"""The REST store of the VSP-Koppeling in memory, with the behaviour of the SQL one (tests/db runs both)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from gateway.koppeling.store import ClaimMessage, Filter, Inboxed, Purged, Pushed, Settled, claim_in_turn
from gateway.ports import Claim, MessageRecord


class MemoryKoppeling:
    """:class:`gateway.koppeling.store.KoppelingStore` in dicts."""

    def __init__(self) -> None:
        self._pushes: dict[str, Pushed] = {}  # by id
        self._inbox: dict[tuple[str, str], Inboxed] = {}  # by (party, traceerId)

    def __repr__(self) -> str:
        return f"MemoryKoppeling(pushes={len(self._pushes)}, inboxed={len(self._inbox)})"

    async def claim_push(self, pushed: Pushed) -> Pushed | None:
        for held in self._pushes.values():
            if held.afzender == pushed.afzender and held.traceer_id == pushed.traceer_id:
                return held
        self._pushes[pushed.id] = pushed
        return None

    async def claim_with(self, pushed: Pushed, record: MessageRecord, claim: ClaimMessage) -> Claim:
        return await claim_in_turn(self, pushed, record, claim)

    async def settle_push(self, settled: Settled) -> None:
        held = self._pushes.get(settled.push_id)
        if held is not None:
            self._pushes[settled.push_id] = replace(
                held,
                state=settled.state,
                tracking_id=settled.tracking_id,
                meldingen=settled.meldingen,
                changed_at=settled.at,
            )

    async def release_push(self, push_id: str) -> None:
        held = self._pushes.get(push_id)
        if held is not None and held.state == "pending":
            del self._pushes[push_id]

    async def pushes_by_traceer(self, traceer_id: str, afzenders: Collection[str] = ()) -> list[Pushed]:
        found = [p for p in self._pushes.values() if traceer_id in (p.traceer_id, p.als_antwoord_op)]
        return sorted(found, key=lambda p: (p.received_at, p.id))

    async def pushes_by_tracking(self, tracking_ids: list[str]) -> dict[str, Pushed]:
        wanted = set(tracking_ids)
        return {p.tracking_id: p for p in self._pushes.values() if p.tracking_id in wanted and p.tracking_id}

    async def pushes_in_conversation(
        self, conversatie_id: str, afzenders: Collection[str] = ()
    ) -> list[Pushed]:
        found = [p for p in self._pushes.values() if p.conversatie_id == conversatie_id]
        return sorted(found, key=lambda p: (p.received_at, p.id))

    async def add_inboxed(self, items: list[Inboxed]) -> None:
        for item in items:
            self._inbox.setdefault((item.party, item.traceer_id), item)

    async def ready(self, party: str, limit: int, where: Filter | None = None) -> list[Inboxed]:
        found = [
            replace(item, payload=None)
            for item in self._inbox.values()
            if item.party == party
            and item.confirmed_at is None
            and item.payload is not None
            and (where is None or _filtered(where, item))
        ]
        return sorted(found, key=lambda i: (i.ontvangen_op, i.traceer_id))[:limit]

    async def unconfirmed(self, party: str) -> int:
        return sum(
            1
            for i in self._inbox.values()
            if i.party == party and i.confirmed_at is None and i.payload is not None
        )

    async def payload(self, party: str, traceer_id: str, at: datetime) -> Inboxed | None:
        item = self._inbox.get((party, traceer_id))
        if item is None or item.payload is None or item.confirmed_at is not None:
            return None
        if item.downloaded_at is None:
            item = self._inbox[(party, traceer_id)] = replace(item, downloaded_at=at)
        return item

    async def confirm(self, party: str, traceer_id: str, at: datetime) -> Inboxed | None:
        item = self._inbox.get((party, traceer_id))
        if item is None:
            return None
        if item.confirmed_at is None:
            item = self._inbox[(party, traceer_id)] = replace(item, confirmed_at=at)
        return replace(item, payload=None)

    async def purge(self, downloaded_before: datetime, older_than: datetime) -> Purged:
        payloads = inboxed = pushed = 0
        for key, item in list(self._inbox.items()):
            if item.ontvangen_op < older_than:
                del self._inbox[key]
                inboxed += 1
            elif item.payload is not None and item.downloaded_at and item.downloaded_at < downloaded_before:
                self._inbox[key] = replace(item, payload=None)
                payloads += 1
        for push_id, push in list(self._pushes.items()):
            if push.received_at < older_than:
                del self._pushes[push_id]
                pushed += 1
        return Purged(payloads=payloads, inboxed=inboxed, pushed=pushed)


def _filtered(where: Filter, item: Inboxed) -> bool:
    own = (
        (where.berichttype, item.berichttype),
        (where.conversatie_id, item.conversatie_id),
        (where.als_antwoord_op, item.als_antwoord_op),
    )
    return all(wanted is None or wanted == found for wanted, found in own) and where.matches(item)
