"""The hostile XML corpus sent over HTTP to both served nodes (and pushed over the VECOZO REST interface):
each attack refused for its reason with the node's own chain code, nothing reaches the network, and the node
goes on serving."""

from __future__ import annotations

import select
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.errors import NodeRole
from tests.harness import GatewayUnderTest
from tests.koppeling.vendor import Vendor, metadata
from tests.messages import example, new_id, set_header

from .conftest import served

pytestmark = [pytest.mark.shared]

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
CORPUS = sorted(HOSTILE.glob("*/*.xml"))
SENDER: dict[NodeRole, str] = {"ggk": "0384", "vecozo": "42420001"}
RECIPIENT: dict[NodeRole, str] = {"ggk": "42420001", "vecozo": "0384"}
CODE: dict[NodeRole, str] = {"ggk": "StUF055", "vecozo": "CC02"}
VALID: dict[NodeRole, str] = {"ggk": "WMO301", "vecozo": "WMO315"}


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    """The port ``PORT`` in the fixtures points at: nothing may ever connect to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


def connections(sock: socket.socket) -> int:
    readable, _, _ = select.select([sock], [], [], 0)
    return len(readable)


@pytest.fixture(params=["ggk", "vecozo"])
async def node(
    request: pytest.FixtureRequest, fake_gw: GatewayUnderTest
) -> AsyncIterator[tuple[NodeRole, str]]:
    name: NodeRole = request.param
    runtime = fake_gw.runtime
    async with served(runtime.apps[name], runtime.settings, name) as url:
        yield name, url


def generated() -> dict[str, tuple[bytes, int, str]]:
    """The large attacks, made here: name -> (bytes, status, reason)."""
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    entity = b"x" * 100_000
    blowup = (
        b'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY big "'
        + entity
        + b'">]>\n<a>'
        + b"&big;" * 20_000
        + b"</a>"
    )
    huge = b'<?xml version="1.0"?>\n<a>' + b"x" * (26 * 1024 * 1024) + b"</a>"
    return {
        "100000-deep": (deep, 400, "too-deep"),
        "quadratic-blowup": (blowup, 400, "unsafe-xml"),
        "26-megabytes": (huge, 413, "too-large"),
    }


async def test_every_hostile_message_is_refused_and_the_node_serves_on(
    node: tuple[NodeRole, str], fake_gw: GatewayUnderTest, listener: socket.socket
) -> None:
    """Every fixture and generated attack gets its refusal (reason, node's code); then a valid message is
    accepted, and no connection was attempted anywhere."""
    name, url = node
    party = SENDER[name]
    headers = {**fake_gw.auth(party), "Content-Type": "application/xml"}
    port = str(listener.getsockname()[1]).encode()
    cases = {
        f"{p.parent.name}/{p.name}": (p.read_bytes().replace(b"PORT", port), 400, p.parent.name)
        for p in CORPUS
    }
    cases.update(generated())
    got, expected = {}, {}
    async with httpx.AsyncClient(timeout=60) as client:
        for label, (data, status, reason) in cases.items():
            response = await client.post(f"{url}/v1/berichten", content=data, headers=headers)
            problem = response.json()
            got[label] = (response.status_code, problem["type"].rsplit(":", 1)[1], problem["code"])
            expected[label] = (status, reason, "IB007" if status == 413 and name == "ggk" else CODE[name])
            if status == 413 and name == "vecozo":
                expected[label] = (status, reason, "CC03")
        valid = set_header(
            example(VALID[name]), Afzender=party, Ontvanger=RECIPIENT[name], Identificatie=new_id()
        )
        after = await client.post(f"{url}/v1/berichten", content=valid, headers=headers)
    assert (expected, 202, 0) == (got, after.status_code, connections(listener))


async def test_every_hostile_payload_pushed_over_vecozo_rest_is_refused_and_the_node_serves_on(
    fake_gw: GatewayUnderTest, listener: socket.socket
) -> None:
    """The VECOZO REST push (added after the review) refuses the same corpus: 422 with VECOZO's code, BRS14
    for every parse refusal (the XML 1.1 declaration included: it was CC02, a code REST clients do not know)
    and BRS06 for the oversized one; then a valid push is 204, and no connection was attempted anywhere."""
    runtime = fake_gw.runtime
    port = str(listener.getsockname()[1]).encode()
    cases = {f"{p.parent.name}/{p.name}": p.read_bytes().replace(b"PORT", port) for p in CORPUS}
    cases.update({label: data for label, (data, _, _) in generated().items()})
    got, expected = {}, {}
    async with (
        served(runtime.apps["vecozo"], runtime.settings, "vecozo") as url,
        httpx.AsyncClient(base_url=url, timeout=60) as client,
    ):
        vendor = Vendor(client, fake_gw.auth(SENDER["vecozo"]))
        for label, data in cases.items():
            response = await vendor.push(metadata(SENDER["vecozo"], RECIPIENT["vecozo"], "WMO315"), data)
            got[label] = (response.status_code, response.json()["code"])
            expected[label] = (422, "BRS06" if label == "26-megabytes" else "BRS14")
        valid = set_header(
            example("WMO315"),
            Afzender=SENDER["vecozo"],
            Ontvanger=RECIPIENT["vecozo"],
            Identificatie=new_id(),
        )
        after = await vendor.push(metadata(SENDER["vecozo"], RECIPIENT["vecozo"], "WMO315"), valid)
    assert (expected, 204, 0) == (got, after.status_code, connections(listener))
