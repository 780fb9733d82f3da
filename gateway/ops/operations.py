"""Everything operators see and do, built once per runtime (:mod:`gateway.wiring.operations`): metrics,
broker snapshot, track & trace, dead-letter workbench and audit trail; plus the one summary the dashboard
and ``gateway status`` show."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from prometheus_client import Histogram

from gateway.errors import NodeRole
from gateway.ops.deadletters import Workbench
from gateway.ops.metrics import GatewayMetrics
from gateway.ops.session import Revocations
from gateway.ops.snapshot import ManagementReader, Snapshot, SnapshotCache
from gateway.ops.trace import Tracer
from gateway.security.audit import AuditLog

CERT_WARN_DAYS = 30


@dataclass
class Operations:
    """The operator side of one gateway process."""

    nodes: tuple[NodeRole, ...]
    metrics: GatewayMetrics
    snapshot: SnapshotCache
    tracer: Tracer
    audit: AuditLog | None = None
    dead_letters: Workbench | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _management: ManagementReader | None = None
    sessions: Revocations = field(default_factory=Revocations)  # dashboard sessions signed out early

    def __repr__(self) -> str:
        return f"Operations(nodes={self.nodes!r}, dead_letters={self.dead_letters is not None})"

    async def close(self) -> None:
        await self.snapshot.close()
        if self._management is not None:
            await self._management.aclose()

    # --- the summary ---------------------------------------------------------------------------------

    async def summary(self, *, fresh: bool = False, node: NodeRole | None = None) -> dict[str, Any]:
        """Throughput, refusals, latencies, mailboxes, DLQs, links and certificates, as plain JSON.

        With ``node`` the message figures, mailboxes and dead letters are that node's own (``scope`` says
        so); the node link and the certificates concern the whole gateway either way."""
        snap = await (self.snapshot.fresh() if fresh else self.snapshot.get())
        m = self.metrics

        def own(key: object) -> bool:
            assert isinstance(key, tuple)
            return node is None or key[0] == node

        starts, series = m.accepted_window.series()
        by_message: dict[str, list[int]] = {}
        for key, counts in series.items():
            if not own(key):
                continue
            assert isinstance(key, tuple)
            row = by_message.setdefault(str(key[1]), [0] * len(counts))
            for i, n in enumerate(counts):
                row[i] += n
        accepted_15 = sum(sum(v) for v in by_message.values())
        refused = {key: n for key, n in m.refused_window.totals().items() if own(key)}
        refused_15 = sum(refused.values())
        last_minute = sum(n for key, n in m.accepted_window.totals(60).items() if own(key))
        total = accepted_15 + refused_15
        nodes = tuple(n for n in self.nodes if node is None or n == node)
        return {
            "generatedAt": datetime.now(UTC).isoformat(),
            "startedAt": self.started_at.isoformat(),
            "node": node,
            "scope": "node" if node is not None else "gateway",
            "nodes": list(nodes),
            "throughput": {
                "bucketSeconds": m.accepted_window.bucket_seconds,
                "starts": starts,
                "series": dict(sorted(by_message.items())),
            },
            "window": {
                "accepted": accepted_15,
                "refused": refused_15,
                "refusalRate": round(refused_15 / total, 4) if total else 0.0,
                "acceptedLastMinute": last_minute,
            },
            "topRefusals": _top_refusals(refused),
            "totals": {n: v for n, v in self._totals().items() if n in nodes},
            "latency": {n: v for n, v in self._latency().items() if n in nodes},
            **_broker_part(snap, self.snapshot.age(), node),
        }

    def _totals(self) -> dict[str, dict[str, Any]]:
        return self._per_node(_sum, _TOTALS)

    def _latency(self) -> dict[str, dict[str, Any]]:
        return self._per_node(_quantiles, _LATENCY)

    def _per_node(
        self, figure: Callable[[Any, NodeRole], Any], names: Mapping[str, str]
    ) -> dict[str, dict[str, Any]]:
        """Per node, ``figure`` of each metric in ``names`` (answer key -> metric attribute)."""
        return {
            node: {key: figure(getattr(nm, attr), node) for key, attr in names.items()}
            for node, nm in self.metrics.nodes.items()
        }


# the dashboard's totals and latencies: answer key -> the metric of a node (gateway.ops.metrics)
_TOTALS: Final = {
    "received": "received",
    "accepted": "accepted",
    "resubmitted": "resubmitted",
    "refused": "refused",
    "unavailable": "unavailable",
    "linkRefused": "link_refused",
}
_LATENCY: Final = {"confirm": "confirm_seconds", "mailbox": "mailbox_seconds", "linkLag": "link_lag_seconds"}


def _sum(metric: Any, node: NodeRole) -> float:
    total = 0.0
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return total


def _quantiles(histogram: Histogram, node: NodeRole) -> dict[str, float | None]:
    """Count, mean and p50/p95 (interpolated within the buckets, seconds) over the label sets of ``node``
    (not those of the other node that a sending node observed for it)."""
    buckets: dict[float, float] = {}
    count = total = 0.0
    for family in histogram.collect():
        for s in family.samples:
            if s.labels.get("node", node) != node:
                continue
            if s.name.endswith("_bucket"):
                le = float(s.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + s.value
            elif s.name.endswith("_count"):
                count += s.value
            elif s.name.endswith("_sum"):
                total += s.value
    out: dict[str, float | None] = {"count": count, "mean": (total / count) if count else None}
    bounds = sorted(buckets.items())
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        out[name] = _quantile(bounds, count, q)
    return out


def _quantile(bounds: list[tuple[float, float]], count: float, q: float) -> float | None:
    if not count:
        return None
    rank = q * count
    lower, below = 0.0, 0.0
    for le, cumulative in bounds:
        if cumulative >= rank:
            if le == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, cumulative
    return lower


def _top_refusals(refused: dict[Any, int], top: int = 8) -> list[dict[str, Any]]:
    """Refusals grouped by chain code, most frequent first; each with its reasons, most frequent first."""
    by_code: dict[str, dict[str, int]] = {}
    for key, n in refused.items():
        code, reason = str(key[1]), str(key[2])
        reasons = by_code.setdefault(code, {})
        reasons[reason] = reasons.get(reason, 0) + n
    ranked = sorted(by_code.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]
    rows = []
    for code, reasons in ranked:
        ordered = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(
            {
                "code": code,
                "count": sum(reasons.values()),
                "reason": ordered[0][0],
                "reasons": [{"reason": r, "count": n} for r, n in ordered],
            }
        )
    return rows


def _broker_part(snap: Snapshot | None, age: float | None, node: NodeRole | None = None) -> dict[str, Any]:
    if snap is None:
        return {"broker": {"read": False, "age": None, "errors": ["no broker figures yet"]}}
    certificates = sorted(snap.certificates, key=lambda c: c.days_left)
    return {
        "broker": {
            "read": True,
            "takenAt": snap.taken_at.isoformat(),
            "age": None if age is None else round(age, 1),
            "errors": list(snap.errors),
        },
        "mailboxes": [
            {"node": where, "party": party, "messages": depth}
            for (where, party), depth in sorted(snap.mailboxes.items(), key=lambda kv: (-kv[1], kv[0]))
            if node is None or where == node
        ],
        "dlq": {where: n for where, n in snap.dlq.items() if node is None or where == node},
        "links": [
            {"name": name, "state": state, "up": state == "running"} for name, state in snap.links.items()
        ],
        "linkQueues": [
            {"node": node, "queue": queue, "messages": depth}
            for (node, queue), depth in sorted(snap.link_queues.items())
        ],
        "certificates": [
            {
                "certificate": c.name,
                "daysLeft": round(c.days_left, 1),
                "warn": c.days_left < CERT_WARN_DAYS,
            }
            for c in certificates
        ],
    }
