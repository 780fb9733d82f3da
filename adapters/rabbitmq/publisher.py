"""The broker side of :class:`gateway.ports.Publisher`."""

from __future__ import annotations

from typing import Any

import aiormq
import structlog

from adapters.rabbitmq.properties import properties_for
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import LOCAL_SHOVEL_URI, BrokerSettings
from adapters.rabbitmq.topology import MAILBOX, OUTBOUND, link_from
from gateway.pipeline.seal import SEAL_HEADER, LinkSeal
from gateway.ports import Delivery
from gateway.privacy.bsnkey import load_or_create_key

log = structlog.get_logger("adapters.rabbitmq")


def link_seal(settings: BrokerSettings) -> LinkSeal | None:
    """The seal of the node link's verdicts with the deployment's shared key (made when missing), or None
    when the settings turn it off."""
    if not settings.link_seal:
        return None
    try:
        return LinkSeal(load_or_create_key(settings.link_key_file))
    except (OSError, ValueError) as exc:  # no key to share: every message is checked in full, as before
        log.warning("link.seal_unavailable", error=type(exc).__name__)
        return None


def one_cluster(settings: BrokerSettings) -> bool:
    """Both node roles live on one cluster (neither shovel URI names another) and the settings let the
    sending node publish straight into the other node's incoming link queue."""
    uris = (settings.shovel_uri_ggk, settings.shovel_uri_vecozo)
    return settings.link_direct and all(uri == LOCAL_SHOVEL_URI for uri in uris)


class RabbitPublisher:
    """Publishes on the origin node's vhost: to ``outbound`` (key = target node) when the message must cross
    the node link, else straight to ``mailbox`` (key = recipient). Persistent, mandatory, confirmed.

    With a :class:`LinkSeal` a message for the other node carries the node's signed verdict (header
    ``link-seal``): the receiving node of the same deployment then need not parse and validate it again.
    With ``direct`` (both nodes on one cluster, :func:`one_cluster`) such a message is published straight
    into the other node's ``link.from-*`` queue on its vhost, where the shovel would have put it: one quorum
    queue and the shovel's move fewer, the same confirm before the ``202``. With ``into_mailbox`` as well
    (and a seal: the two nodes trust each other) it goes straight into the recipient's mailbox on the other
    node's vhost, with exactly the properties the link consumer puts there (no seal header), and
    :meth:`publish` answers True: the sending node records what the link consumer would have.

    Returns only after the broker confirmed; raises :class:`gateway.errors.Unavailable` on a nack, an
    unroutable message, a lost or refused connection, or no confirm within the confirm timeout.
    """

    def __init__(
        self,
        sessions: Sessions,
        seal: LinkSeal | None = None,
        *,
        direct: bool = False,
        into_mailbox: bool = False,
    ) -> None:
        self._sessions = sessions
        self._seal = seal
        self._direct = direct
        self._into_mailbox = direct and into_mailbox and seal is not None

    def __repr__(self) -> str:
        return (
            f"RabbitPublisher({self._sessions!r}, sealed={self._seal is not None}, direct={self._direct}, "
            f"into_mailbox={self._into_mailbox})"
        )

    async def publish(self, delivery: Delivery) -> bool | None:
        origin, target = delivery.origin_node, delivery.target_node
        if target == origin or self._into_mailbox:
            await self._sessions[target].publish_body(
                MAILBOX, delivery.recipient, delivery.body, properties_for(delivery)
            )
            return target != origin
        if self._direct:  # the default exchange routes by queue name
            await self._sessions[target].publish_body(
                "", link_from(target), delivery.body, self._crossing(delivery)
            )
        else:
            await self._sessions[origin].publish_body(
                OUTBOUND, target, delivery.body, self._crossing(delivery)
            )
        return None

    def _crossing(self, delivery: Delivery) -> aiormq.spec.Basic.Properties:
        if self._seal is None:
            return properties_for(delivery)
        headers: dict[str, Any] = delivery.amqp_headers()
        headers[SEAL_HEADER] = self._seal.sign(
            delivery.tracking_id, delivery.conversation_id, delivery.target_node, headers
        )
        return properties_for(delivery, headers)
