"""REST Pull: a provider's pull list, fed from its one mailbox, confirmed message by message.

Every message for a provider reaches its mailbox (the quorum queue ``mailbox.{code}``), whatever interface
its sender used. Listing (``GET /berichten``, ``POST /berichten/zoeken``) first moves messages from that
mailbox onto the provider's pull list until the list holds :data:`KEEP` unconfirmed ones: each is leased
from the queue, written to the pull list with its metadata and payload, and only then acknowledged to the
broker. A process that dies in between leaves the lease unacknowledged, so the broker offers the message
again and the write, keyed by (party, traceerId), keeps one copy: nothing is lost, nothing doubled. The
list answers the oldest unconfirmed messages; ``DELETE`` confirms one (track & trace: ``acked``), after which
it never comes back, while an unconfirmed one keeps coming back. A provider that also reads its mailbox over
AMQP or ``/v1/mailbox`` gets each message one way only: whichever takes it from the queue first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import structlog

from gateway.errors import NodeRole
from gateway.koppeling.store import Filter, Inboxed, KoppelingStore
from gateway.koppeling.view import Refs, Views, berichtstroom, role
from gateway.ports import Leased, MailboxReader, Tracking, TrackingEvent, utc_now

log = structlog.get_logger("gateway.koppeling")

KEEP: Final = 250  # unconfirmed messages a pull list is filled up to (the most one answer lists)
LEASE_SECONDS: Final = 30  # how long a message taken from the mailbox may take to reach the pull list
INTERFACE: Final = "rest-pull"


@dataclass(eq=False, repr=False)
class Pull:
    """The pull service of the provider node."""

    node: NodeRole
    reader: MailboxReader
    tracking: Tracking
    store: KoppelingStore
    clock: Callable[[], datetime] = utc_now
    views: Views = field(init=False)

    def __post_init__(self) -> None:
        self.views = Views(self.tracking, self.store)

    def __repr__(self) -> str:
        return f"Pull(node={self.node!r})"

    async def ready(self, party: str, limit: int, where: Filter | None = None) -> list[Inboxed]:
        """The oldest unconfirmed messages of ``party`` (after taking what waits in its mailbox)."""
        await self.refill(party)
        return await self.store.ready(party, limit, where)

    async def refill(self, party: str) -> int:
        """Move messages from ``party``'s mailbox onto its pull list up to :data:`KEEP`; how many moved.

        A party without a mailbox on this node has nothing to move (its list is what it is)."""
        want = KEEP - await self.store.unconfirmed(party)
        if want <= 0:
            return 0
        try:
            leased = await self.reader.lease(self.node, party, want, LEASE_SECONDS)
        except LookupError:
            return 0
        if not leased:
            return 0
        items = [await self._inboxed(party, item) for item in leased]
        await self.store.add_inboxed(items)  # a failure here leaves the leases to return to the mailbox
        now = self.clock()
        for item in leased:
            if await self.reader.ack(self.node, party, item.lease_id) is None:
                continue  # the lease ran out: the broker offers it again, the pull list keeps one copy
            await self.tracking.add_event(
                TrackingEvent(item.tracking_id, "fetched", self.node, now, {"by": party, "via": INTERFACE})
            )
        log.info("koppeling.refilled", node=self.node, party=party, moved=len(items))
        return len(items)

    async def _inboxed(self, party: str, item: Leased) -> Inboxed:
        headers = item.headers
        record = await self.tracking.record(item.tracking_id)
        if record is not None:
            refs = await self.views.refs(record)
            sender, recipient = record.afzender, record.ontvanger
            stroom = berichtstroom(record.message, record.release)
            received = record.received_at
        else:  # the sender's node keeps its records elsewhere: what the message's own headers say
            refs = Refs(item.tracking_id, item.conversation_id or item.tracking_id)
            sender, recipient = headers.get("sender", ""), headers.get("recipient", party)
            stroom = berichtstroom(headers.get("message", ""), headers.get("release", ""))
            received = _parse_time(headers.get("received-at")) or self.clock()
        metadata = {
            "routeringgegevens": {
                "afzender": {"rol": role(sender), "code": sender},
                "geadresseerden": [{"rol": role(recipient), "code": recipient}],
                "berichtstroom": stroom,
            },
            "referentiegegevens": refs.as_dict(),
        }
        return Inboxed(
            party=party,
            traceer_id=refs.traceer_id,
            tracking_id=item.tracking_id,
            ontvangen_op=received,
            size=len(item.body),
            sha256=headers.get("sha256") or _sha256(item.body),
            metadata=metadata,
            berichttype=str(stroom["berichttype"]),
            conversatie_id=refs.conversatie_id,
            als_antwoord_op=refs.als_antwoord_op,
            payload=item.body,
        )

    async def payload(self, party: str, traceer_id: str) -> Inboxed | None:
        """The message with its payload, or None (unknown, another party's, confirmed, or its payload gone)."""
        return await self.store.payload(party, traceer_id, self.clock())

    async def confirm(self, party: str, traceer_id: str) -> bool:
        """Confirm receipt; False when ``party`` has no such message."""
        now = self.clock()
        item = await self.store.confirm(party, traceer_id, now)
        if item is None:
            return False
        if item.confirmed_at == now:  # confirmed just now, not before
            await self.tracking.add_event(
                TrackingEvent(item.tracking_id, "acked", self.node, now, {"by": party, "via": INTERFACE})
            )
        return True


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        found = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
