"""The operator dashboard over HTTP (in-memory broker): sign-in, overview figures, track & trace."""

from __future__ import annotations

from gateway.ops import session
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.messages import AANBIEDER, GEMEENTE, request

BEARER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def sign_in(gw: GatewayUnderTest, token: str = OPERATOR_TOKEN) -> int:
    form = {"token": token, "operator": "alice", "next": "/dashboard"}
    response = await gw.clients["ggk"].post("/dashboard/login", data=form)
    return (
        response.status_code
        if response.status_code != 303
        else int("/dashboard/login" in response.headers["location"])
    )


async def test_without_credential_the_dashboard_sends_to_sign_in(fake_gw: GatewayUnderTest) -> None:
    """An anonymous visit is redirected to the sign-in form; the JSON API answers 401."""
    client = fake_gw.clients["ggk"]
    page = await client.get("/dashboard")
    api = await client.get("/dashboard/api/summary")
    assert (303, "/dashboard/login?next=/dashboard", 401) == (
        page.status_code,
        page.headers["location"],
        api.status_code,
    )


async def test_a_wrong_credential_sets_no_cookie(fake_gw: GatewayUnderTest) -> None:
    """Signing in with another token returns to the form and sets no session cookie."""
    response = await fake_gw.clients["ggk"].post("/dashboard/login", data={"token": "nope", "operator": "x"})
    assert ("/dashboard/login?failed=1&next=/dashboard", None) == (
        response.headers["location"],
        response.cookies.get(session.COOKIE),
    )


async def test_signed_in_overview_shows_the_figures(fake_gw: GatewayUnderTest) -> None:
    """After sign-in the overview renders, with the accepted count of the last 15 minutes."""
    await fake_gw.submit(AANBIEDER, request())
    assert 0 == await sign_in(fake_gw)
    page = await fake_gw.clients["ggk"].get("/dashboard")
    assert (200, True) == (page.status_code, '<div class="figure" id="accepted-15m">1</div>' in page.text)


async def test_summary_counts_throughput_per_message_type(fake_gw: GatewayUnderTest) -> None:
    """The summary's throughput series holds each accepted message under its type."""
    for std in ("iwmo", "iwmo", "ijw"):
        await fake_gw.submit(AANBIEDER, request(std))
    summary = (await fake_gw.clients["vecozo"].get("/dashboard/api/summary", headers=BEARER)).json()
    totals = {name: sum(values) for name, values in summary["throughput"]["series"].items()}
    assert ({"JW315": 1, "WMO315": 2}, 3) == (totals, summary["window"]["accepted"])


async def test_summary_lists_top_refusal_reasons(fake_gw: GatewayUnderTest) -> None:
    """A refused message shows up under its code and reason, and in the refusal rate."""
    await fake_gw.submit(AANBIEDER, request())
    await fake_gw.submit(AANBIEDER, b"<not-a-standard-message/>")
    summary = (await fake_gw.clients["ggk"].get("/dashboard/api/summary", headers=BEARER)).json()
    assert ([("CC02", 1)], 0.5) == (
        [(r["code"], r["count"]) for r in summary["topRefusals"]],
        summary["window"]["refusalRate"],
    )


async def test_trace_by_tracking_id_shows_the_life(fake_gw: GatewayUnderTest) -> None:
    """The trace page of an accepted message lists its events up to the mailbox."""
    tracking_id = (await fake_gw.submit(AANBIEDER, request())).json()["trackingId"]
    await sign_in(fake_gw)
    page = await fake_gw.clients["ggk"].get("/dashboard/trace", params={"id": tracking_id})
    assert all(
        f'data-event="{e}"' in page.text for e in ("received", "published", "crossed-link", "in-mailbox")
    )


async def test_trace_by_sender_and_identificatie(fake_gw: GatewayUnderTest) -> None:
    """Searching by sender and Identificatie finds the message and shows its conversation."""
    data = request()
    identificatie = data.split(b"<b:Identificatie>")[1].split(b"<")[0].decode()
    tracking_id = (await fake_gw.submit(AANBIEDER, data)).json()["trackingId"]
    found = await fake_gw.clients["ggk"].get("/dashboard/api/trace/" + tracking_id, headers=BEARER)
    await sign_in(fake_gw)
    page = await fake_gw.clients["ggk"].get(
        "/dashboard/trace", params={"sender": AANBIEDER, "identificatie": identificatie}
    )
    assert (200, True, GEMEENTE) == (
        found.status_code,
        f"/dashboard/trace?id={tracking_id}" in page.text,
        found.json()["record"]["recipient"],
    )


async def test_dead_letter_workbench_needs_the_real_broker(fake_gw: GatewayUnderTest) -> None:
    """On the in-memory broker the workbench says it is not available."""
    response = await fake_gw.clients["ggk"].get("/dashboard/api/dead-letters/ggk", headers=BEARER)
    assert 501 == response.status_code


def test_session_cookie_is_bound_to_the_credential() -> None:
    """A session signed with one credential is not valid under another, nor after it expired."""
    value = session.issue("one", "alice", now=1000.0, lifetime=60)
    assert ("alice", None, None) == (
        getattr(session.verify("one", value, now=1010.0), "operator", None),
        session.verify("two", value, now=1010.0),
        session.verify("one", value, now=2000.0),
    )
