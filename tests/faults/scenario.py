"""One fault scenario: a gateway on a broker of the tests' own, a mailbox subscriber, steady retrying load,
a fault injected while it runs, then the check that every 202 is in the mailbox (and what else is)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.faults.load import Figures, Load, figures
from tests.faults.processes import Gateway, Subscriber, received
from tests.messages import example, set_header

SENDER, RECIPIENT = "42420001", "0384"  # WMO315: provider node -> municipal node
MAILBOX = f"mailbox.{RECIPIENT}"


def wmo315(identificatie: str, _template: list[bytes] = []) -> bytes:  # noqa: B006 - a cache
    if not _template:
        _template.append(example("WMO315"))
    return set_header(_template[0], Identificatie=identificatie)


@dataclass
class Scenario:
    name: str
    gateway: Gateway
    token: str
    vhost: str  # the municipal node's vhost (the mailbox)
    subscriber_urls: Sequence[str]
    workdir: Path
    subscribers: list[Subscriber] = field(default_factory=list)
    load: Load | None = None

    def subscribe(self, hold: float = 0.02) -> Subscriber:
        """A subscriber that holds each message ``hold`` s (recorded, not yet acked) before its ack."""
        out = self.workdir / f"received-{len(self.subscribers)}.txt"
        sub = Subscriber.start(out, self.vhost, MAILBOX, self.subscriber_urls, hold=hold)
        self.subscribers.append(sub)
        return sub

    def deliveries(self) -> list[tuple[str, str, float, bool]]:
        return received([s.out for s in self.subscribers])

    async def run(
        self,
        inject: Callable[[], Awaitable[float | None]],
        *,
        seconds: float = 14.0,
        fault_after: float = 4.0,
        hold: float = 0.02,
        rate: float = 40.0,
        give_up: float = 30.0,
        settle_within: float = 90.0,
        extra: Callable[[], dict[str, Any]] | None = None,
    ) -> Figures:
        """Load for ``seconds``; after ``fault_after`` s ``inject()`` (returns when the fault ended, or None
        for at once); then wait until every accepted message is delivered (or ``settle_within`` s)."""
        wmo315("000000000000")  # skips the test here, before anything starts, when ../shared is absent
        self.subscribe(hold)
        self.load = load = Load(self.gateway.url("vecozo"), self.token, wmo315, rate=rate, give_up=give_up)
        running = asyncio.create_task(load.run(seconds))
        await asyncio.sleep(fault_after)
        fault_at = time.time()
        ended = await inject()
        fault_end = ended or fault_at
        await running
        await self._settle(settle_within)
        for sub in self.subscribers:
            sub.stop()
        return figures(self.name, load, self.deliveries(), fault_at, fault_end, extra() if extra else None)

    async def _settle(self, within: float) -> None:
        assert self.load is not None
        wanted = {m.tracking_id for m in self.load.messages if m.tracking_id}
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            got = {tid for tid, *_ in self.deliveries()}
            if wanted <= got:
                await asyncio.sleep(2.0)  # late duplicates (redeliveries) still count
                return
            await asyncio.sleep(0.5)


def in_flight_explained(
    fig: Figures, load: Load, deliveries: list[tuple[str, str, float, bool]]
) -> list[str]:
    """Tracking ids in the mailbox that no 202 named and that are NOT explained by a message of ours that
    was in flight (its Identificatie is ours and the client saw an error for it): should be empty."""
    accepted = {m.tracking_id for m in load.messages if m.tracking_id}
    troubled = {m.identificatie for m in load.messages if m.errors}
    return sorted({tid for tid, ident, _, _ in deliveries if tid not in accepted and ident not in troubled})
