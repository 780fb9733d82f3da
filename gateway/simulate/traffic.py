"""The traffic generator: messages that start an exchange, in a realistic mix, at a chosen rate.

Providers send most of the traffic (requests, start and stop of care, declarations), municipalities the
assignments they make on their own. A small share is faulty on purpose, so refusals show too: a message
that is not schema-conform, one to a party that is no longer active, and one whose content the receiving
software refuses (a BSN that fails the eleven-test: the gateway passes it, the receiver answers 0001).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import structlog

from gateway.simulate import templates as t
from gateway.simulate.cases import Cases
from gateway.simulate.counterpart import Stats
from gateway.simulate.party import PartyClient

log = structlog.get_logger("gateway.simulate")

# what starts an exchange, with its share of the traffic and who sends it
MIX: Mapping[str, float] = {"315": 0.25, "305": 0.2, "307": 0.1, "317": 0.05, "323": 0.2, "301": 0.2}
STARTED_BY_MUNICIPALITY = frozenset({"301"})


@dataclass(frozen=True, slots=True)
class Faults:
    """Shares of deliberately faulty messages (of all messages sent)."""

    schema: float = 0.02  # not XSD-conform: refused by the node (StUF055 / CC02)
    inactive: float = 0.01  # to a party that is no longer active: refused (IB210)
    content: float = 0.03  # a BSN failing the eleven-test: passes the node, the receiver answers 0001


@dataclass
class Traffic:
    """Sends ``rate`` messages a second (Poisson arrivals) from ``providers`` and ``municipalities``."""

    parties: Mapping[str, PartyClient]
    municipalities: Sequence[str]
    providers: Sequence[str]
    rate: float = 2.0
    standards: Sequence[str] = ("ijw", "iwmo")
    mix: Mapping[str, float] = field(default_factory=lambda: dict(MIX))
    faults: Faults = field(default_factory=Faults)
    inactive: Mapping[str, str] = field(default_factory=lambda: {"gemeente": "0370", "aanbieder": "42420005"})
    cases: Cases = field(default_factory=Cases)
    stats: Stats = field(default_factory=Stats.new)
    concurrency: int = 32

    def __post_init__(self) -> None:
        self.rng = random.Random(self.cases.rng.random())
        self._slots = asyncio.Semaphore(self.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"Traffic(rate={self.rate}, parties={len(self.parties)})"

    def next_message(self) -> tuple[str, str, bytes]:
        """(sending party, label, bytes) of the next message."""
        number = self.rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
        standard = self.rng.choice(list(self.standards))
        by_municipality = number in STARTED_BY_MUNICIPALITY
        sender = self.rng.choice(list(self.municipalities if by_municipality else self.providers))
        receivers = self.providers if by_municipality else self.municipalities
        receiver = self.rng.choice(list(receivers))
        roll = self.rng.random()
        f = self.faults
        label = f"{'JW' if standard == 'ijw' else 'WMO'}{number}"
        if roll < f.inactive:
            receiver = self.inactive["aanbieder" if by_municipality else "gemeente"]
            label += " (inactive receiver)"
        valid_client = not (f.inactive <= roll < f.inactive + f.content)
        if not valid_client:
            label += " (content error)"
        data = self.build(standard, number, sender, receiver, valid_client)
        if f.inactive + f.content <= roll < f.inactive + f.content + f.schema:
            data = _break(data)
            label += " (not schema-conform)"
        return sender, label, data

    def build(self, standard: str, number: str, sender: str, receiver: str, valid: bool = True) -> bytes:
        c = self.cases
        head = c.head(sender, receiver)
        client = c.client(valid)
        if number == "315":
            return t.verzoek_toewijzing(standard, head, client, c.referentie(), c.start())
        if number == "305":
            return t.start_zorg(standard, head, client, c.number(), c.today)  # care began: not later (TR134)
        if number == "307":
            start = c.today.replace(day=1)
            return t.stop_zorg(standard, head, client, c.number(), start, c.today)
        if number == "317":
            return t.verzoek_wijziging(standard, head, client, c.referentie(), c.number(), c.start())
        if number == "323":  # the previous calendar month, declared after it ended (TR137, CS340)
            end = c.today.replace(day=1) - timedelta(days=1)
            lines = (t.Prestatie(c.identificatie(), c.number(), end.replace(day=1), end, 4, 4 * 1250),)
            return t.declaratie(standard, head, client, c.identificatie(), lines)
        if number == "301":
            return t.toewijzing(standard, head, client, c.number(), c.start(), None)
        raise ValueError(f"{number} does not start an exchange")

    async def send_one(self) -> None:
        sender, label, data = self.next_message()
        party = self.parties.get(sender)
        if party is None:
            return
        try:
            result = await party.submit(data)
        except httpx.HTTPError as exc:
            self.stats.refused[type(exc).__name__] += 1
            return
        if result.accepted:
            self.stats.sent[label.split(" ")[0]] += 1
        else:
            self.stats.refused[result.code or str(result.status)] += 1

    async def _send(self) -> None:
        async with self._slots:
            await self.send_one()

    async def run(self, stop: asyncio.Event, count: int | None = None) -> None:
        """Send until ``stop`` is set (or ``count`` messages were started), then wait for those in flight."""
        sent = 0
        while not stop.is_set() and (count is None or sent < count):
            task = asyncio.create_task(self._send())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            sent += 1
            pause = self.rng.expovariate(self.rate) if self.rate > 0 else 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _break(data: bytes) -> bytes:
    """The same message with an impossible Dagtekening: not XSD-conform."""
    start = data.index(b"<b:Dagtekening>") + len(b"<b:Dagtekening>")
    return data[:start] + b"2025-02-30" + data[start + 10 :]
