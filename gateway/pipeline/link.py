"""The receiving node's judgement of what crossed the node link: the same read, the same registry rules.

The edge (:mod:`gateway.interfaces.link`) unpacks the broker's link message into the values here. A
:class:`gateway.errors.Rejection` dead-letters the message (it never reaches a mailbox); anything else
retries it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from gateway.errors import NodeRole, Rejection, UnknownReceiver
from gateway.pipeline.judge import Judge
from gateway.pipeline.observe import NOBODY, Observers
from gateway.pipeline.seal import LinkSeal
from gateway.ports import Tracking, TrackingEvent, utc_now


def arrival_events(
    tracking_id: str, node: NodeRole, origin: str, recipient: str, crossed_at: datetime, at: datetime
) -> list[TrackingEvent]:
    """What ``node`` records of a message from ``origin`` that is in ``recipient``'s mailbox there: it
    crossed the link (when it was checked) and is in, in this order."""
    return [
        TrackingEvent(tracking_id, "crossed-link", node, crossed_at, {"from": origin}),
        TrackingEvent(tracking_id, "in-mailbox", node, at, {"mailbox": recipient}),
    ]


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
    conversation_id: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # the gateway's own link headers
    seal: str | None = field(default=None, repr=False)  # the sending node's signed verdict, if it sent one


@dataclass(eq=False, repr=False)
class LinkJudge:
    """Judges each message that crossed the link, and records it in track & trace once in its mailbox.

    With a :class:`LinkSeal` (the key both nodes of the deployment share), a message whose seal holds over
    its digest, ids and headers is taken as the sending node read it (no second parse and validation); its
    recipient is still held to this node's registry. Any other message is read and validated in full.
    """

    # when each message in hand passed the check, until it is in its mailbox: both events are then written
    # together (one write per message instead of two); bounded, as a message may be retried elsewhere
    CHECKED_KEPT: ClassVar[int] = 10_000

    judge: Judge
    tracking: Tracking
    observers: Observers = NOBODY
    clock: Callable[[], datetime] = utc_now
    seal: LinkSeal | None = None
    _checked: dict[str, tuple[datetime, str]] = field(default_factory=dict, init=False)

    def __repr__(self) -> str:
        return f"LinkJudge({self.judge!r})"

    async def arrived(self, crossing: Crossing) -> bool:
        """Judge a message that crossed: raises the refusal, else remembers when it passed and returns True.

        False for a redelivery of a message this node already put in its mailbox (its ack was lost with the
        link's channel): the link acks it without publishing it again. A first delivery is not looked up.
        """
        if not crossing.first and await self.in_mailbox(crossing):
            return False
        node = crossing.node
        if crossing.first and crossing.received_at is not None:
            self.observers.crossed(node, crossing.received_at)
        try:
            await self._judge(crossing)
        except Rejection as exc:
            self.observers.refused_at_link(node, exc.code_for(node))
            raise
        return True

    async def in_mailbox(self, crossing: Crossing) -> bool:
        """This node recorded the message as in its mailbox (:meth:`delivered`)."""
        events = await self.tracking.events(crossing.tracking_id)
        return any(e.event == "in-mailbox" and e.node == crossing.node for e in events)

    async def _judge(self, crossing: Crossing) -> None:
        node = crossing.node
        if self.sealed(crossing):
            recipient = crossing.recipient  # signed: what the sending node's read found
        else:
            read = await self.judge.recheck(crossing.body, crossing.recipient, crossing.message, node)
            recipient = read.who.recipient
        now = self.clock()
        try:
            await self.judge.receives(recipient, node, now.date())
        except UnknownReceiver:
            await self.tracking.add_event(
                TrackingEvent(crossing.tracking_id, "refused", node, now, {"code": "IB210", "at": "link"})
            )
            raise
        if len(self._checked) >= self.CHECKED_KEPT:
            self._checked.pop(next(iter(self._checked)))
        self._checked[crossing.tracking_id] = (now, crossing.origin)

    def sealed(self, crossing: Crossing) -> bool:
        """The sending node of this deployment signed its verdict over exactly these bytes and headers."""
        if self.seal is None or crossing.seal is None:
            return False
        headers = crossing.headers
        if headers.get("recipient") != crossing.recipient or headers.get("message") != crossing.message:
            return False
        if headers.get("sha256") != hashlib.sha256(crossing.body).hexdigest():
            return False
        return self.seal.holds(
            crossing.seal, crossing.tracking_id, crossing.conversation_id, crossing.node, headers
        )

    async def delivered(self, crossing: Crossing) -> None:
        """The message is confirmed in its mailbox: it crossed the link (when it was checked) and is in."""
        node, tracking_id = crossing.node, crossing.tracking_id
        now = self.clock()
        checked_at, origin = self._checked.pop(tracking_id, (now, crossing.origin))
        landed = arrival_events(tracking_id, node, origin, crossing.recipient, checked_at, now)
        # added in this order, so stored in this order (one batch)
        await asyncio.gather(*(self.tracking.add_event(event) for event in landed))
        self.observers.delivered(node, crossing.received_at)
