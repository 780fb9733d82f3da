"""The dead-letter workbench on the real broker: list (metadata only), redrive, discard, audit trail."""

from __future__ import annotations

import pytest

from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.deadletter import dead_letter, wait_dead
from tests.ops.messages import AANBIEDER, GEMEENTE, request

pytestmark = pytest.mark.broker

BEARER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def make_dead_letter(gw: GatewayUnderTest) -> str:
    assert 202 == (await gw.submit(AANBIEDER, request())).status_code
    tracking_id = await dead_letter(gw, "ggk", GEMEENTE)
    await wait_dead(gw, "ggk", tracking_id)
    return tracking_id


async def test_listing_shows_metadata_never_the_body(gw: GatewayUnderTest) -> None:
    """A dead letter is listed with its ids, headers and why it died, and without its body."""
    tracking_id = await make_dead_letter(gw)
    listed = (await gw.clients["ggk"].get("/dashboard/api/dead-letters/ggk", headers=BEARER)).json()
    (item,) = [d for d in listed if d["trackingId"] == tracking_id]
    assert ("WMO315", "mailbox.0384", "rejected", "mailbox.0384", False) == (
        item["message"],
        item["diedIn"],
        item["reason"],
        item["target"],
        any("body" in key.lower() for key in item),
    )


async def test_redrive_puts_it_back_in_its_mailbox_with_the_same_body(gw: GatewayUnderTest) -> None:
    """After a redrive the message is in the recipient's mailbox again, byte-identical, and the DLQ is empty."""
    data = request()
    assert 202 == (await gw.submit(AANBIEDER, data)).status_code
    tracking_id = await dead_letter(gw, "ggk", GEMEENTE)
    await wait_dead(gw, "ggk", tracking_id)
    response = await gw.clients["ggk"].post(
        "/dashboard/api/dead-letters/ggk/redrive",
        headers=BEARER,
        json={"trackingIds": [tracking_id], "reason": "recipient fixed its software"},
    )
    body, item = await gw.receive(GEMEENTE)
    assert ([tracking_id], tracking_id, data) == (response.json()["done"], item["trackingId"], body)


async def test_every_action_needs_a_reason(gw: GatewayUnderTest) -> None:
    """A redrive without a reason is refused and the dead letter stays."""
    tracking_id = await make_dead_letter(gw)
    response = await gw.clients["ggk"].post(
        "/dashboard/api/dead-letters/ggk/redrive",
        headers=BEARER,
        json={"trackingIds": [tracking_id], "reason": ""},
    )
    listed = (await gw.clients["ggk"].get("/dashboard/api/dead-letters/ggk", headers=BEARER)).json()
    assert (400, [tracking_id]) == (response.status_code, [d["trackingId"] for d in listed])


async def test_discard_all_empties_the_dlq_and_is_audited(gw: GatewayUnderTest) -> None:
    """Discarding all removes every dead letter and writes one audit entry each, with the reason."""
    first = await make_dead_letter(gw)
    second = await make_dead_letter(gw)
    response = await gw.clients["ggk"].post(
        "/dashboard/api/dead-letters/ggk/discard", headers=BEARER, json={"all": True, "reason": "test data"}
    )
    listed = (await gw.clients["ggk"].get("/dashboard/api/dead-letters/ggk", headers=BEARER)).json()
    audit = gw.runtime.protection.audit
    entries = [
        (e.decision, e.tracking_id, e.reason, e.receiver)
        for e in await audit.entries()
        if e.kind == "operator"
    ]
    assert (sorted([first, second]), [], sorted(entries)) == (
        sorted(response.json()["done"]),
        listed,
        sorted([("discard", first, "test data", GEMEENTE), ("discard", second, "test data", GEMEENTE)]),
    )


async def test_redrive_is_in_track_and_trace(gw: GatewayUnderTest) -> None:
    """The message's life shows the redrive after it was dead-lettered."""
    tracking_id = await make_dead_letter(gw)
    await gw.clients["ggk"].post(
        "/dashboard/api/dead-letters/ggk/redrive", headers=BEARER, json={"all": True, "reason": "retry"}
    )
    life = (await gw.clients["ggk"].get(f"/dashboard/api/trace/{tracking_id}", headers=BEARER)).json()
    assert "redriven" in [e["event"] for e in life["events"]]


async def test_cross_site_discard_with_the_session_cookie_is_refused(gw: GatewayUnderTest) -> None:
    """The CSRF reproduction: the session cookie, a foreign Origin and text/plain get 403 and nothing is
    discarded; the same-origin JSON request with the cookie does the work."""
    tracking_id = await make_dead_letter(gw)
    client = gw.clients["ggk"]
    signed_in = await client.post("/dashboard/login", data={"token": OPERATOR_TOKEN, "operator": "alice"})
    cookie = {"Cookie": f"gk_operator={signed_in.cookies['gk_operator']}"}
    forged = await client.post(
        "/dashboard/api/dead-letters/ggk/discard",
        content=b'{"all": true, "reason": "csrf"}',
        headers={**cookie, "Origin": "https://evil.example", "Content-Type": "text/plain"},
    )
    plain = await client.post(
        "/dashboard/api/dead-letters/ggk/discard",
        content=b'{"all": true, "reason": "csrf"}',
        headers={**cookie, "Content-Type": "text/plain"},
    )
    still = [
        d["trackingId"] for d in (await client.get("/dashboard/api/dead-letters/ggk", headers=BEARER)).json()
    ]
    done = await client.post(
        "/dashboard/api/dead-letters/ggk/discard",
        json={"trackingIds": [tracking_id], "reason": "test"},
        headers={**cookie, "Origin": str(client.base_url).rstrip("/")},
    )
    assert (403, 415, True, [tracking_id]) == (
        forged.status_code,
        plain.status_code,
        tracking_id in still,
        done.json()["done"],
    )
