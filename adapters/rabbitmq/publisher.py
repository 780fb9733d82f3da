"""The broker side of :class:`gateway.ports.Publisher`."""

from __future__ import annotations

from adapters.rabbitmq.properties import properties_for
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.topology import MAILBOX, OUTBOUND
from gateway.ports import Delivery


class RabbitPublisher:
    """Publishes on the origin node's vhost: to ``outbound`` (key = target node) when the message must cross
    the node link, else straight to ``mailbox`` (key = recipient). Persistent, mandatory, confirmed.

    Returns only after the broker confirmed; raises :class:`gateway.errors.Unavailable` on a nack, an
    unroutable message, a lost or refused connection, or no confirm within the confirm timeout.
    """

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def __repr__(self) -> str:
        return f"RabbitPublisher({self._sessions!r})"

    async def publish(self, delivery: Delivery) -> None:
        session = self._sessions[delivery.origin_node]
        properties = properties_for(delivery)
        if delivery.target_node != delivery.origin_node:
            await session.publish_body(OUTBOUND, delivery.target_node, delivery.body, properties)
        else:
            await session.publish_body(MAILBOX, delivery.recipient, delivery.body, properties)
