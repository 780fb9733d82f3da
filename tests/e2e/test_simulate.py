"""Simulated counterparts: a provider-side script runs whole iJw and iWmo conversations against the
simulated municipality (and a municipality-side one against the simulated provider) over both nodes."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from gateway.simulate import templates as t
from gateway.simulate.cases import Cases
from gateway.simulate.counterpart import Counterpart
from gateway.simulate.party import PartyClient
from gateway.simulate.reading import Read, read
from gateway.simulate.responder import Policy, Responder
from gateway.simulate.run import Simulation
from gateway.simulate.traffic import Faults
from tests.e2e.conftest import ServedGateway, gateway_command
from tests.harness import GatewayUnderTest

pytestmark = pytest.mark.broker

GEMEENTE = "0384"
AANBIEDER = "42420001"


@asynccontextmanager
async def simulated(gw: GatewayUnderTest, code: str, policy: Policy) -> AsyncIterator[Counterpart]:
    """The simulated software of ``code`` answering its mailbox while the block runs."""
    client = gw.clients[gw.home(code)]
    counterpart = Counterpart(
        PartyClient(code, gw.tokens[code], client), Responder(code, Cases(7), policy), poll=0.1
    )
    stop = asyncio.Event()
    task = asyncio.create_task(counterpart.run(stop))
    try:
        yield counterpart
    finally:
        stop.set()
        await task


async def send(gw: GatewayUnderTest, party: str, data: bytes) -> None:
    response = await gw.submit(party, data)
    assert 202 == response.status_code, response.text


async def expect(gw: GatewayUnderTest, party: str, count: int) -> list[Read]:
    """The next ``count`` messages in ``party``'s mailbox, read."""
    return [read((await gw.receive(party, within=30))[0]) for _ in range(count)]


def names(found: list[Read]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((m.name, m.retour_codes) for m in found)


def prefix(standard: str) -> Callable[[str], str]:
    return lambda number: ("JW" if standard == "ijw" else "WMO") + number


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
async def test_provider_runs_a_whole_conversation_against_the_simulated_municipality(
    gw: GatewayUnderTest, standard: str
) -> None:
    """315 -> 316 + 301 (-> 302), 305 -> 306, 307 -> 308, 317 -> 318 + 319 (-> 320), 323 -> 325: all arrive."""
    n = prefix(standard)
    c = Cases(11)
    client = c.client()
    async with simulated(gw, GEMEENTE, Policy(grant=1.0)) as municipality:
        ref = c.referentie()
        await send(
            gw, AANBIEDER, t.verzoek_toewijzing(standard, c.head(AANBIEDER, GEMEENTE), client, ref, c.start())
        )
        got = await expect(gw, AANBIEDER, 2)
        assert [(n("301"), ()), (n("316"), ("0200",))] == names(got)
        toewijzing = next(m for m in got if m.number == "301")
        assert (ref,) == toewijzing.referenties
        await send(
            gw, AANBIEDER, t.retour(standard, toewijzing.head, "302", c.identificatie(), c.today, t.ACCEPTED)
        )

        await send(gw, AANBIEDER, t.start_zorg(standard, c.head(AANBIEDER, GEMEENTE), client, 1, c.today))
        await send(
            gw, AANBIEDER, t.stop_zorg(standard, c.head(AANBIEDER, GEMEENTE), client, 1, c.today, c.today)
        )
        assert [(n("306"), ("0200",)), (n("308"), ("0200",))] == names(await expect(gw, AANBIEDER, 2))

        head = c.head(AANBIEDER, GEMEENTE)
        await send(gw, AANBIEDER, t.verzoek_wijziging(standard, head, client, c.referentie(), 1, c.start()))
        got = await expect(gw, AANBIEDER, 2)
        assert [(n("318"), ("0200",)), (n("319"), ())] == names(got)
        antwoord = next(m for m in got if m.number == "319")
        await send(
            gw, AANBIEDER, t.retour(standard, antwoord.head, "320", c.identificatie(), c.today, t.ACCEPTED)
        )

        head = c.head(AANBIEDER, GEMEENTE)
        last = c.today.replace(day=1) - timedelta(days=1)  # a 323 declares a month that has ended (TR137)
        lines = (t.Prestatie("R1", 1, last, last, 2, 2500),)
        await send(gw, AANBIEDER, t.declaratie(standard, head, client, "D1", lines))
        (answer,) = await expect(gw, AANBIEDER, 1)
        assert (n("325"), ("0200",), head.identificatie) == (
            answer.name,
            answer.retour_codes,
            answer.declaratie_identificatie,
        )

        for _ in range(100):  # the municipality also got the provider's two retours
            if {n("302"), n("320")} <= {s.message for s in municipality.seen}:
                break
            await asyncio.sleep(0.1)
        assert {n("302"), n("320")} <= {s.message for s in municipality.seen}


async def test_refused_request_gets_a_319(gw: GatewayUnderTest) -> None:
    """A municipality that refuses a 315 answers the 316 retour and a 319 with VerzoekAntwoord 1 (afgewezen)."""
    c = Cases(12)
    async with simulated(gw, GEMEENTE, Policy(grant=0.0)):
        await send(
            gw,
            AANBIEDER,
            t.verzoek_toewijzing("iwmo", c.head(AANBIEDER, GEMEENTE), c.client(), "R-9", c.today),
        )
        assert [("WMO316", ("0200",)), ("WMO319", ())] == names(await expect(gw, AANBIEDER, 2))


async def test_content_error_is_refused_at_the_door(gw: GatewayUnderTest) -> None:
    """A 315 whose BSN fails the eleven-test is refused by the provider node (BRS28) naming CS002, as the
    chain does; nothing reaches the municipality."""
    c = Cases(13)
    head = c.head(AANBIEDER, GEMEENTE)
    response = await gw.submit(
        AANBIEDER, t.verzoek_toewijzing("ijw", head, c.client(valid=False), "R-1", c.today)
    )
    rules = [e["rule"] for e in response.json()["errors"]]
    assert (422, "BRS28", ["CS002"]) == (response.status_code, response.json()["code"], rules)
    assert [] == await gw.lease(GEMEENTE)


async def test_content_error_in_warn_mode_gets_a_0001_retour_and_nothing_else(
    gw_warn: GatewayUnderTest,
) -> None:
    """With GATEWAY_CONTENT_RULES=warn the same 315 passes the node (its 202 names CS002); the municipality
    answers only 316 with 0001."""
    gw = gw_warn
    c = Cases(13)
    async with simulated(gw, GEMEENTE, Policy(grant=1.0)):
        head = c.head(AANBIEDER, GEMEENTE)
        data = t.verzoek_toewijzing("ijw", head, c.client(valid=False), "R-1", c.today)
        response = await gw.submit(AANBIEDER, data)
        assert (202, ["CS002"]) == (
            response.status_code,
            [f["rule"] for f in response.json()["ruleFindings"]],
        )
        assert [("JW316", ("0001",))] == names(await expect(gw, AANBIEDER, 1))
        await asyncio.sleep(1.0)
        assert [] == await gw.lease(AANBIEDER)


async def test_simulated_provider_answers_301_and_319(gw: GatewayUnderTest) -> None:
    """The simulated provider answers a 301 with a 302 and a 319 with a 320, both header-only with 0200."""
    c = Cases(14)
    async with simulated(gw, AANBIEDER, Policy()):
        await send(
            gw, GEMEENTE, t.toewijzing("ijw", c.head(GEMEENTE, AANBIEDER), c.client(), 5, c.today, None)
        )
        await send(gw, GEMEENTE, t.antwoord("iwmo", c.head(GEMEENTE, AANBIEDER), "R-2", True))
        assert [("JW302", ("0200",)), ("WMO320", ("0200",))] == names(await expect(gw, GEMEENTE, 2))


async def test_traffic_generator_sends_the_mix_and_every_exchange_is_answered(gw: GatewayUnderTest) -> None:
    """Forty messages at 40/s between two parties: all accepted, and the simulated parties answer them."""
    sim = Simulation(
        gw.clients,
        {k: gw.tokens[k] for k in (GEMEENTE, AANBIEDER)},
        rate=40.0,
        seed=3,
        faults=Faults(0, 0, 0),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(sim.run(stop, count=40))
    for _ in range(300):
        if sum(sim.stats.received.values()) >= 40 and sum(sim.stats.sent.values()) >= 40:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await task
    started = sum(n for name, n in sim.stats.sent.items() if name[-3:] in {"315", "305", "307", "317", "323"})
    assert ({}, True) == (dict(sim.stats.refused), started > 0 and sum(sim.stats.received.values()) >= 40)


async def test_simulate_command_runs_its_traffic_over_mutual_tls(https_gw: ServedGateway) -> None:
    """``gateway simulate`` with GATEWAY_TLS_DIR reaches nodes that only serve HTTPS: everything it starts is
    accepted, crosses the broker and is answered by the simulated counterpart."""
    tokens = https_gw.workdir / "tokens.json"
    tokens.write_text(json.dumps({k: https_gw.gw.tokens[k] for k in (GEMEENTE, AANBIEDER)}))
    args = ("--tokens", str(tokens), "--rate", "20", "--count", "20", "--duration", "8", "--seed", "5")
    code, out, err = await gateway_command(https_gw, "simulate", *args, "--no-faults", "--wait", "10")
    summary = out.strip().splitlines()[-1] if out.strip() else err
    found = re.search(r"^sent (\d+) .*; received (\d+); refused: (.*)$", summary)
    assert found is not None, summary
    sent, received, refused = int(found[1]), int(found[2]), found[3]
    assert (0, "none", True, True) == (code, refused, sent >= 20, received >= 20), summary
