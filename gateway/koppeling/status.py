"""A message's ``Berichtstatus`` from the events of its way: the same facts track & trace shows.

| event (node)                               | Berichtstatus        |
|--------------------------------------------|----------------------|
| received                                   | Ontvangen            |
| routed (checked, claimed, not yet published) | WordtVerwerkt      |
| published (the broker confirmed it)        | VerwerkingVoltooid   |
| crossed-link, in-mailbox, fetched, redriven | WordtAangeboden     |
| acked (the addressee confirmed receipt)    | Bezorgd              |
| dead-lettered (refused on the link, delivery limit) | AanbiedenMislukt |
| discarded (an operator dropped the dead letter) | BezorgingAfgebroken |
| refused                                    | AfgekeurdDoorDienst  |

``fetched`` is a lease (HTTP) or a move to the REST pull list: the message may still come back, so it is
still being offered; only the addressee's confirmation (``acked``: the HTTP ack, REST ``DELETE``) makes it
Bezorgd. A reader over AMQP acknowledges to the broker only: its read is seen only where the node traces
AMQP deliveries (RabbitMQ's firehose, opt-in), as ``fetched`` via ``amqp``, and that delivery to the
addressee's own broker user is Bezorgd; without the trace its messages stay WordtAangeboden. The statuses
DeelsOntvangen and DeelberichtAanleveringAfgekeurd belong to messages sent in parts, which this node does
not take. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.ports import TrackingEvent

STATUS_OF = {
    "received": "Ontvangen",
    "routed": "WordtVerwerkt",
    "published": "VerwerkingVoltooid",
    "crossed-link": "WordtAangeboden",
    "in-mailbox": "WordtAangeboden",
    "fetched": "WordtAangeboden",
    "redriven": "WordtAangeboden",
    "acked": "Bezorgd",
    "dead-lettered": "AanbiedenMislukt",
    "discarded": "BezorgingAfgebroken",
    "refused": "AfgekeurdDoorDienst",
}

AMQP = "amqp"  # ``via`` of a ``fetched`` event: a delivery over AMQP, seen by the firehose watcher

# how far along the way each status is: a later event of an earlier stage (a lease after the ack was
# recorded, a redelivery) does not move the status back
_RANK = {
    "Ontvangen": 0,
    "WordtVerwerkt": 1,
    "VerwerkingVoltooid": 2,
    "WordtAangeboden": 3,
    "AanbiedenMislukt": 4,
    "BezorgingAfgebroken": 5,
    "Bezorgd": 6,
    "AfgekeurdDoorDienst": 7,
}


@dataclass(frozen=True, slots=True)
class Stand:
    """Where a message stands: its status, since when, and the refusal's code and reason when refused."""

    status: str
    since: datetime
    refusal: TrackingEvent | None = None


def stand(events: Sequence[TrackingEvent], received_at: datetime) -> Stand:
    """The status the events reach. A dead letter that was redriven is offered again; otherwise the furthest
    stage wins, and among equals the latest event."""
    current = Stand("Ontvangen", received_at)
    rank = 0
    for event in sorted(events, key=lambda e: e.at):
        status = STATUS_OF.get(event.event)
        if event.event == "fetched" and event.detail.get("via") == AMQP:
            status = "Bezorgd"  # handed to the addressee's own AMQP consumer: nothing of ours follows
        if status is None:
            continue
        redrive = event.event == "redriven" and current.status == "AanbiedenMislukt"
        if redrive or _RANK[status] >= rank:
            current = Stand(status, event.at, event if event.event == "refused" else None)
            rank = _RANK[status]
    return current
