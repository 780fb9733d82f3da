"""``POST /v1/validaties`` on both nodes: the node's verdict with every finding, nothing routed or stored."""

from __future__ import annotations

import httpx
import pytest

from gateway.errors import NodeRole
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.messages import example

AANBIEDER, GEMEENTE = "42420001", "0384"
BAD_BSN = b"<wmo315:Bsn>123456789</wmo315:Bsn>"


def wmo315(bsn: bytes | None = None) -> bytes:
    data = example("WMO315")
    return data.replace(b"<wmo315:Bsn>999900006</wmo315:Bsn>", bsn) if bsn else data


async def validate(
    gw: GatewayUnderTest, data: bytes, node: NodeRole = "vecozo", party: str = AANBIEDER
) -> httpx.Response:
    headers = {**gw.auth(party), "Content-Type": "application/xml"}
    return await gw.clients[node].post("/v1/validaties", content=data, headers=headers)


async def test_valid_message_is_valid_and_goes_nowhere(fake_gw: GatewayUnderTest) -> None:
    """A valid WMO315: valid, the node would answer 202; nothing reaches the municipality's mailbox."""
    response = await validate(fake_gw, wmo315())
    body = response.json()
    assert (200, True, 202, None, "WMO315", []) == (
        response.status_code,
        body["valid"],
        body["status"],
        body["code"],
        body["message"],
        body["errors"],
    )
    assert [] == await fake_gw.lease(GEMEENTE)


@pytest.mark.parametrize(("node", "code"), [("vecozo", "BRS28"), ("ggk", "StUF055")])
async def test_broken_rule_is_named_with_the_chain_code_of_the_node(
    fake_gw: GatewayUnderTest, node: NodeRole, code: str
) -> None:
    """A BSN failing the eleven-test: not valid, 422 with BRS28 (provider node) or StUF055 (municipal node),
    one finding naming CS002 with its text, retourcode, element path and line; never the value."""
    party = AANBIEDER if node == "vecozo" else GEMEENTE
    response = await validate(fake_gw, wmo315(BAD_BSN), node, party)
    body = response.json()
    line = wmo315().split(b"<wmo315:Bsn>")[0].count(b"\n") + 1
    finding = {
        "kind": "rule",
        "code": code,
        "rule": "CS002",
        "retourcode": "0001",
        "path": "/Bericht/Client/Bsn",
        "line": line,
        "text": "De waarde moet voldoen aan de 11-proef.",
    }
    assert (False, 422, code, [finding]) == (body["valid"], body["status"], body["code"], body["errors"])
    assert "123456789" not in response.text


async def test_schema_invalid_message_lists_xsd_errors_and_broken_rules(fake_gw: GatewayUnderTest) -> None:
    """Not XSD-valid (a Geslacht outside its code list) and a bad BSN: both findings, XSD first."""
    data = wmo315(BAD_BSN).replace(b"<wmo315:Geslacht>", b"<wmo315:Geslacht>9", 1)
    body = (await validate(fake_gw, data)).json()
    kinds = [(e["kind"], e["code"], e["rule"]) for e in body["errors"]]
    assert (False, 422, "CC02") == (body["valid"], body["status"], body["code"])
    assert ("rule", "BRS28", "CS002") == kinds[-1] and kinds[0][:2] == ("xsd", "CC02")


async def test_needs_a_credential_and_takes_the_operators(fake_gw: GatewayUnderTest) -> None:
    """Without a credential 401; the operator credential may validate too."""
    client = fake_gw.clients["vecozo"]
    anonymous = await client.post(
        "/v1/validaties", content=wmo315(), headers={"Content-Type": "application/xml"}
    )
    operator = await client.post(
        "/v1/validaties",
        content=wmo315(),
        headers={"Content-Type": "application/xml", "Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert (401, 200) == (anonymous.status_code, operator.status_code)


async def test_not_xml_is_a_verdict_too(fake_gw: GatewayUnderTest) -> None:
    """A body that is not XML: not valid, the node's StUF055/CC02 answer with its reason."""
    body = (await validate(fake_gw, b"<not-closed>")).json()
    assert (False, 400, "CC02", "not-well-formed") == (
        body["valid"],
        body["status"],
        body["code"],
        body["reason"],
    )


async def test_page_is_served_without_external_urls(fake_gw: GatewayUnderTest) -> None:
    """The validation page and its script load from the node itself: no URL to anywhere else."""
    client = fake_gw.clients["ggk"]
    page = await client.get("/dashboard/validatie")
    script = await client.get("/dashboard/static/validatie.js")
    assert (200, 200) == (page.status_code, script.status_code)
    assert "http" not in page.text.replace("http-equiv", "") and "http" not in script.text
