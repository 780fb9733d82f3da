"""Prometheus metrics of a gateway process: one registry per node, never the global default.

Labels hold node roles, standards, catalogue message names, chain codes, party codes and queue names: all
bounded sets, none of them personal data, and never a tracking id. A refused message whose type cannot be
told is counted under ``unknown``.

Counters and histograms are updated where a message passes (see :mod:`gateway.ops.observe`); the broker
figures (mailbox and DLQ depths, link state, certificate expiry) come from a cached snapshot that a
collector renders at scrape time (:mod:`gateway.ops.snapshot`), so a scrape never calls the broker itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.registry import Collector

from gateway.errors import NodeRole
from gateway.ops.window import RateWindow

UNKNOWN = "unknown"
_UNSEEN: Any = object()
_MOST_ACCEPTING = 4096  # (node, message name) pairs whose children are kept (names outside the catalogue too)

# receipt -> broker confirm: milliseconds normally, seconds when the disk stalls
CONFIRM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# receipt -> mailbox and link lag: the shovel and the receiving node's check come on top
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True, slots=True)
class MessageLabel:
    """The (standard, message) labels of one message: ``("ijw", "JW315")`` or ``("unknown", "unknown")``."""

    standard: str = UNKNOWN
    message: str = UNKNOWN

    @classmethod
    def of(cls, message: str) -> MessageLabel:
        """The labels of a catalogue message name (``JW301`` -> ijw, ``WMO301`` -> iwmo)."""
        if message.startswith("WMO"):
            return cls("iwmo", message)
        if message.startswith("JW"):
            return cls("ijw", message)
        return cls()


class NodeMetrics:
    """Every metric family of one node, in that node's own registry."""

    def __init__(self, node: NodeRole) -> None:
        self.node = node
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        kinds = ["node", "standard", "message"]
        self.received = Counter(
            "gateway_messages_received", "Messages submitted to this node", kinds, registry=r
        )
        self.accepted = Counter(
            "gateway_messages_accepted",
            "Messages accepted (202 after the broker confirmed), resubmissions not counted",
            kinds,
            registry=r,
        )
        self.resubmitted = Counter(
            "gateway_messages_resubmitted",
            "Resubmissions of the same bytes, answered with the first result",
            kinds,
            registry=r,
        )
        self.refused = Counter(
            "gateway_messages_refused",
            "Messages refused, by chain code (StUF055, IB210, CC02, ...)",
            [*kinds, "code"],
            registry=r,
        )
        self.unavailable = Counter(
            "gateway_messages_unavailable",
            "Submissions answered 503 (broker or database unavailable)",
            kinds,
            registry=r,
        )
        self.link_refused = Counter(
            "gateway_link_refused",
            "Messages that crossed the node link into this node and were refused there (dead-lettered)",
            ["node", "code"],
            registry=r,
        )
        self.confirm_seconds = Histogram(
            "gateway_receipt_to_confirm_seconds",
            "From receipt at this node to the broker's publisher confirm",
            ["node"],
            buckets=CONFIRM_BUCKETS,
            registry=r,
        )
        self.mailbox_seconds = Histogram(
            "gateway_receipt_to_mailbox_seconds",
            "From receipt at the sending node to the confirmed delivery into a mailbox of this node",
            ["node"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.link_lag_seconds = Histogram(
            "gateway_link_lag_seconds",
            "From receipt at the sending node to arrival over the node link at this node",
            ["node"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )

    def __repr__(self) -> str:
        return f"NodeMetrics(node={self.node!r})"


class GatewayMetrics:
    """The metrics of one gateway process (one :class:`NodeMetrics` per node it serves) plus the short
    in-memory windows the operator dashboard draws from."""

    def __init__(self, nodes: Iterable[NodeRole], known_messages: Iterable[str] = ()) -> None:
        self.nodes: dict[NodeRole, NodeMetrics] = {node: NodeMetrics(node) for node in nodes}
        self.known = frozenset(known_messages)
        self.accepted_window = RateWindow()  # (node, message) -> accepted per bucket
        self.refused_window = RateWindow()  # (node, code, reason) -> refused per bucket
        # each metric's child per label values, found once: prometheus_client's labels() takes a lock and
        # checks every value on each call (a few per message); bounded, as every label is
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        # what an accepted message counts, per (node, message name): its labels' received and accepted
        # children and the window's key (bounded by the nodes and the catalogue's names, "unknown" beyond it)
        self._accepting: dict[tuple[NodeRole, str], tuple[Any, Any, tuple[str, str]] | None] = {}
        # each histogram's child's observe per (node, histogram, anywhere), found once
        self._observers: dict[tuple[NodeRole, str, bool], Any] = {}

    def __repr__(self) -> str:
        return f"GatewayMetrics(nodes={sorted(self.nodes)!r})"

    def _node(self, node: NodeRole) -> NodeMetrics | None:
        return self.nodes.get(node)

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def label(self, message: str | None) -> MessageLabel:
        """Bounded labels: a message name outside the catalogue counts as ``unknown``."""
        if not message or (self.known and message not in self.known):
            return MessageLabel()
        return MessageLabel.of(message)

    def register(self, collector: Collector) -> None:
        """Add a collector (e.g. the broker snapshot) to every node's registry."""
        for metrics in self.nodes.values():
            metrics.registry.register(collector)

    # --- what ingest and the link report --------------------------------------------------------------

    def accepted(self, node: NodeRole, message: str, *, duplicate: bool = False) -> None:
        if not duplicate:  # the common case, its children found once
            key = (node, message)
            found = self._accepting.get(key, _UNSEEN)
            if found is _UNSEEN:
                found = self._accepting[key] = self._accepting_children(node, message)
            if found is not None:
                received, accepted, window = found
                received.inc()
                accepted.inc()
                self.accepted_window.add(window)
            return
        m = self._node(node)
        if m is None:
            return
        lab = self.label(message)
        self._child(m.received, node, lab.standard, lab.message).inc()
        if duplicate:
            self._child(m.resubmitted, node, lab.standard, lab.message).inc()
            return
        self._child(m.accepted, node, lab.standard, lab.message).inc()
        self.accepted_window.add((node, lab.message))

    def _accepting_children(self, node: NodeRole, message: str) -> tuple[Any, Any, tuple[str, str]] | None:
        m = self._node(node)
        if m is None:
            return None
        if len(self._accepting) >= _MOST_ACCEPTING:
            self._accepting.clear()
        lab = self.label(message)
        received = self._child(m.received, node, lab.standard, lab.message)
        return received, self._child(m.accepted, node, lab.standard, lab.message), (node, lab.message)

    def refused(self, node: NodeRole, message: str | None, code: str, reason: str = "") -> None:
        m = self._node(node)
        if m is None:
            return
        lab = self.label(message)
        self._child(m.received, node, lab.standard, lab.message).inc()
        self._child(m.refused, node, lab.standard, lab.message, code).inc()
        self.refused_window.add((node, code, reason))

    def unavailable(self, node: NodeRole, message: str | None) -> None:
        m = self._node(node)
        if m is None:
            return
        lab = self.label(message)
        self._child(m.received, node, lab.standard, lab.message).inc()
        self._child(m.unavailable, node, lab.standard, lab.message).inc()

    def confirmed(self, node: NodeRole, seconds: float) -> None:
        self._observe(node, "confirm_seconds", seconds)

    def crossed(self, node: NodeRole, seconds: float) -> None:
        self._observe(node, "link_lag_seconds", seconds, anywhere=True)

    def delivered(self, node: NodeRole, seconds: float) -> None:
        self._observe(node, "mailbox_seconds", seconds, anywhere=True)

    def _observe(self, node: NodeRole, histogram: str, seconds: float, *, anywhere: bool = False) -> None:
        """A duration in one of ``node``'s histograms, labelled ``node``. A node this process does not serve
        counts nothing, unless ``anywhere``: then it goes into the histogram of a node this process serves,
        still labelled ``node`` (a sending node that put a message straight into the other node's mailbox
        observes that node's link lag and delivery; its dashboard leaves such series out)."""
        key = (node, histogram, anywhere)
        observe = self._observers.get(key)
        if observe is None:
            m = self.nodes.get(node)
            if m is None and anywhere:
                m = next(iter(self.nodes.values()), None)
            if m is None:
                return
            observe = self._observers[key] = self._child(getattr(m, histogram), node).observe
        observe(seconds if seconds > 0.0 else 0.0)

    def link_refused(self, node: NodeRole, code: str) -> None:
        m = self._node(node)
        if m is not None:
            self._child(m.link_refused, node, code).inc()
