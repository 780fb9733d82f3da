"""The admin API: a participant registered by an operator can receive at once, over HTTP and AMQP."""

from __future__ import annotations

import aio_pika
import pytest

from adapters.rabbitmq import BrokerSettings
from tests.broker.conftest import Cleanup
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.messages import example, new_id, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def test_new_municipality_receives_over_amqp_with_its_own_user(
    gw: GatewayUnderTest, e2e_broker_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """Register gemeente 0999, get its broker credential, and read a message sent to it over AMQP."""
    ggk = gw.clients["ggk"]
    added = await ggk.post(
        "/v1/admin/participants",
        json={"code": "0999", "kind": "gemeente", "name": "Proefgemeente"},
        headers=OPERATOR,
    )
    assert (201, "ggk") == (added.status_code, added.json()["homeNode"])
    issued = (await ggk.post("/v1/admin/participants/0999/broker-credential", headers=OPERATOR)).json()
    broker_cleanup.users.add(issued["user"])
    data = set_header(example("WMO315"), Afzender="42420001", Ontvanger="0999", Identificatie=new_id())
    tracking_id = (await gw.submit("42420001", data)).json()["trackingId"]
    url = e2e_broker_settings.node_url("ggk", user=issued["user"], password=issued["password"])
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(issued["queue"], ensure=False)
        async with queue.iterator(timeout=20) as messages:
            async for message in messages:
                async with message.process():
                    received = (message.body, message.message_id, message.headers["message"])
                break
    assert (data, tracking_id, "WMO315") == received


async def test_admin_needs_the_operator_credential(gw: GatewayUnderTest) -> None:
    """A participant's credential does not open the admin API."""
    response = await gw.clients["ggk"].get("/v1/admin/participants", headers=gw.auth("0384"))
    assert 401 == response.status_code


async def test_duplicate_registration_is_409(gw: GatewayUnderTest) -> None:
    """Registering a code twice is refused."""
    body = {"code": "0384", "kind": "gemeente", "name": "Diemen"}
    response = await gw.clients["ggk"].post("/v1/admin/participants", json=body, headers=OPERATOR)
    assert 409 == response.status_code
