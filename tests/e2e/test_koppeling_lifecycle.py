"""A vendor's provider software on VECOZO's REST interfaces, through both nodes and the real broker.

The provider pushes every official iJw and iWmo message a provider sends; the municipalities read them
(one over HTTP, one over AMQP with its own broker user); their retours come back through pull, each with
``alsAntwoordOp`` = the traceerId of the push it answers; the statuses follow the way; a broken message ends
AfgekeurdDoorDienst with its BRS code.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import pytest

from adapters.rabbitmq import BrokerSettings
from tests.broker.conftest import Cleanup
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.koppeling.vendor import Vendor, metadata
from tests.messages import example_path, first, heen, new_id, retour, set_all, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared, pytest.mark.slow]

AANBIEDER = "42420001"
HTTP_GEMEENTE = "0384"  # reads its mailbox over HTTP (lease + ack)
AMQP_GEMEENTE = "0363"  # reads its mailbox over AMQP with its own broker user
# what a provider sends, and what the municipality answers with
HEEN = {"305": "306", "307": "308", "315": "316", "317": "318", "323": None}
RETOUR_OF = {"301": "302", "319": "320"}  # the provider's retours to the municipality's messages


async def pull_all(vendor: Vendor, count: int, within: float = 30) -> list[dict[str, Any]]:
    """The pull list once it holds ``count`` messages."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        listed: list[dict[str, Any]] = (await vendor.berichten()).json()
        if len(listed) >= count or loop.time() > deadline:
            return listed
        await asyncio.sleep(0.2)


async def read_amqp(url: str, queue_name: str, count: int) -> list[bytes]:
    bodies: list[bytes] = []
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=False)
        async with queue.iterator(timeout=30) as messages:
            async for message in messages:
                async with message.process():
                    bodies.append(message.body)
                if len(bodies) == count:
                    break
    return bodies


async def test_a_provider_on_the_rest_interfaces(
    gw: GatewayUnderTest, e2e_broker_settings: BrokerSettings, broker_cleanup: Cleanup
) -> None:
    """Push every provider message of both standards, read them over HTTP and AMQP, pull the retours back
    with alsAntwoordOp, follow the statuses, and see a broken message refused with its code."""
    vendor = Vendor(gw.clients["vecozo"], gw.auth(AANBIEDER))
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    issued = (
        await gw.clients["ggk"].post(
            f"/v1/admin/participants/{AMQP_GEMEENTE}/broker-credential", headers=operator
        )
    ).json()
    broker_cleanup.users.add(issued["user"])

    # the municipality's messages the provider answers with its own retours: pulled, fetched, confirmed
    originals: dict[str, bytes] = {}
    for std in ("JW", "WMO"):
        for name in RETOUR_OF:
            originals[f"{std}{name}"] = data = heen(f"{std}{name}", HTTP_GEMEENTE, AANBIEDER)
            assert 202 == (await gw.submit(HTTP_GEMEENTE, data)).status_code
    listed = await pull_all(vendor, len(originals))
    traceer_of: dict[str, str] = {}
    for item in listed:
        payload = await vendor.payload(item["basisgegevens"]["payload"]["url"])
        assert 200 == payload.status_code
        traceer_of[item["routeringgegevens"]["berichtstroom"]["berichttype"]] = item["referentiegegevens"][
            "traceerId"
        ]
        assert originals[item["routeringgegevens"]["berichtstroom"]["berichttype"]] == payload.content
        assert 202 == (await vendor.bevestig(item["referentiegegevens"]["traceerId"])).status_code
    assert set(originals) == set(traceer_of)

    # every message a provider sends, pushed with metadata as the spec says
    pushed: dict[str, tuple[bytes, dict[str, Any]]] = {}
    for std in ("JW", "WMO"):
        for name in HEEN:
            gemeente = AMQP_GEMEENTE if name in ("305", "307") else HTTP_GEMEENTE
            data, meta = (
                heen(f"{std}{name}", AANBIEDER, gemeente),
                metadata(AANBIEDER, gemeente, f"{std}{name}"),
            )
            pushed[f"{std}{name}"] = (data, meta)
        for name, answer in RETOUR_OF.items():
            original = f"{std}{name}"
            data = retour(f"{std}{answer}", originals[original])
            meta = metadata(AANBIEDER, HTTP_GEMEENTE, f"{std}{answer}", als_antwoord_op=traceer_of[original])
            pushed[f"{std}{answer}"] = (data, meta)
    for name, (data, meta) in pushed.items():
        response = await vendor.push(meta, data)
        assert 204 == response.status_code, (name, response.text)

    # the municipalities read them: one over HTTP (lease + ack), one over AMQP
    over_http = [name for name in pushed if name[-3:] not in ("305", "307")]
    received_http = {(await gw.receive(HTTP_GEMEENTE))[0] for _ in over_http}
    url = e2e_broker_settings.node_url("ggk", user=issued["user"], password=issued["password"])
    over_amqp = [name for name in pushed if name[-3:] in ("305", "307")]
    received_amqp = set(await read_amqp(url, issued["queue"], len(over_amqp)))
    assert {pushed[n][0] for n in over_http} == received_http
    assert {pushed[n][0] for n in over_amqp} == received_amqp

    # their retours come back through pull, answering the pushes
    answers: dict[str, str] = {}
    for name, (data, _) in pushed.items():
        answer = HEEN.get(name[-3:])
        if answer is None:
            continue
        gemeente = first(data, "Ontvanger")
        response = await gw.submit(gemeente, retour(f"{name[:-3]}{answer}", data))
        assert 202 == response.status_code, response.text
        answers[f"{name[:-3]}{answer}"] = name
    listed = await pull_all(vendor, len(answers))
    assert len(answers) == len(listed)
    for item in listed:
        original = answers[item["routeringgegevens"]["berichtstroom"]["berichttype"]]
        refs = pushed[original][1]["referentiegegevens"]
        assert (refs["traceerId"], refs["conversatieId"]) == (
            item["referentiegegevens"]["alsAntwoordOp"],
            item["referentiegegevens"]["conversatieId"],
        )
        assert 202 == (await vendor.bevestig(item["referentiegegevens"]["traceerId"])).status_code

    # the statuses: acked over HTTP is Bezorgd; read over AMQP is still offered (the broker saw the ack)
    for name, (_, meta) in pushed.items():
        traceer = meta["referentiegegevens"]["traceerId"]
        found = {
            s["referentiegegevens"]["traceerId"]: s for s in (await vendor.status(traceerId=traceer)).json()
        }
        expected = "WordtAangeboden" if name in over_amqp else "Bezorgd"
        assert expected == found[traceer]["berichtstatus"], name

    # a broken message: refused at once, and its status says so with the code
    broken = set_header(example_path("JW315").read_bytes(), Identificatie=new_id())
    meta = metadata(AANBIEDER, HTTP_GEMEENTE, "JW315")
    response = await vendor.push(meta, broken)
    assert (422, "BRS13") == (response.status_code, response.json()["code"])
    [status] = (await vendor.status(traceerId=meta["referentiegegevens"]["traceerId"])).json()
    assert ("AfgekeurdDoorDienst", "BRS13") == (status["berichtstatus"], status["meldingen"][0]["code"])

    # a message breaking a content rule (CS002, the BSN's eleven-test): BRS28 naming the rule
    rule_broken = set_all(heen("WMO315", AANBIEDER, HTTP_GEMEENTE), "Bsn", "999900007")
    meta = metadata(AANBIEDER, HTTP_GEMEENTE, "WMO315")
    response = await vendor.push(meta, rule_broken)
    assert (422, "BRS28") == (response.status_code, response.json()["code"])
    [status] = (await vendor.status(traceerId=meta["referentiegegevens"]["traceerId"])).json()
    codes = [m["code"] for m in status["meldingen"]]
    assert ("AfgekeurdDoorDienst", "BRS28", True) == (status["berichtstatus"], codes[0], "CS002" in codes)
