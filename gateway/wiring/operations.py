"""Builds the operator side of a process (:class:`gateway.ops.operations.Operations`) on the runtime's
database and broker: the broker snapshot (management API of a real RabbitMQ, else the broker's own
depths), the metrics' collectors, track & trace and the dead-letter workbench."""

from __future__ import annotations

from adapters.db import Database
from adapters.rabbitmq import Broker, RabbitBroker
from adapters.rabbitmq.topology import shovel_name
from adapters.rabbitmq.workbench import DeadLetters
from gateway.config import Settings
from gateway.ops.collector import SnapshotCollector
from gateway.ops.metrics import GatewayMetrics
from gateway.ops.operations import Operations
from gateway.ops.snapshot import ManagementReader, SnapshotCache, SnapshotReader
from gateway.ops.trace import Tracer
from gateway.ports import NODES
from gateway.security.audit import AuditLog


async def start_operations(
    settings: Settings, metrics: GatewayMetrics, db: Database, broker: Broker, audit: AuditLog
) -> Operations:
    """Wire the operator side of ``settings.nodes`` onto the runtime's database and broker (real or fake);
    actions go into ``audit``, the process's audit trail. The dashboard shows the certificates of the
    directory the nodes serve TLS from (``GATEWAY_TLS_DIR``; none when they serve plain HTTP); the trace says
    whether the nodes see reads over AMQP (``GATEWAY_TRACE_AMQP_DELIVERIES``)."""
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
        pki_dir=settings.security.tls_dir,
        link_names=links,
    )
    cache = SnapshotCache(reader, max_age=settings.ops.broker_stats_seconds)
    for node, node_metrics in metrics.nodes.items():
        node_metrics.registry.register(SnapshotCollector(cache, node, links[node]))
    dead_letters = None
    if isinstance(broker, RabbitBroker):
        dead_letters = DeadLetters(broker.sessions, audit, db.tracking)
    tracer = Tracer(
        db.tracking, sorted(metrics.known), amqp_reads_traced=settings.security.trace_amqp_deliveries
    )
    return Operations(
        tuple(settings.nodes), metrics, cache, tracer, audit, dead_letters, _management=management
    )
