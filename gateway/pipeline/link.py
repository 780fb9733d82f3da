"""The receiving node's judgement of what crossed the node link: the same read, the same registry rules.

The edge (:mod:`gateway.interfaces.link`) unpacks the broker's link message into the values here. A
:class:`gateway.errors.Rejection` dead-letters the message (it never reaches a mailbox); anything else
retries it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from gateway.errors import NodeRole, Rejection, UnknownReceiver
from gateway.pipeline.judge import Judge
from gateway.pipeline.observe import NOBODY, Observers
from gateway.ports import Tracking, TrackingEvent


@dataclass(frozen=True, slots=True)
class Crossing:
    """A message that crossed the node link to ``node``, as the link's headers describe it."""

    node: NodeRole
    tracking_id: str
    recipient: str
    message: str | None
    origin: str
    received_at: datetime | None  # when its first node received it
    first: bool  # its first arrival (not a redelivery)
    body: bytes = field(default=b"", repr=False)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False, repr=False)
class LinkJudge:
    """Judges each message that crossed the link, and records it in track & trace once in its mailbox."""

    # when each message in hand passed the check, until it is in its mailbox: both events are then written
    # together (one write per message instead of two); bounded, as a message may be retried elsewhere
    CHECKED_KEPT: ClassVar[int] = 10_000

    judge: Judge
    tracking: Tracking
    observers: Observers = NOBODY
    clock: Callable[[], datetime] = _now
    _checked: dict[str, tuple[datetime, str]] = field(default_factory=dict, init=False)

    def __repr__(self) -> str:
        return f"LinkJudge({self.judge!r})"

    async def arrived(self, crossing: Crossing) -> None:
        """Judge a message that crossed: raises the refusal, else remembers when it passed."""
        node = crossing.node
        if crossing.first and crossing.received_at is not None:
            self.observers.crossed(node, crossing.received_at)
        try:
            await self._judge(crossing)
        except Rejection as exc:
            self.observers.refused_at_link(node, exc.code_for(node))
            raise

    async def _judge(self, crossing: Crossing) -> None:
        node = crossing.node
        read = await self.judge.recheck(crossing.body, crossing.recipient, crossing.message, node)
        now = self.clock()
        try:
            await self.judge.receivable(read, node, now.date())
        except UnknownReceiver:
            await self.tracking.add_event(
                TrackingEvent(crossing.tracking_id, "refused", node, now, {"code": "IB210", "at": "link"})
            )
            raise
        if len(self._checked) >= self.CHECKED_KEPT:
            self._checked.pop(next(iter(self._checked)))
        self._checked[crossing.tracking_id] = (now, crossing.origin)

    async def delivered(self, crossing: Crossing) -> None:
        """The message is confirmed in its mailbox: it crossed the link (when it was checked) and is in."""
        node, tracking_id = crossing.node, crossing.tracking_id
        now = self.clock()
        checked_at, origin = self._checked.pop(tracking_id, (now, crossing.origin))
        await asyncio.gather(  # added in this order, so stored in this order (one batch)
            self.tracking.add_event(
                TrackingEvent(tracking_id, "crossed-link", node, checked_at, {"from": origin})
            ),
            self.tracking.add_event(
                TrackingEvent(tracking_id, "in-mailbox", node, now, {"mailbox": crossing.recipient})
            ),
        )
        self.observers.delivered(node, crossing.received_at)
