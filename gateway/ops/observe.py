"""Where the metrics are fed: the pipeline's and the node link's hooks, and the refusals made at the edge.

:class:`MetricsCounter` is a :class:`gateway.pipeline.Counter`: the pipeline and the link's judge call it
with what happened, and it changes nothing. Times are taken from the message's own receipt time
(``received_at``), so receipt -> confirm, receipt -> link and receipt -> mailbox share one starting point,
also across the two nodes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.errors import GatewayError, NodeRole, Rejection, Unavailable
from gateway.ops.metrics import GatewayMetrics
from gateway.pipeline import Decision
from gateway.ports import Delivery


def _since(received_at: datetime) -> float:
    return (datetime.now(UTC) - received_at).total_seconds()


class MetricsCounter:
    """Counts each decision (accepted, resubmitted, refused by code, unavailable) and times each message:
    receipt -> broker confirm, link lag, receipt -> mailbox; counts refusals at the link by code."""

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

    def published(self, delivery: Delivery) -> None:
        """The broker confirmed a delivery; one to a mailbox on the sending node itself is then in it."""
        seconds = _since(delivery.received_at)
        self.metrics.confirmed(delivery.origin_node, seconds)
        if delivery.target_node == delivery.origin_node:
            self.metrics.delivered(delivery.target_node, seconds)

    def crossed(self, node: NodeRole, received_at: datetime | None) -> None:
        """A message arrived over the link for the first time."""
        if received_at is not None:
            self.metrics.crossed(node, _since(received_at))

    def refused_at_link(self, node: NodeRole, code: str) -> None:
        self.metrics.link_refused(node, code)

    def delivered(self, node: NodeRole, received_at: datetime | None) -> None:
        """A message that crossed the link is confirmed in its mailbox."""
        if received_at is not None:
            self.metrics.delivered(node, _since(received_at))


_NOT_SUBMISSIONS = ("/v1/admin", "/v1/mailbox", "/dashboard")


def count_edge_refusal(
    metrics: GatewayMetrics, node: NodeRole, method: str, path: str, exc: GatewayError
) -> None:
    """Count a refusal of a submission made at the edge, before the pipeline saw it (size, media type,
    credential, rate); errors the pipeline judged were counted already."""
    submission = method == "POST" and not path.startswith(_NOT_SUBMISSIONS)
    if not submission or exc.judged:
        return
    if isinstance(exc, Rejection):
        metrics.refused(node, None, exc.code_for(node), exc.reason)
    elif isinstance(exc, Unavailable):
        metrics.unavailable(node, None)
