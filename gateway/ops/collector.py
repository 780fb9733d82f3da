"""Renders the cached broker snapshot as Prometheus gauges of one node (at scrape time, no I/O)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gateway.errors import NodeRole
from gateway.ops.snapshot import SnapshotCache


def _depths(
    name: str, documentation: str, label: str, node: NodeRole, depths: Mapping[tuple[NodeRole, str], int]
) -> GaugeMetricFamily:
    """One gauge of queue depths by (node, ``label``): those of ``node``, sorted."""
    gauge = GaugeMetricFamily(name, documentation, labels=["node", label])
    for (where, key), depth in sorted(depths.items()):
        if where == node:
            gauge.add_metric([node, key], float(depth))
    return gauge


class SnapshotCollector(Collector):
    """Mailbox and DLQ depths, link state and queues, certificate expiry: this node's share."""

    def __init__(self, cache: SnapshotCache, node: NodeRole, link_name: str | None = None) -> None:
        self.cache = cache
        self.node = node
        self.link_name = link_name

    def __repr__(self) -> str:
        return f"SnapshotCollector(node={self.node!r})"

    def describe(self) -> Iterator[Metric]:
        return iter(())  # the families depend on the snapshot; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        node = self.node
        snap = self.cache.current
        age = GaugeMetricFamily(
            "gateway_broker_snapshot_age_seconds",
            "Age of the cached broker figures (-1: none read yet)",
            labels=["node"],
        )
        seconds = self.cache.age()
        age.add_metric([node], -1.0 if seconds is None else seconds)
        yield age
        reads = CounterMetricFamily(
            "gateway_broker_snapshot_reads", "Broker snapshots taken by this process", labels=["node"]
        )
        reads.add_metric([node], float(self.cache.reads))
        yield reads
        if snap is None:
            return
        errors = GaugeMetricFamily(
            "gateway_broker_snapshot_errors",
            "Parts of the last snapshot that could not be read (registry, broker, pki)",
            labels=["node"],
        )
        errors.add_metric([node], float(len(snap.errors)))
        yield errors
        yield _depths(
            "gateway_mailbox_messages",
            "Messages in a participant's mailbox (ready plus leased)",
            "party",
            node,
            snap.mailboxes,
        )
        dlq = GaugeMetricFamily(
            "gateway_dlq_messages", "Messages in the node's dead-letter queue", labels=["node"]
        )
        if node in snap.dlq:
            dlq.add_metric([node], float(snap.dlq[node]))
        yield dlq
        yield _depths(
            "gateway_link_queue_messages",
            "Messages waiting in the node link queues (link.to-X: not yet shovelled; link.from-X: not yet checked)",
            "queue",
            node,
            snap.link_queues,
        )
        if self.link_name is not None and self.link_name in snap.links:
            up = GaugeMetricFamily(
                "gateway_link_up", "1 when the node link (shovel) from this node is running", labels=["link"]
            )
            up.add_metric([self.link_name], 1.0 if snap.link_up(self.link_name) else 0.0)
            yield up
        expiry = GaugeMetricFamily(
            "gateway_certificate_expiry_days",
            "Days until a certificate of the PKI directory expires (negative: expired)",
            labels=["certificate"],
        )
        for cert in snap.certificates:
            if self._concerns(cert.name, cert.party, snap.homes):
                expiry.add_metric([cert.name], round(cert.days_left, 3))
        yield expiry

    def _concerns(self, name: str, party: str | None, homes: Mapping[str, NodeRole]) -> bool:
        """The CA, this node's own certificate, and the certificates of parties homed on this node."""
        if name.startswith("nodes/"):
            return name == f"nodes/{self.node}.pem"
        if party is not None and party in homes:
            return homes[party] == self.node
        return True
