"""Berichtstatus: the status of the messages a party sent or received, by traceerId or conversatieId.

By ``traceerId``: the message with that traceerId and the messages answering it (``alsAntwoordOp``). By
``conversatieId``: every message of that conversation. Only messages the caller sent, submitted or
received are shown: another party's traceerId finds nothing, the same empty list as an unknown one (the
status spec answers 200 or 400 only: no 404 that would tell someone else's traceerId from none at all). A
message received longer ago than the retention period (two months, as VECOZO) is not shown, whatever the
track & trace retention keeps. At most 250.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from gateway.koppeling.problems import Meld
from gateway.koppeling.status import stand
from gateway.koppeling.store import KoppelingStore, Pushed
from gateway.koppeling.view import Refs, Views, berichtstroom, stated
from gateway.ports import MessageRecord, Tracking, utc_now

MAX_ITEMS: Final = 250


@dataclass(frozen=True, slots=True)
class Status:
    """``BerichtstatusGegevens`` of one message."""

    refs: Refs
    stroom: dict[str, Any]
    status: str
    changed_at: datetime
    received_at: datetime
    meldingen: tuple[Meld, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "referentiegegevens": self.refs.as_dict(),
            "berichtstroom": self.stroom,
            "berichtstatus": self.status,
            "berichtstatusGewijzigdOp": self.changed_at.isoformat(),
            "berichtOntvangenOp": self.received_at.isoformat(),
        }
        if self.meldingen:
            out["meldingen"] = [m.as_dict() for m in self.meldingen[:100]]
        return out


def _sees(party: str, record: MessageRecord) -> bool:
    return party in (record.afzender, record.ontvanger, record.submitter)


def _sees_push(party: str, pushed: Pushed) -> bool:
    return party in (pushed.afzender, pushed.submitter)


class Statuses:
    """The status service of the provider node."""

    def __init__(
        self,
        tracking: Tracking,
        store: KoppelingStore,
        retention: timedelta = timedelta(days=61),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.tracking = tracking
        self.store = store
        self.views = Views(tracking, store)
        self.retention = retention
        self.clock = clock

    def __repr__(self) -> str:
        return "Statuses()"

    async def by_traceer(self, party: str, traceer_id: str) -> list[Status]:
        pushes = [p for p in await self.store.pushes_by_traceer(traceer_id, (party,)) if _sees_push(party, p)]
        originals: list[MessageRecord] = []
        own = await self.tracking.record(traceer_id)  # a message that did not come over REST push
        if own is not None and _sees(party, own) and own.status == "accepted":
            originals.append(own)
        for pushed in pushes:  # a refused push is shown with its meldingen (below)
            if pushed.traceer_id == traceer_id and pushed.tracking_id and pushed.state != "refused":
                record = await self.tracking.record(pushed.tracking_id)
                if record is not None:
                    originals.append(record)
        records: dict[str, MessageRecord] = {r.tracking_id: r for r in originals}
        for original in originals:  # the messages answering it, linked by the pipeline
            for member in await self.tracking.conversation(original.conversation_id):
                if (
                    member.answers == original.tracking_id
                    and member.status == "accepted"
                    and _sees(party, member)
                ):
                    records.setdefault(member.tracking_id, member)
        for pushed in pushes:  # pushes answering it by their own alsAntwoordOp
            if pushed.tracking_id and pushed.tracking_id not in records and pushed.state != "refused":
                record = await self.tracking.record(pushed.tracking_id)
                if record is not None:
                    records[record.tracking_id] = record
        return await self._statuses(party, list(records.values()), pushes)

    async def by_conversatie(self, party: str, conversatie_id: str) -> list[Status]:
        pushes = [
            p
            for p in await self.store.pushes_in_conversation(conversatie_id, (party,))
            if _sees_push(party, p)
        ]
        conversations = {conversatie_id}
        for pushed in pushes:
            if pushed.tracking_id:
                record = await self.tracking.record(pushed.tracking_id)
                if record is not None:
                    conversations.add(record.conversation_id)
        records: dict[str, MessageRecord] = {}
        for conversation in sorted(conversations):
            for member in await self.tracking.conversation(conversation):
                if member.status == "accepted" and _sees(party, member):
                    records.setdefault(member.tracking_id, member)
        return await self._statuses(party, list(records.values()), pushes)

    async def _statuses(self, party: str, records: list[MessageRecord], pushes: list[Pushed]) -> list[Status]:
        since = self.clock() - self.retention  # older: gone, as the REST store's rows
        records = [r for r in records if r.received_at >= since]
        by_tracking = await self.store.pushes_by_tracking([r.tracking_id for r in records])
        out = [await self._of_record(r, by_tracking.get(r.tracking_id)) for r in records]
        out += [self._of_refusal(p) for p in pushes if p.state == "refused" and p.received_at >= since]
        out.sort(key=lambda s: (s.received_at, s.refs.traceer_id))
        return out[:MAX_ITEMS]

    async def _of_record(self, record: MessageRecord, pushed: Pushed | None) -> Status:
        refs = await self.views.refs(record, pushed)
        reached = stand(await self.tracking.events(record.tracking_id), record.received_at)
        stroom = dict(stated(pushed)["berichtstroom"]) if pushed is not None else None
        return Status(
            refs=refs,
            stroom=stroom or berichtstroom(record.message, record.release),
            status=reached.status,
            changed_at=reached.since,
            received_at=record.received_at,
        )

    @staticmethod
    def _of_refusal(pushed: Pushed) -> Status:
        refs = Refs(pushed.traceer_id, pushed.conversatie_id, pushed.als_antwoord_op, pushed.referentie_id)
        return Status(
            refs=refs,
            stroom=dict(stated(pushed)["berichtstroom"]),
            status="AfgekeurdDoorDienst",
            changed_at=pushed.changed_at or pushed.received_at,
            received_at=pushed.received_at,
            meldingen=pushed.meldingen,
        )
