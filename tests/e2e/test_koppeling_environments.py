"""VECOZO's test environment on the same node and broker: its own mailboxes, registry and data, and only
fictitious persons (BRS18)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.db.engine import environment_url
from adapters.rabbitmq import BrokerSettings
from tests.harness import GatewayUnderTest, gateway_under_test, remove_vhosts, seed_demo
from tests.koppeling.vendor import Vendor, metadata
from tests.messages import heen, set_all

pytestmark = [pytest.mark.broker, pytest.mark.shared]

GEMEENTE, AANBIEDER = "0384", "42420001"
REAL_BSN = "123456782"  # passes the eleven-test, outside the test range 9999xxxxx


@pytest.fixture
async def tst(
    sqlite_url: str, e2e_broker_settings: BrokerSettings
) -> AsyncIterator[tuple[GatewayUnderTest, dict[str, str]]]:
    """Production and the test environment ``tst``, each with the demo participants (and its own credentials)."""
    tokens = await seed_demo(environment_url(sqlite_url, "tst"))
    try:
        async with gateway_under_test(sqlite_url, e2e_broker_settings, environments=("tst",)) as gw:
            yield gw, tokens
    finally:
        prefix = f"{e2e_broker_settings.vhost_prefix}tst."
        await remove_vhosts(e2e_broker_settings.model_copy(update={"vhost_prefix": prefix}))


def auth(tokens: dict[str, str], party: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[party]}"}


async def test_a_push_on_tst_reaches_the_tst_mailbox_only(
    tst: tuple[GatewayUnderTest, dict[str, str]],
) -> None:
    """A push under /tst is delivered to the municipality's mailbox of the test environment, not production's."""
    gw, tokens = tst
    vendor = Vendor(gw.clients["vecozo"], auth(tokens, AANBIEDER), prefix="/tst")
    data = heen("WMO315", AANBIEDER, GEMEENTE)
    response = await vendor.push(metadata(AANBIEDER, GEMEENTE, "WMO315"), data)
    assert 204 == response.status_code, response.text
    leased: list[dict[str, str]] = []
    for _ in range(100):
        got = await gw.clients["ggk"].get("/tst/v1/mailbox", headers=auth(tokens, GEMEENTE))
        assert 200 == got.status_code, got.text
        leased = got.json()["messages"]
        if leased:
            break
        await asyncio.sleep(0.1)
    assert [data] == [base64.b64decode(m["body"]) for m in leased]
    assert [] == await gw.lease(GEMEENTE)


async def test_a_real_person_on_tst_is_brs18(tst: tuple[GatewayUnderTest, dict[str, str]]) -> None:
    """A client BSN outside the test range is refused on the test environment (422 BRS18)."""
    gw, tokens = tst
    vendor = Vendor(gw.clients["vecozo"], auth(tokens, AANBIEDER), prefix="/tst")
    data = set_all(heen("WMO315", AANBIEDER, GEMEENTE), "Bsn", REAL_BSN)
    response = await vendor.push(metadata(AANBIEDER, GEMEENTE, "WMO315"), data)
    assert (422, "BRS18") == (response.status_code, response.json()["code"])


async def test_each_environment_has_its_own_credentials(tst: tuple[GatewayUnderTest, dict[str, str]]) -> None:
    """Production's credential does not open the test environment, and the other way round."""
    gw, tokens = tst
    client: httpx.AsyncClient = gw.clients["vecozo"]
    path = "/berichtenservice/berichten/rest-pull/v1/berichten"
    assert 401 == (await client.get(f"/tst{path}", headers=gw.auth(AANBIEDER))).status_code
    assert 401 == (await client.get(path, headers=auth(tokens, AANBIEDER))).status_code
    assert 200 == (await client.get(f"/tst{path}", headers=auth(tokens, AANBIEDER))).status_code
