"""A pushed message read over AMQP by the municipality is Bezorgd once the node traces AMQP deliveries.

With ``GATEWAY_TRACE_AMQP_DELIVERIES`` the municipal node sees the read of the municipality's own broker user
(RabbitMQ's firehose: ``fetched`` via ``amqp`` in track & trace), and the provider's status of its push
follows that fact. Without it the status stays WordtAangeboden (tests/e2e/test_koppeling_lifecycle.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest

from adapters.rabbitmq import BrokerSettings
from gateway.config import SecuritySettings
from tests.broker.conftest import Cleanup
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest, gateway_under_test
from tests.koppeling.vendor import Vendor, metadata
from tests.messages import heen

pytestmark = [pytest.mark.broker, pytest.mark.shared, pytest.mark.slow]

AANBIEDER, GEMEENTE = "42420001", "0363"


@pytest.fixture
async def traced(
    sqlite_url: str, e2e_broker_settings: BrokerSettings, tmp_path: Path
) -> AsyncIterator[GatewayUnderTest]:
    """The whole gateway with RabbitMQ's firehose on its vhosts."""
    sec = SecuritySettings(
        receipt_dir=tmp_path / "pki",
        privacy_key_file=tmp_path / "privacy.key",
        purge_interval=0,
        trace_amqp_deliveries=True,
    )
    async with gateway_under_test(sqlite_url, e2e_broker_settings, security=sec) as found:
        yield found


async def test_a_push_read_over_amqp_is_bezorgd(
    traced: GatewayUnderTest, e2e_broker_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """Pushed, read and acked over AMQP by the municipality's own broker user: the push's status is Bezorgd."""
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    issued = (
        await traced.clients["ggk"].post(
            f"/v1/admin/participants/{GEMEENTE}/broker-credential", headers=operator
        )
    ).json()
    broker_cleanup.users.add(issued["user"])
    vendor = Vendor(traced.clients["vecozo"], traced.auth(AANBIEDER))
    meta = metadata(AANBIEDER, GEMEENTE, "WMO315")
    data = heen("WMO315", AANBIEDER, GEMEENTE)
    assert 204 == (await vendor.push(meta, data)).status_code
    url = e2e_broker_settings.node_url("ggk", user=issued["user"], password=issued["password"])
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(issued["queue"], ensure=False)
        async with queue.iterator(timeout=30) as messages:
            async for message in messages:
                async with message.process():
                    assert data == message.body
                break
    traceer = meta["referentiegegevens"]["traceerId"]
    status = ""
    for _ in range(100):
        [found] = (await vendor.status(traceerId=traceer)).json()
        status = found["berichtstatus"]
        if status == "Bezorgd":
            break
        await asyncio.sleep(0.2)
    assert "Bezorgd" == status
