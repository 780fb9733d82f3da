"""The composition root: settings -> engine, database, broker -> one wired app per node.

Everything a node process holds lives here and is closed in :meth:`Runtime.close`; state of its own the
process has none (messages in flight are in RabbitMQ, everything else in the database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI

from adapters.db import Database
from adapters.rabbitmq import Broker, BrokerSettings, LinkMessage, RabbitBroker
from gateway.checker import EngineChecker
from gateway.config import Settings
from gateway.errors import NodeRole, Rejection, UnknownReceiver
from gateway.http.app import create_app
from gateway.http.deps import NodeServices
from gateway.ingest import THREAD_THRESHOLD
from gateway.metrics import GatewayMetrics
from gateway.ops.observe import LinkCallbacks, MeasuredLink, MeasuredPublisher, ObservedIngest
from gateway.ops.operations import Operations, OpsSettings
from gateway.ports import NODES, Participant, Registry, Tracking, TrackingEvent
from gateway.routing import parties
from gateway.security import keys_api
from gateway.security.protection import Protection
from gateway.standard.engine import Engine

log = structlog.get_logger("gateway.runtime")

BrokerFactory = Callable[[BrokerSettings, tuple[NodeRole, ...], LinkCallbacks], Broker]


class LinkMismatch(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 422, "link-mismatch"
    title = "Message on the node link does not match what its headers say"


def rabbit_broker(settings: BrokerSettings, nodes: tuple[NodeRole, ...], link: LinkCallbacks) -> Broker:
    return RabbitBroker(settings, nodes=nodes, on_link_message=link, on_delivered=link.delivered)


@dataclass
class Runtime:
    """One gateway process: both nodes (default) or one."""

    settings: Settings
    engine: Engine
    db: Database
    broker: Broker
    services: dict[NodeRole, NodeServices] = field(default_factory=dict)
    apps: dict[NodeRole, FastAPI] = field(default_factory=dict)
    ops: Operations | None = None  # metrics, dashboard, dead letters (gateway/ops)
    protection: Protection | None = None  # TLS identity, audit, BSN index, receipts, limits, retention

    @classmethod
    async def start(
        cls,
        settings: Settings | None = None,
        env: Mapping[str, str] | None = None,
        broker_factory: BrokerFactory = rabbit_broker,
        engine: Engine | None = None,
        broker_settings: BrokerSettings | None = None,
    ) -> Runtime:
        settings = settings or Settings.from_env(env)
        broker_settings = broker_settings or BrokerSettings.from_env(env)
        if engine is None:
            engine = await asyncio.to_thread(Engine.load, list(settings.schema_dirs))
        checker = EngineChecker(engine)
        db = await Database.connect(
            settings.database_url,
            pool_size=settings.db_pool_size,
            registry_cache_seconds=settings.registry_cache_seconds,
        )
        # --- operations: metrics fed by wrappers around the link check, the publisher and ingest ---
        metrics = GatewayMetrics(settings.nodes, known_messages=(m.name for m in engine.catalog))
        link = MeasuredLink(LinkCheck(checker, db.registry, db.tracking), metrics)
        broker = broker_factory(broker_settings, settings.nodes, link)
        try:
            await broker.start(_mailboxes(await db.registry.participants()))
        except BaseException:
            await db.close()
            raise
        runtime = cls(settings, engine, db, broker)
        try:  # security and privacy (gateway/security/protection.py)
            runtime.protection = protection = await Protection.start(settings, db, broker, broker_settings)
        except BaseException:
            await runtime.close()
            raise
        try:  # operations (gateway/ops): metrics, dashboard, dead letters; actions go into the same audit trail
            runtime.ops = await Operations.start(
                settings.nodes, metrics, db, broker, OpsSettings.from_env(env), audit=protection.audit
            )
        except BaseException:
            await runtime.close()
            raise
        publisher = MeasuredPublisher(broker.publisher, metrics)
        for node in settings.nodes:
            svc = NodeServices(
                node=node,
                ingest=ObservedIngest(
                    node,
                    checker,
                    db.registry,
                    db.tracking,
                    publisher,
                    metrics=metrics,
                    decisions=protection.decisions,
                ),
                identity=protection.identity(db.registry),
                registry=db.registry,
                tracking=db.tracking,
                reader=broker.reader,
                max_bytes=settings.max_bytes,
                lease_seconds=settings.lease_seconds,
                operator_token=settings.operator_token,
                admin=db.registry,
                broker=broker,
                ops=runtime.ops,
                receipts=protection.signer,
                limits=protection.limits,
                audit=protection.audit,
            )
            runtime.services[node] = svc
            runtime.apps[node] = create_app(svc, extra_routers=(keys_api.router,))
        log.info("runtime.started", nodes=list(settings.nodes), releases=sorted(engine.registry.releases))
        return runtime

    async def close(self) -> None:
        if self.protection is not None:
            await self.protection.close()
        if self.ops is not None:
            await self.ops.close()
        try:
            await self.broker.close()
        finally:
            await self.db.close()


def _mailboxes(found: Iterable[Participant]) -> dict[NodeRole, list[str]]:
    out: dict[NodeRole, list[str]] = {node: [] for node in NODES}
    for p in found:
        out[p.home_node].append(p.code)
    return out


class LinkCheck:
    """The receiving node's check of what crossed the link: the same engine, the same registry rules.

    Raising a Rejection dead-letters the message (it never reaches a mailbox); anything else retries it.
    """

    # when each message in hand passed the check, until it is in its mailbox: both events are then written
    # together (one write per message instead of two); bounded, as a message may be retried elsewhere
    CHECKED_KEPT = 10_000

    def __init__(self, checker: EngineChecker, registry: Registry, tracking: Tracking) -> None:
        self.checker = checker
        self.registry = registry
        self.tracking = tracking
        self._checked: dict[str, tuple[datetime, str]] = {}

    async def __call__(self, message: LinkMessage) -> None:
        body = message.body
        if len(body) > THREAD_THRESHOLD:
            header = await asyncio.to_thread(self.checker.check, body)
        else:
            header = self.checker.check(body)
        kind = self.checker.kind_of(header)
        who = parties(header, kind)
        origin = message.properties.headers.get("origin-node")
        node: NodeRole = "ggk" if origin == "vecozo" else "vecozo"
        if who.recipient != message.recipient or header.message != message.properties.headers.get("message"):
            raise LinkMismatch("recipient or message type differs from the link headers")
        now = datetime.now(UTC)
        recipient = await self.registry.participant(who.recipient)
        if recipient is None or not recipient.active_on(now.date()) or recipient.home_node != node:
            await self.tracking.add_event(
                TrackingEvent(message.tracking_id, "refused", node, now, {"code": "IB210", "at": "link"})
            )
            raise UnknownReceiver(f"receiving organisation {who.recipient} is not active on the {node} node")
        if len(self._checked) >= self.CHECKED_KEPT:
            self._checked.pop(next(iter(self._checked)))
        self._checked[message.tracking_id] = (now, origin or "")

    async def delivered(self, message: LinkMessage) -> None:
        """The message is confirmed in its mailbox: it crossed the link (when it was checked) and is in."""
        node: NodeRole = "ggk" if message.properties.headers.get("origin-node") == "vecozo" else "vecozo"
        now = datetime.now(UTC)
        origin = message.properties.headers.get("origin-node") or ""
        checked_at, origin = self._checked.pop(message.tracking_id, (now, origin))
        await asyncio.gather(  # added in this order, so stored in this order (one batch)
            self.tracking.add_event(
                TrackingEvent(message.tracking_id, "crossed-link", node, checked_at, {"from": origin})
            ),
            self.tracking.add_event(
                TrackingEvent(message.tracking_id, "in-mailbox", node, now, {"mailbox": message.recipient})
            ),
        )
