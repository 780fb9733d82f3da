"""A whole simulation: a counterpart for every party with a token, and the traffic generator.

Parties are told apart by their codes (4 digits: municipality on the municipal node, 8 digits: provider on
the provider node). With the operator token the registry is asked which parties are active, so inactive
ones neither send nor are sent to (except by the deliberate faults).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import httpx

from gateway.errors import NodeRole
from gateway.simulate.cases import Cases
from gateway.simulate.counterpart import Counterpart, Stats
from gateway.simulate.party import PartyClient
from gateway.simulate.responder import Policy, Responder
from gateway.simulate.traffic import Faults, Traffic


def home(code: str) -> NodeRole:
    return "ggk" if len(code) == 4 else "vecozo"


async def active_parties(client: httpx.AsyncClient, operator_token: str, today: date) -> set[str] | None:
    """The codes of the parties active today (from the admin API), or None when it cannot be asked."""
    try:
        response = await client.get(
            "/v1/admin/participants", headers={"Authorization": f"Bearer {operator_token}"}
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    out = set()
    for p in response.json():
        until = p.get("activeUntil")
        if date.fromisoformat(p["activeFrom"]) <= today and (
            until is None or today <= date.fromisoformat(until)
        ):
            out.add(p["code"])
    return out


@dataclass
class Simulation:
    """Counterparts for ``parties`` (code -> token) and, when ``rate`` > 0, traffic between them."""

    clients: Mapping[NodeRole, httpx.AsyncClient]
    tokens: Mapping[str, str]
    rate: float = 2.0
    answer: bool = True
    seed: int | None = None
    policy: Policy = field(default_factory=Policy)
    faults: Faults = field(default_factory=Faults)
    only: Iterable[str] | None = None
    stats: Stats = field(default_factory=Stats.new)

    def __post_init__(self) -> None:
        self.cases = Cases(self.seed)
        wanted = set(self.only) if self.only is not None else set(self.tokens)
        self.parties = {
            code: PartyClient(code, token, self.clients[home(code)])
            for code, token in sorted(self.tokens.items())
            if code in wanted
        }
        self.counterparts = [
            Counterpart(
                party, Responder(code, Cases(self.cases.rng.randrange(2**32)), self.policy), self.stats
            )
            for code, party in self.parties.items()
        ]

    def __repr__(self) -> str:
        return f"Simulation(parties={len(self.parties)}, rate={self.rate})"

    def counterpart(self, code: str) -> Counterpart:
        return next(c for c in self.counterparts if c.party.code == code)

    def traffic(self, active: set[str] | None = None) -> Traffic:
        codes = [c for c in self.parties if active is None or c in active]
        return Traffic(
            parties=self.parties,
            municipalities=[c for c in codes if len(c) == 4],
            providers=[c for c in codes if len(c) == 8],
            rate=self.rate,
            faults=self.faults,
            cases=Cases(self.cases.rng.randrange(2**32)),
            stats=self.stats,
        )

    async def run(
        self, stop: asyncio.Event, *, active: set[str] | None = None, count: int | None = None
    ) -> None:
        """Answer and send until ``stop`` is set."""
        tasks = []
        if self.answer:
            tasks += [asyncio.create_task(c.run(stop)) for c in self.counterparts]
        if self.rate > 0:
            tasks.append(asyncio.create_task(self.traffic(active).run(stop, count)))
        try:
            await asyncio.gather(*tasks)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
