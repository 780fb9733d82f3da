"""The node link as an interface: unpacks what the other node's shovel brought into a
:class:`gateway.pipeline.link.Crossing` for the pipeline's :class:`gateway.pipeline.LinkJudge` (the
receiving node judges it again)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from adapters.rabbitmq.properties import LinkMessage
from gateway.errors import NodeRole
from gateway.pipeline import LinkJudge
from gateway.pipeline.link import Crossing
from gateway.pipeline.seal import SEAL_HEADER


class LinkCallbacks(Protocol):
    """What the broker calls for each message that crossed, then once it is delivered."""

    async def __call__(self, message: LinkMessage) -> bool | None: ...

    async def delivered(self, message: LinkMessage) -> None: ...


def receiving_node(message: LinkMessage) -> NodeRole:
    """The node a link message crossed to: the other one than where it came from."""
    return "ggk" if message.properties.headers.get("origin-node") == "vecozo" else "vecozo"


def _received_at(message: LinkMessage) -> datetime | None:
    try:
        at = datetime.fromisoformat(message.properties.headers.get("received-at", ""))
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def crossing(message: LinkMessage, with_body: bool = True) -> Crossing:
    headers = message.properties.headers
    return Crossing(
        node=receiving_node(message),
        tracking_id=message.tracking_id,
        recipient=message.recipient,
        message=headers.get("message"),
        origin=headers.get("origin-node") or "",
        received_at=_received_at(message),
        first=message.delivery_count == 0,
        body=message.body if with_body else b"",
        conversation_id=message.properties.correlation_id,
        headers=headers,
        seal=headers.get(SEAL_HEADER),
    )


class LinkCheck:
    """The broker's :class:`LinkCallbacks`, handing each message to the link's judge."""

    def __init__(self, judge: LinkJudge) -> None:
        self.judge = judge

    def __repr__(self) -> str:
        return f"LinkCheck({self.judge!r})"

    async def __call__(self, message: LinkMessage) -> bool:
        return await self.judge.arrived(crossing(message))

    async def delivered(self, message: LinkMessage) -> None:
        await self.judge.delivered(crossing(message, with_body=False))
