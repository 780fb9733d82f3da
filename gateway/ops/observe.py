"""Where the metrics are fed: a counter of the pipeline's decisions, wrappers around the publisher and the link check.

They add observation without changing what they wrap: every call is passed on unchanged and every error
re-raised. Times are taken from the message's own receipt time (``received_at``), so receipt -> confirm,
receipt -> link and receipt -> mailbox share one starting point, also across the two nodes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from adapters.rabbitmq.properties import LinkMessage
from gateway.errors import NodeRole, Rejection, Unavailable
from gateway.interfaces.link import receiving_node
from gateway.metrics import GatewayMetrics
from gateway.pipeline import Decision
from gateway.ports import Delivery, Publisher


def _since(received_at: datetime) -> float:
    return (datetime.now(UTC) - received_at).total_seconds()


class MetricsCounter:
    """Counts each decision of the pipeline: accepted, resubmitted, refused (by code) or unavailable."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics

    def __repr__(self) -> str:
        return f"MetricsCounter({self.metrics!r})"

    def counted(self, decision: Decision) -> None:
        node = decision.node
        if decision.decision == "refused":
            self.metrics.refused(node, decision.sniffed, decision.code or "", decision.reason or "")
        elif decision.decision == "unavailable":
            self.metrics.unavailable(node, decision.sniffed)
        else:
            assert decision.message is not None
            self.metrics.accepted(node, decision.message, duplicate=decision.decision == "duplicate")


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
        node = receiving_node(message)
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
            self.metrics.delivered(receiving_node(message), _since(received_at))


_NOT_SUBMISSIONS = ("/v1/admin", "/v1/mailbox", "/dashboard")


def count_refusals_before_ingest(app: Any, node: NodeRole, metrics: GatewayMetrics) -> None:
    """Count the refusals of a submission made before ingest sees it (size, media type, credential, rate).

    Wraps the app's handler of :class:`gateway.errors.GatewayError`; errors the pipeline judged (and so
    counted already) are passed on unchanged.
    """
    from gateway.errors import GatewayError

    inner = app.exception_handlers.get(GatewayError)
    if inner is None:
        return

    async def counting(request: Any, exc: Exception) -> Any:
        path = request.url.path
        submission = request.method == "POST" and not path.startswith(_NOT_SUBMISSIONS)
        if submission and not getattr(exc, "judged", False):
            if isinstance(exc, Rejection):
                metrics.refused(node, None, exc.code_for(node), exc.reason)
            elif isinstance(exc, Unavailable):
                metrics.unavailable(node, None)
        return await inner(request, exc)

    app.exception_handlers[GatewayError] = counting
