"""The receiving node's judgement of what crossed the node link: the same read, the same registry rules.

The edge (:mod:`gateway.interfaces.link`) unpacks the broker's link message into the values here. A
:class:`gateway.errors.Rejection` dead-letters the message (it never reaches a mailbox); anything else
retries it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from gateway.errors import NodeRole, UnknownReceiver
from gateway.pipeline.judge import Judge
from gateway.ports import Tracking, TrackingEvent


def _now() -> datetime:
    return datetime.now(UTC)


class LinkJudge:
    """Judges each message that crossed the link, and records it in track & trace once in its mailbox."""

    # when each message in hand passed the check, until it is in its mailbox: both events are then written
    # together (one write per message instead of two); bounded, as a message may be retried elsewhere
    CHECKED_KEPT = 10_000

    def __init__(self, judge: Judge, tracking: Tracking, clock: Callable[[], datetime] = _now) -> None:
        self.judge = judge
        self.tracking = tracking
        self.clock = clock
        self._checked: dict[str, tuple[datetime, str]] = {}

    def __repr__(self) -> str:
        return f"LinkJudge({self.judge!r})"

    async def arrived(
        self, body: bytes, tracking_id: str, recipient: str, message: str | None, origin: str, node: NodeRole
    ) -> None:
        """Judge a message that crossed to ``node``: raises the refusal, else remembers when it passed."""
        read = await self.judge.recheck(body, recipient, message, node)
        now = self.clock()
        try:
            await self.judge.receivable(read, node, now.date())
        except UnknownReceiver:
            await self.tracking.add_event(
                TrackingEvent(tracking_id, "refused", node, now, {"code": "IB210", "at": "link"})
            )
            raise
        if len(self._checked) >= self.CHECKED_KEPT:
            self._checked.pop(next(iter(self._checked)))
        self._checked[tracking_id] = (now, origin)

    async def delivered(self, tracking_id: str, mailbox: str, origin: str, node: NodeRole) -> None:
        """The message is confirmed in its mailbox: it crossed the link (when it was checked) and is in."""
        now = self.clock()
        checked_at, origin = self._checked.pop(tracking_id, (now, origin))
        await asyncio.gather(  # added in this order, so stored in this order (one batch)
            self.tracking.add_event(
                TrackingEvent(tracking_id, "crossed-link", node, checked_at, {"from": origin})
            ),
            self.tracking.add_event(
                TrackingEvent(tracking_id, "in-mailbox", node, now, {"mailbox": mailbox})
            ),
        )
