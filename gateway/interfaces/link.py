"""The node link as an interface: unpacks what the other node's shovel brought and hands it to the
pipeline's :class:`gateway.pipeline.LinkJudge` (the receiving node judges it again)."""

from __future__ import annotations

from adapters.rabbitmq.properties import LinkMessage
from gateway.errors import NodeRole
from gateway.pipeline import LinkJudge


def receiving_node(message: LinkMessage) -> NodeRole:
    """The node a link message crossed to: the other one than where it came from."""
    return "ggk" if message.properties.headers.get("origin-node") == "vecozo" else "vecozo"


class LinkCheck:
    """The link callbacks of the broker: each message that crossed, then each once in its mailbox."""

    def __init__(self, judge: LinkJudge) -> None:
        self.judge = judge

    def __repr__(self) -> str:
        return f"LinkCheck({self.judge!r})"

    async def __call__(self, message: LinkMessage) -> None:
        headers = message.properties.headers
        await self.judge.arrived(
            message.body,
            message.tracking_id,
            message.recipient,
            headers.get("message"),
            headers.get("origin-node") or "",
            receiving_node(message),
        )

    async def delivered(self, message: LinkMessage) -> None:
        origin = message.properties.headers.get("origin-node") or ""
        await self.judge.delivered(message.tracking_id, message.recipient, origin, receiving_node(message))
