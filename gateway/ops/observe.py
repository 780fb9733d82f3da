"""Where the metrics are fed: wrappers around ingest, the publisher and the link check.

They add observation without changing what they wrap: every call is passed on unchanged and every error
re-raised. Times are taken from the message's own receipt time (``received_at``), so receipt -> confirm,
receipt -> link and receipt -> mailbox share one starting point, also across the two nodes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from adapters.rabbitmq.properties import LinkMessage
from gateway.errors import NodeRole, Rejection, Unavailable
from gateway.ingest import Accepted, Ingest
from gateway.metrics import GatewayMetrics
from gateway.ops.sniff import message_name
from gateway.ports import Delivery, Publisher


def _since(received_at: datetime) -> float:
    return (datetime.now(UTC) - received_at).total_seconds()


class ObservedIngest(Ingest):
    """:class:`Ingest` that counts each submission as accepted, resubmitted, refused (by code) or unavailable."""

    def __init__(self, *args: Any, metrics: GatewayMetrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def submit(self, data: bytes, principal: str, *args: Any, **kwargs: Any) -> Accepted:
        try:
            accepted = await super().submit(data, principal, *args, **kwargs)
        except Rejection as exc:
            self.metrics.refused(self.node, message_name(data), exc.code_for(self.node), exc.reason)
            setattr(exc, COUNTED, True)
            raise
        except Unavailable as exc:
            self.metrics.unavailable(self.node, message_name(data))
            setattr(exc, COUNTED, True)
            raise
        self.metrics.accepted(self.node, accepted.message, duplicate=accepted.duplicate)
        return accepted


class MeasuredPublisher:
    """:class:`gateway.ports.Publisher` that times receipt -> broker confirm.

    A delivery to a mailbox on the sending node itself is in its mailbox once confirmed, so that is also
    its receipt -> mailbox time.
    """

    def __init__(self, inner: Publisher, metrics: GatewayMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def __repr__(self) -> str:
        return f"MeasuredPublisher({self.inner!r})"

    async def publish(self, delivery: Delivery) -> None:
        await self.inner.publish(delivery)
        seconds = _since(delivery.received_at)
        self.metrics.confirmed(delivery.origin_node, seconds)
        if delivery.target_node == delivery.origin_node:
            self.metrics.delivered(delivery.target_node, seconds)


class LinkCallbacks(Protocol):
    """The receiving node's link check: called for each message that crossed, then once it is delivered."""

    async def __call__(self, message: LinkMessage) -> None: ...

    async def delivered(self, message: LinkMessage) -> None: ...


def _receiving(message: LinkMessage) -> NodeRole:
    return "ggk" if message.properties.headers.get("origin-node") == "vecozo" else "vecozo"


def _received_at(message: LinkMessage) -> datetime | None:
    try:
        at = datetime.fromisoformat(message.properties.headers.get("received-at", ""))
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class MeasuredLink:
    """Wraps the link check: link lag on arrival, refusals at the link by code, receipt -> mailbox."""

    def __init__(self, inner: LinkCallbacks, metrics: GatewayMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def __repr__(self) -> str:
        return f"MeasuredLink({self.inner!r})"

    async def __call__(self, message: LinkMessage) -> None:
        node = _receiving(message)
        received_at = _received_at(message)
        if received_at is not None and not getattr(message, "delivery_count", 0):  # first arrival only
            self.metrics.crossed(node, _since(received_at))
        try:
            await self.inner(message)
        except Rejection as exc:
            self.metrics.link_refused(node, exc.code_for(node))
            raise

    async def delivered(self, message: LinkMessage) -> None:
        await self.inner.delivered(message)
        received_at = _received_at(message)
        if received_at is not None:
            self.metrics.delivered(_receiving(message), _since(received_at))


_NOT_SUBMISSIONS = ("/v1/admin", "/v1/mailbox", "/dashboard")
COUNTED = "_gateway_counted"  # set on an error ingest has counted already


def count_refusals_before_ingest(app: Any, node: NodeRole, metrics: GatewayMetrics) -> None:
    """Count the refusals of a submission made before ingest sees it (size, media type, credential, rate).

    Wraps the app's handler of :class:`gateway.errors.GatewayError`; errors that ingest counted already
    carry a mark and are passed on unchanged.
    """
    from gateway.errors import GatewayError

    inner = app.exception_handlers.get(GatewayError)
    if inner is None:
        return

    async def counting(request: Any, exc: Exception) -> Any:
        path = request.url.path
        submission = request.method == "POST" and not path.startswith(_NOT_SUBMISSIONS)
        if submission and not getattr(exc, COUNTED, False):
            if isinstance(exc, Rejection):
                metrics.refused(node, None, exc.code_for(node), exc.reason)
            elif isinstance(exc, Unavailable):
                metrics.unavailable(node, None)
        return await inner(request, exc)

    app.exception_handlers[GatewayError] = counting
