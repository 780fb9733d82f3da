"""VECOZO REST Pull and Berichtstatus on the provider node, end to end, as a vendor's client reads them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.harness import GatewayUnderTest
from tests.koppeling.vendor import Vendor, metadata, new_uuid
from tests.messages import heen, retour

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE = "0384"
AANBIEDER = "42420001"


def vendor(gw: GatewayUnderTest, party: str = AANBIEDER) -> Vendor:
    return Vendor(gw.clients["vecozo"], gw.auth(party))


async def pulled(gw: GatewayUnderTest, count: int, party: str = AANBIEDER, within: float = 20) -> list[Any]:
    """The pull list once it holds ``count`` messages (waiting for them to cross the link)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        response = await vendor(gw, party).berichten()
        assert 200 == response.status_code, response.text
        found: list[Any] = response.json()
        if len(found) >= count or loop.time() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_a_municipality_message_is_pulled_fetched_and_confirmed(gw: GatewayUnderTest) -> None:
    """A WMO301 sent over /v1/berichten is listed with its metadata, its payload fetched, and once confirmed
    it does not come back, nor does its payload (404)."""
    data = heen("WMO301", GEMEENTE, AANBIEDER)
    sent = await gw.submit(GEMEENTE, data)
    assert 202 == sent.status_code, sent.text
    [item] = await pulled(gw, 1)
    routing, refs, basis = item["routeringgegevens"], item["referentiegegevens"], item["basisgegevens"]
    assert (GEMEENTE, AANBIEDER, "WMO301") == (
        routing["afzender"]["code"],
        routing["geadresseerden"][0]["code"],
        routing["berichtstroom"]["berichttype"],
    )
    assert (sent.json()["trackingId"], len(data)) == (refs["traceerId"], basis["payload"]["grootte"])
    payload = await vendor(gw).payload(basis["payload"]["url"])
    assert (200, data) == (payload.status_code, payload.content)
    assert [item["referentiegegevens"]["traceerId"]] == [
        i["referentiegegevens"]["traceerId"] for i in await pulled(gw, 1)
    ]
    assert 202 == (await vendor(gw).bevestig(refs["traceerId"])).status_code
    assert [] == await pulled(gw, 0)
    assert 404 == (await vendor(gw).payload(refs["traceerId"])).status_code  # no longer available for pull
    trace = await gw.trace(AANBIEDER, refs["traceerId"])
    assert {"fetched", "acked"} <= {e["event"] for e in trace["events"]}


async def test_another_partys_message_is_404(gw: GatewayUnderTest) -> None:
    """Another provider cannot fetch or confirm a message on someone else's pull list."""
    sent = await gw.submit(GEMEENTE, heen("WMO301", GEMEENTE, AANBIEDER))
    [item] = await pulled(gw, 1)
    traceer = item["referentiegegevens"]["traceerId"]
    other = vendor(gw, "65656055")
    assert [404, 404] == [
        (await other.payload(traceer)).status_code,
        (await other.bevestig(traceer)).status_code,
    ]
    assert [] == (await other.status(traceerId=sent.json()["trackingId"])).json()


@pytest.mark.parametrize("limit", ["0", "251", "abc", "-1", "+5", " 5", "\u0665", "5_0", ""])
async def test_a_limit_out_of_range_is_400(gw: GatewayUnderTest, limit: str) -> None:
    """limit outside 1..250, or not written as an integer in ASCII digits, is a 400 ValidationProblemDetails
    naming limit."""
    response = await gw.clients["vecozo"].get(
        "/berichtenservice/berichten/rest-pull/v1/berichten",
        params={"limit": limit},
        headers=gw.auth(AANBIEDER),
    )
    assert (400, ["limit"]) == (response.status_code, list(response.json()["errors"]))


@pytest.mark.parametrize(
    "query", [{}, {"traceerId": "x"}, {"traceerId": new_uuid(), "conversatieId": new_uuid()}]
)
async def test_a_status_query_against_the_spec_is_400(gw: GatewayUnderTest, query: dict[str, str]) -> None:
    """No id, a malformed id, or both ids: 400."""
    assert 400 == (await vendor(gw).status(**query)).status_code


async def test_a_retour_comes_back_through_pull_answering_the_push(gw: GatewayUnderTest) -> None:
    """A pushed WMO315 is answered by the municipality's WMO316: pulled with alsAntwoordOp = the push's
    traceerId and its conversatieId; the status shows both, the push Bezorgd once the municipality acked."""
    request = heen("WMO315", AANBIEDER, GEMEENTE)
    meta = metadata(AANBIEDER, GEMEENTE, "WMO315")
    traceer, conversatie = (
        meta["referentiegegevens"]["traceerId"],
        meta["referentiegegevens"]["conversatieId"],
    )
    assert 204 == (await vendor(gw).push(meta, request)).status_code
    [before] = (await vendor(gw).status(traceerId=traceer)).json()
    assert before["berichtstatus"] in ("VerwerkingVoltooid", "WordtAangeboden")
    await gw.receive(GEMEENTE)  # leased and acked over HTTP by the municipality
    assert 202 == (await gw.submit(GEMEENTE, retour("WMO316", request))).status_code
    [item] = await pulled(gw, 1)
    assert (traceer, conversatie) == (
        item["referentiegegevens"]["alsAntwoordOp"],
        item["referentiegegevens"]["conversatieId"],
    )
    found = (
        await vendor(gw).zoeken({"zoekpadType": "ZoekpadOpAlsAntwoordOp", "alsAntwoordOp": traceer})
    ).json()
    assert [item["referentiegegevens"]["traceerId"]] == [f["referentiegegevens"]["traceerId"] for f in found]
    statuses = {
        s["referentiegegevens"]["traceerId"]: s for s in (await vendor(gw).status(traceerId=traceer)).json()
    }
    assert "Bezorgd" == statuses[traceer]["berichtstatus"]
    assert item["referentiegegevens"]["traceerId"] in statuses
    by_conversation = (await vendor(gw).status(conversatieId=conversatie)).json()
    assert set(statuses) == {s["referentiegegevens"]["traceerId"] for s in by_conversation}
