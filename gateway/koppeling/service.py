"""The three REST services of one environment of the provider node, and their retention."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from gateway.errors import NodeRole
from gateway.koppeling.pull import Pull
from gateway.koppeling.push import Push
from gateway.koppeling.statuses import Statuses
from gateway.koppeling.store import KoppelingStore, Purged
from gateway.periodic import every
from gateway.pipeline import Pipeline
from gateway.ports import MailboxReader, Registry, Tracking, utc_now

log = structlog.get_logger("gateway.koppeling")


@dataclass(frozen=True, slots=True)
class KoppelingSettings:
    """VECOZO's retention: a payload 24 hours after its first download, everything else two months."""

    payload_hours: int = 24
    retention_days: int = 61


@dataclass(frozen=True)
class Koppeling:
    """Push, pull and status of one environment (production, ``tst`` or ``acc``)."""

    push: Push
    pull: Pull
    statuses: Statuses
    store: KoppelingStore
    settings: KoppelingSettings = KoppelingSettings()

    def __repr__(self) -> str:
        return f"Koppeling(node={self.push.node!r})"

    @classmethod
    def of(
        cls,
        node: NodeRole,
        pipeline: Pipeline,
        registry: Registry,
        tracking: Tracking,
        reader: MailboxReader,
        store: KoppelingStore,
        max_bytes: int,
        settings: KoppelingSettings | None = None,
        fictitious_only: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ) -> Koppeling:
        settings = settings or KoppelingSettings()
        return cls(
            push=Push(node, pipeline, registry, tracking, store, max_bytes, fictitious_only, clock),
            pull=Pull(node, reader, tracking, store, clock),
            statuses=Statuses(tracking, store, timedelta(days=settings.retention_days), clock),
            store=store,
            settings=settings,
        )

    async def purge(self, now: datetime | None = None) -> Purged:
        """Drop payloads downloaded more than ``payload_hours`` ago and rows older than ``retention_days``."""
        now = now or utc_now()
        purged = await self.store.purge(
            now - timedelta(hours=self.settings.payload_hours),
            now - timedelta(days=self.settings.retention_days),
        )
        log.info("koppeling.purged", payloads=purged.payloads, inboxed=purged.inboxed, pushed=purged.pushed)
        return purged

    async def run(self, interval: float) -> None:
        """Purge now and every ``interval`` seconds until cancelled; a failed purge is retried next time."""
        await every(interval, self.purge, log.warning, "koppeling.purge_failed")
