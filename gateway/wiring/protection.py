"""The security and privacy parts of one gateway process, started and closed with the runtime.

:class:`Protection` holds the audit trail, the BSN index and its key, the receipt signer, the node
identities (mutual TLS when a PKI directory is configured, API credentials beside it), the rate limits, and
the background work: the retention purge, the CRL reload and the dead-letter watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from adapters.audit.checkpoints import CheckpointWriter, default_checkpoint_file, load_chain_key
from adapters.audit.sql import SqlAuditLog
from adapters.db import Database
from adapters.db.privacy import SqlPrivacyIndex
from adapters.rabbitmq import Broker, BrokerSettings, RabbitBroker
from adapters.rabbitmq.deadletters import DeadLetter, DeadLetterWatcher, apply_mailbox_ttl
from adapters.rabbitmq.deliveries import AmqpDelivery, DeliveryWatcher, trace_deliveries
from gateway.config import Settings
from gateway.http.limits import Limits
from gateway.identity import ApiKeyIdentity, Identity
from gateway.pipeline import DecisionSink
from gateway.ports import Registry, Tracking, TrackingEvent
from gateway.privacy.bsnkey import BsnHasher, load_or_create_key
from gateway.privacy.logguard import guard_library_logs
from gateway.privacy.retention import PurgeReport, Retention
from gateway.privacy.sink import PrivacySink
from gateway.security.auditsink import AuditSink
from gateway.security.identity import NO_CRL, CertificateIdentity, CertificateOrApiKey
from gateway.security.pkidir import PkiDir
from gateway.security.receipts import ReceiptSigner

log = structlog.get_logger("gateway.security")

CRL_RELOAD_SECONDS = 10.0
AUDIT_CHECKPOINT_SECONDS = 10.0  # how often the audit chain's head is signed into the checkpoint file


class DeadLetterEvents:
    """Records a ``dead-lettered`` event in track & trace for every dead letter a watcher reports."""

    def __init__(self, tracking: Tracking) -> None:
        self.tracking = tracking

    async def __call__(self, dead: DeadLetter) -> None:
        if not dead.tracking_id:
            return  # not a gateway message: nothing to show in track & trace
        await self.tracking.add_event(
            TrackingEvent(
                dead.tracking_id,
                "dead-lettered",
                dead.node,
                dead.at,
                {"reason": dead.reason, "queue": dead.queue},
            )
        )


class DeliveryEvents:
    """Records a ``fetched`` event (via ``amqp``) in track & trace for every AMQP read a watcher reports."""

    def __init__(self, tracking: Tracking) -> None:
        self.tracking = tracking

    async def __call__(self, delivery: AmqpDelivery) -> None:
        detail = {"by": delivery.code, "via": "amqp", "redelivered": "yes" if delivery.redelivered else "no"}
        await self.tracking.add_event(
            TrackingEvent(delivery.tracking_id, "fetched", delivery.node, delivery.at, detail)
        )


@dataclass
class Protection:
    """Everything issue 5 adds to a runtime; see the module docstring."""

    settings: Settings
    audit: SqlAuditLog
    index: SqlPrivacyIndex
    hasher: BsnHasher
    signer: ReceiptSigner
    limits: Limits
    retention: Retention
    sinks: tuple[DecisionSink, ...]  # told of every routing decision: the audit trail, the BSN index
    checkpoints: CheckpointWriter  # signs the audit chain's head into a file and the log
    certificates: CertificateIdentity | None = None
    pki: PkiDir | None = None
    watchers: list[DeadLetterWatcher | DeliveryWatcher] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(
        cls,
        settings: Settings,
        db: Database,
        broker: Broker | None = None,
        broker_settings: BrokerSettings | None = None,
    ) -> Protection:
        """Open the stores and keys, start the background work. ``broker`` is the runtime's broker: with a
        real RabbitMQ broker the mailbox TTL policy is put and the dead-letter watchers run."""
        sec = settings.security
        guard_library_logs()  # the AMQP client logs message bodies at DEBUG
        chain_key = await asyncio.to_thread(load_chain_key, sec.audit_key_file)
        audit = SqlAuditLog(db.engine, chain_key, turn=db.connections.writer_lock)
        await audit.create_schema()
        checkpoint_file = sec.audit_checkpoint_file or default_checkpoint_file(settings.database_url)
        # PostgreSQL: the index rows and routing decisions join the tracking store's writes after a publish
        group = db.tracking.group
        index = SqlPrivacyIndex(db.connections, group)
        await index.create_schema()
        hasher = BsnHasher(await asyncio.to_thread(load_or_create_key, sec.privacy_key_file))
        signer = await asyncio.to_thread(PkiDir(sec.receipt_key_dir).receipt_signer)
        certificates, pki = None, None
        if sec.tls_dir is not None:
            pki = PkiDir(sec.tls_dir)
            certificates = CertificateIdentity(pki.trusted_cas())
            try:
                crl = await asyncio.to_thread(pki.load_crl)
                if crl is not None:
                    certificates.update_crl(crl)
            except (OSError, ValueError) as exc:
                log.error("crl.unreadable", path=str(pki.crl), error=type(exc).__name__)
            if certificates.crl is None:
                log.error("crl.missing", path=str(pki.crl), detail=NO_CRL)
        protection = cls(
            settings=settings,
            audit=audit,
            index=index,
            hasher=hasher,
            signer=signer,
            limits=Limits.of(sec.rate_limit, sec.rate_burst),
            retention=Retention(sec.retention_days, db.tracking, index),
            sinks=(AuditSink(audit if group is None else group.chain(chain_key)), PrivacySink(hasher, index)),
            checkpoints=CheckpointWriter(audit, chain_key, checkpoint_file),
            certificates=certificates,
            pki=pki,
        )
        try:
            await protection.checkpoints.check()  # logs audit.tampered when the chain lost a signed head
            await protection._start_background(db, broker, broker_settings)
        except BaseException:
            await protection.close()
            raise
        log.info(
            "protection.started",
            tls=sec.tls_dir is not None,
            client_certs=sec.client_certs,
            receipt_key=signer.key_id,
            retention_days=sec.retention_days,
            rate_limit=sec.rate_limit,
        )
        return protection

    async def _start_background(
        self, db: Database, broker: Broker | None, broker_settings: BrokerSettings | None
    ) -> None:
        sec = self.settings.security
        if sec.purge_interval > 0:
            self.tasks.append(asyncio.create_task(self.retention.run(sec.purge_interval)))
        self.tasks.append(asyncio.create_task(self.checkpoints.run(AUDIT_CHECKPOINT_SECONDS)))
        if self.certificates is not None:
            self.tasks.append(asyncio.create_task(self._reload_crl()))
        if broker_settings is None or not isinstance(broker, RabbitBroker):
            return  # an in-memory broker: no policies, no dead-letter exchange to watch
        report, delivered = DeadLetterEvents(db.tracking), DeliveryEvents(db.tracking)
        for node in self.settings.nodes:
            await apply_mailbox_ttl(broker.api, broker_settings, node, sec.mailbox_ttl)
            await trace_deliveries(broker.api, broker_settings, node, sec.trace_amqp_deliveries)
            watchers: list[DeadLetterWatcher | DeliveryWatcher] = [
                DeadLetterWatcher(broker_settings, node, report, sessions=broker.sessions)
            ]
            if sec.trace_amqp_deliveries:
                watchers.append(DeliveryWatcher(broker_settings, node, delivered, sessions=broker.sessions))
            for watcher in watchers:
                await watcher.start()
                self.watchers.append(watcher)

    async def _reload_crl(self) -> None:
        """Use a newly published CRL (``gateway pki revoke``) within seconds, without a restart. A list that
        disappears, is unreadable or not signed by a trusted CA never replaces the last good one (fail
        closed); without any good list every client certificate is refused."""
        assert self.pki is not None and self.certificates is not None
        seen = _mtime(self.pki)
        while True:
            await asyncio.sleep(CRL_RELOAD_SECONDS)
            now = _mtime(self.pki)
            if now == seen:
                continue
            try:
                crl = await asyncio.to_thread(self.pki.load_crl)
                if crl is None:
                    raise FileNotFoundError("crl.pem is missing")
                self.certificates.update_crl(crl)
            except (OSError, ValueError) as exc:  # gone, half-written or forged: keep the last good one
                seen = now if now is None else seen  # a present but bad file is read again next round
                log.warning(
                    "crl.not_reloaded",
                    path=str(self.pki.crl),
                    error=type(exc).__name__,
                    keeping="the last good list" if self.certificates.crl is not None else "none: refusing",
                )
                continue
            seen = now
            log.info("crl.reloaded")

    def identity(self, registry: Registry) -> Identity:
        """API credentials; with mutual TLS, the client certificate first (credentials stay an option)."""
        api_key = ApiKeyIdentity(registry)
        if self.certificates is None:
            return api_key
        return CertificateOrApiKey(self.certificates, api_key)

    async def purge(self, now: datetime | None = None) -> PurgeReport:
        """Purge once now (``gateway privacy purge`` and tests)."""
        cutoff = (now or datetime.now(UTC)) - self.retention.retention
        return await self.retention.purge(cutoff)

    async def close(self) -> None:
        """Stop the background work and write what is pending; the database itself is the runtime's."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        for watcher in self.watchers:
            await watcher.stop()
        self.watchers.clear()
        await self.audit.flush()
        await self.index.flush()
        try:
            await self.checkpoints.write()
        except Exception as exc:  # shutting down: say so, do not hide the shutdown
            log.warning("audit.checkpoint_failed", error=type(exc).__name__)

    def __repr__(self) -> str:
        return f"Protection(tls={self.certificates is not None}, receipt_key={self.signer.key_id!r})"


def _mtime(pki: PkiDir) -> float | None:
    try:
        return pki.crl.stat().st_mtime
    except OSError:
        return None
