"""Edge cases of the push as a vendor's client meets them (the in-memory broker): each a spec-conform answer,
nothing half-stored, never another party's data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import GatewayUnderTest
from tests.koppeling.vendor import PUSH, Vendor, metadata, new_uuid
from tests.messages import heen
from tests.privacy.conftest import fake_gateway, security

pytestmark = [pytest.mark.shared]

AANBIEDER, OTHER, GEMEENTE = "42420001", "42420002", "0384"


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[GatewayUnderTest]:
    async with fake_gateway(tmp_path, security(tmp_path)) as gut:
        yield gut


def vendor(gw: GatewayUnderTest, party: str = AANBIEDER) -> Vendor:
    return Vendor(gw.clients["vecozo"], gw.auth(party))


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert status == response.status_code, response.text
    assert "application/json" == response.headers["content-type"]
    found: dict[str, Any] = response.json()
    assert status == found["status"]
    return found


@pytest.mark.parametrize(
    ("meta", "payload", "errors"),
    [
        (b"", b"<x/>", {"berichtMetadata": ["is not valid JSON"]}),
        (b"null", b"<x/>", {"berichtMetadata": ["Input should be an object"]}),
        (b"[]", b"<x/>", {"berichtMetadata": ["Input should be an object"]}),
        (b'{"routeringgegevens": ', b"<x/>", {"berichtMetadata": ["is not valid JSON"]}),
    ],
)
async def test_metadata_that_is_empty_or_no_object_is_400(
    gw: GatewayUnderTest, meta: Any, payload: bytes, errors: dict[str, list[str]]
) -> None:
    """Metadata that is empty, not JSON, or JSON but not an object: 400 naming the part; the traceerId of
    the push has no status (nothing was stored)."""
    stated = metadata(AANBIEDER, GEMEENTE, "WMO315")
    response = await vendor(gw).push(stated if meta == "valid" else meta, payload)
    assert errors == _problem(response, 400)["errors"]
    status = await vendor(gw).status(traceerId=stated["referentiegegevens"]["traceerId"])
    assert (200, []) == (status.status_code, status.json())


@pytest.mark.parametrize("payload", [b"", b" \r\n"])
async def test_an_empty_payload_is_422_brs14_and_afgekeurd(gw: GatewayUnderTest, payload: bytes) -> None:
    """A payload part holding nothing (or blanks) is a message without XML: 422 BRS14 ("Payload bevat geen
    well-formed XML"), and its status AfgekeurdDoorDienst with that code, as any other payload without XML."""
    stated = metadata(AANBIEDER, GEMEENTE, "WMO315")
    assert "BRS14" == _problem(await vendor(gw).push(stated, payload), 422)["code"]
    [status] = (await vendor(gw).status(traceerId=stated["referentiegegevens"]["traceerId"])).json()
    assert ("AfgekeurdDoorDienst", "BRS14") == (status["berichtstatus"], status["meldingen"][0]["code"])


async def test_a_multipart_type_without_a_boundary_is_400_saying_so(gw: GatewayUnderTest) -> None:
    response = await gw.clients["vecozo"].post(
        PUSH + "/berichten",
        content=b"--x\r\n\r\n",
        headers={**gw.auth(AANBIEDER), "Content-Type": "multipart/form-data"},
    )
    assert {"Content-Type": ["needs a boundary parameter of 1 to 70 characters (RFC 2046)"]} == _problem(
        response, 400
    )["errors"]


async def test_two_senders_may_use_one_traceer_id_and_each_sees_its_own(gw: GatewayUnderTest) -> None:
    """A traceerId is unique per sender (BRS114 is about one AGB-code): another provider's push under the same
    traceerId is taken too, and each provider's status of that traceerId shows its own message only (told
    apart by the conversatieId each stated); a third party sees nothing."""
    traceer = new_uuid()
    conversations = {}
    for party in (AANBIEDER, OTHER):
        meta = metadata(party, GEMEENTE, "WMO315", traceer_id=traceer)
        conversations[party] = meta["referentiegegevens"]["conversatieId"]
        response = await vendor(gw, party).push(meta, heen("WMO315", party, GEMEENTE))
        assert 204 == response.status_code, response.text
    for party in (AANBIEDER, OTHER):
        found = (await vendor(gw, party).status(traceerId=traceer)).json()
        assert [(traceer, conversations[party])] == [
            (s["referentiegegevens"]["traceerId"], s["referentiegegevens"]["conversatieId"]) for s in found
        ]
    assert [] == (await vendor(gw, "65656055").status(traceerId=traceer)).json()
