"""Retention (bewaartermijn): tracking detail and the BSN index are kept ``retention_days`` and then purged.

The audit chain is not purged: it holds no personal data (ids, party codes, message types, digests), so it
stays verifiable end to end. A purge is idempotent; several gateway processes may run it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from gateway.periodic import every
from gateway.ports import utc_now
from gateway.privacy.index import PrivacyIndex

log = structlog.get_logger("gateway.privacy")


class Purgeable(Protocol):
    async def purge_before(self, cutoff: datetime) -> Any: ...


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one purge removed, and from before when."""

    cutoff: datetime
    messages: int
    events: int
    exchanges: int


class Retention:
    """Purges what is older than the retention period from the tracking store and the BSN index."""

    def __init__(
        self,
        retention_days: int,
        tracking: Purgeable,
        index: PrivacyIndex | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if retention_days < 1:
            raise ValueError("the retention period is at least one day")
        self.retention = timedelta(days=retention_days)
        self.tracking = tracking
        self.index = index
        self.clock = clock

    def cutoff(self) -> datetime:
        return self.clock() - self.retention

    async def purge(self, cutoff: datetime | None = None) -> PurgeReport:
        cutoff = cutoff or self.cutoff()
        purged = await self.tracking.purge_before(cutoff)
        exchanges = await self.index.purge_before(cutoff) if self.index is not None else 0
        report = PurgeReport(
            cutoff,
            messages=int(getattr(purged, "messages", 0)),
            events=int(getattr(purged, "events", 0)),
            exchanges=exchanges,
        )
        log.info(
            "retention.purged",
            cutoff=cutoff.isoformat(),
            messages=report.messages,
            events=report.events,
            exchanges=report.exchanges,
        )
        return report

    async def run(self, interval: float) -> None:
        """Purge now and every ``interval`` seconds until cancelled; a failed purge is retried next time."""
        await every(interval, self.purge, log.warning, "retention.failed")

    def __repr__(self) -> str:
        return f"Retention(days={self.retention.days})"
