"""The operator dashboard over HTTP (in-memory broker): sign-in, overview figures, track & trace."""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.ops import session
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.messages import AANBIEDER, GEMEENTE, request

BEARER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def sign_in(gw: GatewayUnderTest, token: str = OPERATOR_TOKEN, node: str = "ggk") -> int:
    form = {"token": token, "operator": "alice", "next": "/dashboard"}
    response = await gw.clients[node].post("/dashboard/login", data=form)
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
    assert ("/dashboard/login?failed=credential&next=/dashboard", None) == (
        response.headers["location"],
        response.cookies.get(session.COOKIE),
    )


async def test_signed_in_overview_shows_the_figures(fake_gw: GatewayUnderTest) -> None:
    """After sign-in the overview renders, with the node's accepted count of the last 15 minutes."""
    await fake_gw.submit(AANBIEDER, request())
    assert 0 == await sign_in(fake_gw, node="vecozo")
    page = await fake_gw.clients["vecozo"].get("/dashboard")
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
    summary = (await fake_gw.clients["vecozo"].get("/dashboard/api/summary", headers=BEARER)).json()
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


async def test_trace_of_a_message_in_its_mailbox_says_amqp_reads_are_not_seen(
    fake_gw: GatewayUnderTest,
) -> None:
    """On a node without GATEWAY_TRACE_AMQP_DELIVERIES the trace page of a message in its mailbox says that a
    read over AMQP is not seen, and why."""
    tracking_id = (await fake_gw.submit(AANBIEDER, request())).json()["trackingId"]
    await sign_in(fake_gw)
    page = await fake_gw.clients["ggk"].get("/dashboard/trace", params={"id": tracking_id})
    assert (True, True) == ('id="note"' in page.text, "GATEWAY_TRACE_AMQP_DELIVERIES" in page.text)


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


async def test_sign_in_form_body_is_capped(fake_gw: GatewayUnderTest) -> None:
    """A sign-in form of more than 64 KiB is refused with 413 while it streams, not read whole."""
    response = await fake_gw.clients["ggk"].post(
        "/dashboard/login",
        content=b"token=" + b"x" * (1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (413, "application/problem+json") == (response.status_code, response.headers["content-type"])


async def test_json_api_body_is_capped(fake_gw: GatewayUnderTest) -> None:
    """A dead-letter action body of more than 64 KiB is refused with 413."""

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap holds while streaming
        yield b'{"trackingIds": ['
        for _ in range(2000):
            yield b'"0123456789abcdef0123456789abcdef0123",' * 1
        yield b'"x"], "reason": "r"}'

    response = await fake_gw.clients["ggk"].post(
        "/dashboard/api/dead-letters/ggk/discard",
        content=chunks(),
        headers={**BEARER, "Content-Type": "application/json"},
    )
    assert 413 == response.status_code


async def test_unknown_node_is_404_problem(fake_gw: GatewayUnderTest) -> None:
    """``GET /dashboard/api/dead-letters/NODE`` for a node that does not exist is a 404 problem, not ``[]``."""
    response = await fake_gw.clients["ggk"].get("/dashboard/api/dead-letters/elsewhere", headers=BEARER)
    assert (404, "application/problem+json", "GW404") == (
        response.status_code,
        response.headers["content-type"],
        response.json()["code"],
    )


async def test_sign_out_revokes_the_session(fake_gw: GatewayUnderTest) -> None:
    """After sign-out the old cookie value no longer opens the dashboard, on either node."""
    client = fake_gw.clients["ggk"]
    signed_in = await client.post("/dashboard/login", data={"token": OPERATOR_TOKEN, "operator": "alice"})
    cookie = {"Cookie": f"{session.COOKIE}={signed_in.cookies[session.COOKIE]}"}
    before = await client.get("/dashboard/api/summary", headers=cookie)
    await client.post("/dashboard/logout", headers=cookie)
    client.cookies.clear()
    after = [
        (await fake_gw.clients[node].get("/dashboard/api/summary", headers=cookie)).status_code
        for node in ("ggk", "vecozo")
    ]
    assert (200, [401, 401]) == (before.status_code, after)


async def test_a_rejected_name_is_not_called_a_wrong_credential(fake_gw: GatewayUnderTest) -> None:
    """The right credential with a name the server refuses returns to the form saying the name is wrong."""
    client = fake_gw.clients["ggk"]
    response = await client.post("/dashboard/login", data={"token": OPERATOR_TOKEN, "operator": "a b<c>"})
    form = await client.get(response.headers["location"])
    assert (True, True, False) == (
        "failed=name" in response.headers["location"],
        'id="login-name-refused"' in form.text,
        'id="login-failed"' in form.text,
    )


async def test_the_sign_in_page_names_no_operator(fake_gw: GatewayUnderTest) -> None:
    """Before sign-in the header does not say "operator ·" (nobody is signed in)."""
    page = await fake_gw.clients["ggk"].get("/dashboard/login")
    assert ("operator ·" in page.text, "served by the ggk node" in page.text) == (False, True)


async def test_each_node_shows_its_own_figures(fake_gw: GatewayUnderTest) -> None:
    """A message accepted on the provider node counts on its dashboard, not on the municipal node's; with
    scope=gateway both are counted."""
    await fake_gw.submit(AANBIEDER, request())
    figures = {
        node: (await fake_gw.clients[node].get("/dashboard/api/summary", headers=BEARER)).json()
        for node in ("ggk", "vecozo")
    }
    whole = (await fake_gw.clients["ggk"].get("/dashboard/api/summary?scope=gateway", headers=BEARER)).json()
    assert ((0, "ggk"), (1, "vecozo"), (1, "gateway")) == (
        (figures["ggk"]["window"]["accepted"], figures["ggk"]["node"]),
        (figures["vecozo"]["window"]["accepted"], figures["vecozo"]["node"]),
        (whole["window"]["accepted"], whole["scope"]),
    )


async def test_refusals_are_grouped_by_code(fake_gw: GatewayUnderTest) -> None:
    """Refusals of one code with different reasons are one row, so the most frequent code comes first."""
    client = fake_gw.clients["vecozo"]
    for body in (b"<x/>", b"not xml", b"<?xml version='1.0'?><a xmlns='urn:x'/>"):
        await fake_gw.submit(AANBIEDER, body)
    summary = (await client.get("/dashboard/api/summary", headers=BEARER)).json()
    top = summary["topRefusals"][0]
    assert ("CC02", 3, True) == (top["code"], top["count"], len(top["reasons"]) >= 2)
