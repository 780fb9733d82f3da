"""Steady load from clients that retry on errors, and the figures of a fault scenario.

Each of ``senders`` clients sends its messages one after the other at ``rate / senders`` per second. A
message is retried with the very same bytes on a 503, 429, a timeout or a broken connection (the gateway's
uniqueness index answers a resubmission of the same bytes with the first answer) until it gets its 202, a
refusal, or ``give_up`` seconds passed since its first attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_STATUSES = {429, 502, 503, 504}
OUTAGE = 1.0  # seconds without any 202 that count as an outage (the load gives one every 25 ms)


@dataclass
class Sent:
    """One message's fate at the client."""

    identificatie: str
    first_attempt: float
    attempts: int = 0
    tracking_id: str | None = None
    answered_at: float | None = None
    final_status: str = ""
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Load:
    url: str
    token: str
    make: Callable[[str], bytes]  # identificatie -> message bytes
    rate: float = 40.0
    senders: int = 8
    give_up: float = 30.0
    retry_delay: float = 0.3
    messages: list[Sent] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, seconds: float) -> None:
        """Send for ``seconds``, then let every message in hand finish (202, refusal or give-up)."""
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=self.url, timeout=10.0, limits=limits)
                )
                for _ in range(self.senders)
            ]
            until = time.time() + seconds
            await asyncio.gather(*(self._sender(i, c, until) for i, c in enumerate(clients)))

    async def _sender(self, index: int, client: httpx.AsyncClient, until: float) -> None:
        interval = self.senders / self.rate
        n = 0
        next_at = time.time() + index * interval / self.senders
        while time.time() < until:
            await asyncio.sleep(max(0.0, next_at - time.time()))
            n += 1
            ident = f"f{index:02d}{n:09d}"[:12]
            await self._deliver(client, Sent(ident, time.time()))
            next_at += interval

    async def _deliver(self, client: httpx.AsyncClient, sent: Sent) -> None:
        self.messages.append(sent)
        data = self.make(sent.identificatie)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/xml"}
        while True:
            sent.attempts += 1
            try:
                response = await client.post("/v1/berichten", content=data, headers=headers)
            except httpx.HTTPError as exc:
                sent.errors[type(exc).__name__] += 1
            else:
                if response.status_code == 202:
                    sent.tracking_id = response.json()["trackingId"]
                    sent.answered_at = time.time()
                    sent.final_status = "202"
                    return
                sent.errors[str(response.status_code)] += 1
                if response.status_code not in RETRY_STATUSES:
                    sent.final_status = str(response.status_code)
                    return
            if time.time() - sent.first_attempt > self.give_up:
                sent.final_status = "gave-up"
                return
            await asyncio.sleep(self.retry_delay)


@dataclass
class Figures:
    """What a scenario shows: the issue's figures plus where the time went."""

    scenario: str
    sent: int
    accepted: int
    unresolved: int  # no 202 and no refusal: gave up retrying
    refused: int
    delivered: int  # distinct accepted tracking ids in the mailbox
    missing: int  # accepted, not in the mailbox
    duplicates_removed: int  # deliveries of a tracking id beyond its first
    redelivered: int  # deliveries the broker marked as redelivered (handed out before, not acked)
    delivered_without_202: int  # tracking ids in the mailbox that no 202 named
    same_content_twice: int  # identificaties delivered under two tracking ids
    retried: int  # messages that needed more than one attempt
    errors: dict[str, int]
    longest_gap_s: float  # longest time without any 202 while the load ran
    ingest_recovered_s: float | None  # from the fault to the end of the outage it caused (0: none)
    worst_lag_s: float | None  # the longest a 202-answered message took to reach the mailbox
    fault_s: float  # how long the injection took (stop and start, cut and restore, ...)
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        rec = "-" if self.ingest_recovered_s is None else f"{self.ingest_recovered_s:.1f}s"
        lag = "-" if self.worst_lag_s is None else f"{self.worst_lag_s:.1f}s"
        return (
            f"{self.scenario} (fault {self.fault_s:.1f}s): sent {self.sent}, accepted {self.accepted}, unresolved {self.unresolved}, "
            f"delivered {self.delivered}, missing {self.missing}, duplicates removed {self.duplicates_removed} "
            f"(redelivered {self.redelivered}), "
            f"delivered without 202 {self.delivered_without_202}, same content twice {self.same_content_twice}, "
            f"retried {self.retried}, longest gap without 202 {self.longest_gap_s:.1f}s, "
            f"ingest back {rec} after the fault, worst 202->mailbox {lag}"
        )


def figures(
    scenario: str,
    load: Load,
    deliveries: list[tuple[str, str, float, bool]],
    fault_at: float,
    fault_end: float,
    extra: dict[str, Any] | None = None,
) -> Figures:
    accepted = {m.tracking_id: m for m in load.messages if m.tracking_id}
    first_seen: dict[str, float] = {}
    per_ident: dict[str, set[str]] = {}
    for tid, ident, at, _ in deliveries:
        first_seen.setdefault(tid, at)
        per_ident.setdefault(ident, set()).add(tid)
    answers = sorted(m.answered_at for m in load.messages if m.answered_at)
    gaps = [b - a for a, b in itertools.pairwise(answers)]
    # the outage the fault caused: the longest stretch without a 202 that ends after the fault began
    outage = max(
        ((b - a, b) for a, b in itertools.pairwise(answers) if b >= fault_at), default=(0.0, fault_at)
    )
    recovered = outage[1] - fault_at if outage[0] >= OUTAGE else 0.0
    lags = [first_seen[t] - m.answered_at for t, m in accepted.items() if t in first_seen and m.answered_at]
    errors: Counter[str] = Counter()
    for m in load.messages:
        errors.update(m.errors)
    return Figures(
        scenario=scenario,
        sent=len(load.messages),
        accepted=len(accepted),
        unresolved=sum(1 for m in load.messages if m.final_status == "gave-up"),
        refused=sum(1 for m in load.messages if m.final_status not in ("202", "gave-up")),
        delivered=sum(1 for t in accepted if t in first_seen),
        missing=sum(1 for t in accepted if t not in first_seen),
        duplicates_removed=len(deliveries) - len(first_seen),
        redelivered=sum(1 for *_, again in deliveries if again),
        delivered_without_202=sum(1 for t in first_seen if t not in accepted),
        same_content_twice=sum(1 for tids in per_ident.values() if len(tids) > 1),
        retried=sum(1 for m in load.messages if m.attempts > 1),
        errors=dict(errors),
        longest_gap_s=max(gaps, default=0.0),
        ingest_recovered_s=recovered if answers else None,
        worst_lag_s=max(lags) if lags else None,
        fault_s=fault_end - fault_at,
        extra=extra or {},
    )
