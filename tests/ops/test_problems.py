"""Every refusal of the HTTP interface is problem+json with the chain's code fields, 401s say how to sign in."""

from __future__ import annotations

from gateway.ops import session
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.messages import AANBIEDER, GEMEENTE, request

PROBLEM = "application/problem+json"
FIELDS = {"type", "title", "status", "detail", "code", "errors"}


async def test_a_bad_query_parameter_is_problem_json(fake_gw: GatewayUnderTest) -> None:
    """``GET /v1/mailbox?max=0`` is a 400 problem naming the parameter, not FastAPI's ``{"detail": [...]}``."""
    response = await fake_gw.clients["ggk"].get("/v1/mailbox?max=0", headers=fake_gw.auth(GEMEENTE))
    body = response.json()
    assert (400, PROBLEM, FIELDS, "GW400", ["query.max"]) == (
        response.status_code,
        response.headers["content-type"],
        FIELDS & set(body),
        body["code"],
        [e["path"] for e in body["errors"]],
    )


async def test_an_unknown_route_is_problem_json(fake_gw: GatewayUnderTest) -> None:
    """A path no operation serves is a 404 problem, a wrong method a 405 problem."""
    missing = await fake_gw.clients["ggk"].get("/v1/nothing-here")
    method = await fake_gw.clients["ggk"].delete("/v1/berichten")
    assert (404, PROBLEM, 405, PROBLEM, "GW404") == (
        missing.status_code,
        missing.headers["content-type"],
        method.status_code,
        method.headers["content-type"],
        missing.json()["code"],
    )


async def test_a_bad_admin_body_is_problem_json(fake_gw: GatewayUnderTest) -> None:
    """A JSON body that breaks the operation's schema is a problem naming the field."""
    response = await fake_gw.clients["ggk"].post(
        "/v1/admin/participants",
        json={"code": "12", "kind": "gemeente", "name": "X"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert (400, PROBLEM, ["body.code"]) == (
        response.status_code,
        response.headers["content-type"],
        [e["path"] for e in response.json()["errors"]],
    )


async def test_401_names_bearer_and_mutual_tls(fake_gw: GatewayUnderTest) -> None:
    """A 401 carries ``WWW-Authenticate: Bearer`` (RFC 6750) whose description names mutual TLS."""
    response = await fake_gw.clients["ggk"].get("/v1/mailbox")
    challenge = response.headers.get("www-authenticate", "")
    assert (401, PROBLEM, True, True) == (
        response.status_code,
        response.headers["content-type"],
        challenge.startswith('Bearer realm="gegevensknooppunt"'),
        "mutual TLS" in challenge,
    )


async def test_stuf_401_carries_the_challenge_too(fake_gw: GatewayUnderTest) -> None:
    """The StUF interface answers a missing credential with a Fo01 and the same ``WWW-Authenticate``."""
    response = await fake_gw.clients["ggk"].post(
        "/stuf/ggk0210", content=b"<x/>", headers={"Content-Type": "text/xml"}
    )
    assert (401, True) == (response.status_code, "Bearer" in response.headers.get("www-authenticate", ""))


async def test_acking_an_unknown_lease_says_it_is_unknown(fake_gw: GatewayUnderTest) -> None:
    """An ack of a lease never handed out is 404 "no such lease", not "went back to the mailbox"."""
    response = await fake_gw.ack(GEMEENTE, "0123456789abcdef0123456789abcdef")
    body = response.json()
    assert (404, "lease-unknown", False) == (
        response.status_code,
        body["type"].rsplit(":", 1)[1],
        "went back" in body["title"] + body["detail"],
    )


async def test_acking_twice_says_already_acknowledged(fake_gw: GatewayUnderTest) -> None:
    """The second ack of one lease is 404 and says the lease may have been acknowledged already."""
    assert 202 == (await fake_gw.submit(AANBIEDER, request())).status_code
    _, item = await fake_gw.receive(GEMEENTE, ack=False)
    first = await fake_gw.ack(GEMEENTE, item["leaseId"])
    second = await fake_gw.ack(GEMEENTE, item["leaseId"])
    assert (204, 404, True) == (
        first.status_code,
        second.status_code,
        "already acknowledged" in second.json()["detail"],
    )


async def test_acking_a_returned_lease_says_it_went_back(fake_gw: GatewayUnderTest) -> None:
    """An ack of a lease the broker already returned (the in-memory broker closing) is 410: went back."""
    assert 202 == (await fake_gw.submit(AANBIEDER, request())).status_code
    _, item = await fake_gw.receive(GEMEENTE, ack=False)
    await fake_gw.runtime.broker.close()  # returns every held message to its mailbox
    response = await fake_gw.ack(GEMEENTE, item["leaseId"])
    assert (410, "lease-gone") == (response.status_code, response.json()["type"].rsplit(":", 1)[1])


async def test_non_ascii_bearer_is_401(fake_gw: GatewayUnderTest) -> None:
    """``Authorization: Bearer op\\xe9`` is a 401 problem on every route that asks for a credential, the
    VECOZO REST interfaces (added after the review; the push served without the framework's layers) too."""
    headers = [(b"authorization", b"Bearer op\xe9")]
    routes = [
        ("ggk", "GET", "/v1/mailbox"),
        ("ggk", "GET", "/dashboard/api/summary"),
        ("ggk", "GET", "/v1/admin/participants"),
        ("ggk", "GET", "/v1/berichten/x"),
        ("ggk", "GET", "/metrics"),
        ("vecozo", "POST", "/v1/berichten"),
        ("vecozo", "POST", "/berichtenservice/berichten/rest-push/v1/berichten"),
        ("vecozo", "GET", "/berichtenservice/berichten/rest-pull/v1/berichten"),
        ("vecozo", "GET", "/berichtenservice/berichtstatus/rest-pull/v3/berichtstatussen?traceerId=x"),
    ]
    statuses = [
        (await fake_gw.clients[node].request(method, path, headers=headers)).status_code
        for node, method, path in routes
    ]
    assert [401] * len(routes) == statuses


async def test_non_ascii_session_cookie_is_401(fake_gw: GatewayUnderTest) -> None:
    """A dashboard cookie with characters outside ASCII is no session: 401 on the API, sign-in on pages."""
    headers = [(b"cookie", f"{session.COOKIE}=op\xe9.x".encode("latin-1"))]
    client = fake_gw.clients["ggk"]
    api = await client.get("/dashboard/api/summary", headers=headers)
    page = await client.get("/dashboard", headers=headers)
    assert (401, 303) == (api.status_code, page.status_code)


async def test_non_ascii_operator_token_at_sign_in_is_refused(fake_gw: GatewayUnderTest) -> None:
    """A sign-in form with a token outside ASCII returns to the form (no 500)."""
    response = await fake_gw.clients["ggk"].post(
        "/dashboard/login", data={"token": "op\u00e9", "operator": "alice"}
    )
    assert (303, True) == (response.status_code, "failed=credential" in response.headers["location"])


def test_lease_book_tells_expired_from_unknown() -> None:
    """The book's refusal: unknown lease 404, a lease past its time 410, a lease ended early 410."""
    from gateway.http.mailbox import LeaseBook

    now = [100.0]
    book = LeaseBook(clock=lambda: now[0])
    book.issued("0384", "a", 30)
    book.issued("0384", "b", 30)
    early = book.settle("0384", "a")
    now[0] = 131.0
    late = book.settle("0384", "b")
    assert [(410, "ended early"), (410, "expired"), (404, "not handed out")] == [
        (e.status, phrase)
        for e, phrase in (
            (early, "ended early"),
            (late, "expired"),
            (book.settle("0384", "b"), "not handed out"),
        )
        if phrase in e.detail
    ]
