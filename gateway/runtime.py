"""The composition root: settings -> engine, database, broker -> one wired app per node.

Everything a node process holds lives here and is closed in :meth:`Runtime.close`; state of its own the
process has none (messages in flight are in RabbitMQ, everything else in the database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import structlog
from fastapi import FastAPI

from adapters.db import Database
from adapters.db.engine import ensure_database, environment_url
from adapters.rabbitmq import Broker, BrokerSettings, RabbitBroker
from adapters.rabbitmq.publisher import link_seal
from gateway.checker import EngineChecker
from gateway.config import Settings
from gateway.errors import NodeRole
from gateway.http.app import create_app
from gateway.http.deps import NodeServices
from gateway.interfaces.link import LinkCallbacks, LinkCheck
from gateway.koppeling.service import Koppeling, KoppelingSettings
from gateway.ops.metrics import GatewayMetrics
from gateway.ops.observe import MetricsCounter
from gateway.ops.operations import Operations
from gateway.pipeline import Judge, LinkJudge, Observers, Pipeline
from gateway.ports import NODES, Participant
from gateway.security import keys_api
from gateway.standard.engine import Engine
from gateway.wiring.operations import start_operations
from gateway.wiring.protection import Protection

log = structlog.get_logger("gateway.runtime")

BrokerFactory = Callable[[BrokerSettings, tuple[NodeRole, ...], LinkCallbacks], Broker]


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
    tasks: list[asyncio.Task[None]] = field(default_factory=list)  # background work of the runtime itself
    # VECOZO's test and acceptance environments: a runtime each, its apps mounted under /tst and /acc
    environments: dict[str, Runtime] = field(default_factory=dict)

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
        broker_settings = broker_settings or settings.broker
        if engine is None:
            engine = await asyncio.to_thread(Engine.load, list(settings.schema_dirs))
        # content rules are judged at the door of the sending node (per node mode); the receiving node's
        # link check re-checks schema and parties only, so a message accepted in warn mode is delivered
        checker = EngineChecker(engine.with_mode("off"))
        db = await Database.connect(
            settings.database_url,
            create_schema=settings.db_migrate == "auto",
            pool_size=settings.db_pool_size,
            registry_cache_seconds=settings.registry_cache_seconds,
        )
        if settings.db_migrate == "check":
            try:
                await db.require_newest()
            except BaseException:
                await db.close()
                raise
        # --- operations: metrics, fed by the hooks the pipeline and the link's judge call ---
        metrics = GatewayMetrics(settings.nodes, known_messages=(m.name for m in engine.catalog))
        counters = (MetricsCounter(metrics),)
        judge = Judge(checker, db.registry)
        # the link's verdict key (shared by both nodes of the deployment): sealed messages are not read twice
        seal = await asyncio.to_thread(link_seal, broker_settings)
        link = LinkCheck(LinkJudge(judge, db.tracking, Observers(counters=counters), seal=seal))
        broker = broker_factory(broker_settings, settings.nodes, link)
        try:
            await broker.start(_mailboxes(await db.registry.participants()))
        except BaseException:
            await db.close()
            raise
        runtime = cls(settings, engine, db, broker)
        try:  # security and privacy (gateway/wiring/protection.py)
            runtime.protection = protection = await Protection.start(settings, db, broker, broker_settings)
        except BaseException:
            await runtime.close()
            raise
        try:  # operations (gateway/ops): metrics, dashboard, dead letters; actions go into the same audit trail
            runtime.ops = await start_operations(settings, metrics, db, broker, protection.audit)
        except BaseException:
            await runtime.close()
            raise
        observers = Observers(sinks=protection.sinks, counters=counters)
        for node in settings.nodes:
            pipeline = Pipeline(
                node,
                EngineChecker(engine.with_mode(settings.content_rules_for(node))),
                db.registry,
                db.tracking,
                broker.publisher,
                observers=observers,
            )
            svc = NodeServices(
                node=node,
                pipeline=pipeline,
                identity=protection.identity(db.registry),
                registry=db.registry,
                tracking=db.tracking,
                reader=broker.reader,
                max_bytes=settings.max_bytes,
                lease_seconds=settings.lease_seconds,
                operator_token=settings.operator_token,
                metrics_token=settings.metrics_token,
                admin=db.registry,
                broker=broker,
                ops=runtime.ops,
                receipts=protection.signer,
                limits=protection.limits,
                audit=protection.audit,
                engine=engine.with_mode(settings.content_rules_for(node)),
                koppeling=_koppeling(settings, node, pipeline, db, broker),
                amqp_reads_traced=settings.security.trace_amqp_deliveries,
            )
            runtime.services[node] = svc
            interval = settings.security.purge_interval
            if svc.koppeling is not None and interval > 0:  # VECOZO's retention of the REST data
                runtime.tasks.append(asyncio.create_task(svc.koppeling.run(interval)))
            runtime.apps[node] = create_app(svc, extra_routers=(keys_api.router,))
        try:
            for name in settings.environments:
                await runtime._environment(name, env, broker_factory, broker_settings)
        except BaseException:
            await runtime.close()
            raise
        log.info("runtime.started", nodes=list(settings.nodes), releases=sorted(engine.registry.releases))
        return runtime

    async def _environment(
        self,
        name: str,
        env: Mapping[str, str] | None,
        broker_factory: BrokerFactory,
        broker_settings: BrokerSettings,
    ) -> None:
        """Start environment ``name`` as a gateway of its own (its database beside this one, its vhosts
        ``{name}.ggk``/``{name}.vecozo`` on the same broker, fictitious persons only) and mount its nodes'
        apps under ``/{name}`` on this runtime's."""
        url = environment_url(self.settings.database_url, name)
        await ensure_database(url, self.settings.database_url)
        settings = self.settings.model_copy(
            update={"environments": (), "fictitious_only": True, "database_url": url}
        )
        prefix = f"{broker_settings.vhost_prefix}{name}."
        self.environments[name] = runtime = await Runtime.start(
            settings,
            env=env,
            broker_factory=broker_factory,
            engine=self.engine,
            broker_settings=broker_settings.model_copy(update={"vhost_prefix": prefix}),
        )
        for node, app in self.apps.items():
            app.mount(f"/{name}", runtime.apps[node])

    async def close(self) -> None:
        for environment in self.environments.values():
            await environment.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.protection is not None:
            await self.protection.close()
        if self.ops is not None:
            await self.ops.close()
        try:
            await self.broker.close()
        finally:
            await self.db.close()


def _koppeling(
    settings: Settings, node: NodeRole, pipeline: Pipeline, db: Database, broker: Broker
) -> Koppeling | None:
    """VECOZO's REST interfaces (push, pull, status) of the provider node; None on the municipal node."""
    if node != "vecozo":
        return None
    retention = KoppelingSettings(settings.vecozo_payload_hours, settings.vecozo_retention_days)
    return Koppeling.of(
        node,
        pipeline,
        db.registry,
        db.tracking,
        broker.reader,
        db.koppeling,
        settings.max_bytes,
        retention,
        fictitious_only=settings.fictitious_only,
    )


def _mailboxes(found: Iterable[Participant]) -> dict[NodeRole, list[str]]:
    out: dict[NodeRole, list[str]] = {node: [] for node in NODES}
    for p in found:
        out[p.home_node].append(p.code)
    return out
