"""Builds the operator side of a process (:class:`gateway.ops.operations.Operations`) on the runtime's
database and broker: the broker snapshot (management API of a real RabbitMQ, else the broker's own
depths), the metrics' collectors, track & trace and the dead-letter workbench."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from adapters.db import Database
from adapters.rabbitmq import Broker, RabbitBroker
from adapters.rabbitmq.topology import shovel_name
from adapters.rabbitmq.workbench import DeadLetters
from gateway.config import OpsSettings
from gateway.errors import NodeRole
from gateway.ops.collector import SnapshotCollector
from gateway.ops.metrics import GatewayMetrics
from gateway.ops.operations import Operations
from gateway.ops.snapshot import ManagementReader, SnapshotCache, SnapshotReader
from gateway.ops.trace import Tracer
from gateway.ports import NODES
from gateway.security.audit import AuditLog


async def start_operations(
    nodes: Iterable[NodeRole],
    metrics: GatewayMetrics,
    db: Database,
    broker: Broker,
    settings: OpsSettings,
    audit: AuditLog,
    pki_dir: Path | None = None,
    amqp_reads_traced: bool = False,
) -> Operations:
    """Wire the operator side onto the runtime's database and broker (real or fake); actions go into
    ``audit``, the process's audit trail. ``pki_dir``: the directory the nodes serve TLS from
    (``GATEWAY_TLS_DIR``), whose certificates the dashboard shows; None when they serve plain HTTP.
    ``amqp_reads_traced``: the nodes see reads over AMQP (else the trace says it does not)."""
    management: ManagementReader | None = None
    if isinstance(broker, RabbitBroker):
        management = ManagementReader(
            broker.settings.management_base,
            broker.settings.management_credentials,
            {node: broker.settings.vhost(node) for node in NODES},
        )
    links = {node: shovel_name(node) for node in NODES}
    reader = SnapshotReader(
        db.registry.participants,
        management=management,
        depths=None if management is not None else broker,
        pki_dir=pki_dir,
        link_names=links,
    )
    cache = SnapshotCache(reader, max_age=settings.broker_stats_seconds)
    for node, node_metrics in metrics.nodes.items():
        node_metrics.registry.register(SnapshotCollector(cache, node, links[node]))
    dead_letters = None
    if isinstance(broker, RabbitBroker):
        dead_letters = DeadLetters(broker.sessions, audit, db.tracking)
    tracer = Tracer(db.tracking, sorted(metrics.known), amqp_reads_traced=amqp_reads_traced)
    return Operations(tuple(nodes), metrics, cache, tracer, audit, dead_letters, _management=management)
