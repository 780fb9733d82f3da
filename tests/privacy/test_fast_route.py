"""``POST /v1/berichten`` served by the node's fast path (``NodeApp.fast``, the answer in one write) answers
byte for byte as the framework's route does, over the node's own HTTP protocol: accepted, refused before
and after the body, malformed, oversized, unauthenticated, rate-limited, pipelined, ``Expect:
100-continue``, HTTP/1.0 and a client asking to close."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.errors import NotAuthenticated, NotUnique, Unavailable
from gateway.http.app import create_app
from gateway.http.deps import NodeServices
from gateway.http.limits import Limits, SlowClientLimits, guarded_protocol
from gateway.identity import Credentials
from gateway.pipeline.values import Accepted, Facts
from gateway.security.receipts import ReceiptSigner
from tests.privacy.test_answer_write import served

AT = datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=UTC)
TOKEN = "good-token"
LIMIT = 200  # the node's largest message in these tests


class Pipeline:
    """Answers by the body: accepted, refused, unavailable or broken."""

    async def submit(self, data: bytes, principal: str, facts: Facts | None = None) -> Accepted:
        if b"refuse" in data:
            raise NotUnique("42420001 already sent a WMO315 with reference 1 with other content")
        if b"busy" in data:
            raise Unavailable("the broker did not confirm the message")
        if b"break" in data:
            raise RuntimeError("broken")
        tracking = "2f9b3c1e-8a47-4d5e-9c1f-0b6a7e2d4c13"
        return Accepted(tracking, tracking, "WMO315", principal, "0384", "ggk", AT, False, "ab" * 32)


class Identity:
    async def party(self, credentials: Credentials) -> str:
        if credentials.bearer != TOKEN:
            raise NotAuthenticated("the API credential is unknown or revoked")
        return "42420001"


def _app(fast: bool) -> Any:
    services = NodeServices(
        node="vecozo",
        pipeline=Pipeline(),  # type: ignore[arg-type]
        identity=Identity(),
        registry=None,  # type: ignore[arg-type]
        tracking=None,  # type: ignore[arg-type]
        reader=None,  # type: ignore[arg-type]
        max_bytes=LIMIT,
        lease_seconds=30,
        receipts=ReceiptSigner(Ed25519PrivateKey.from_private_bytes(bytes(range(32)))),
        limits=Limits.of(0.01, 2),  # a third request is over the rate
    )
    app = create_app(services)
    if not fast:
        app.fast = {}  # type: ignore[attr-defined]  # every request through FastAPI's route
    return app


GUARDED = guarded_protocol(SlowClientLimits())


async def _served(app: Any, parts: tuple[bytes, ...]) -> tuple[bytes, bool]:
    """What the node's protocol writes for ``parts`` arriving one after the other, and whether it closed."""
    wire = await served(GUARDED, app, *parts)
    return b"".join(wire.writes), wire.closed


def post(
    body: bytes = b"<WMO315/>",
    token: str | bytes | None = TOKEN,
    media: bytes | None = b"application/xml",
    extra: bytes = b"",
    version: bytes = b"1.1",
    length: bytes | None = None,
) -> bytes:
    head = b"POST /v1/berichten HTTP/" + version + b"\r\nHost: node\r\n"
    if token is not None:
        head += (
            b"Authorization: "
            + (token if isinstance(token, bytes) else b"Bearer " + token.encode())
            + b"\r\n"
        )
    if media is not None:
        head += b"Content-Type: " + media + b"\r\n"
    head += b"Content-Length: " + (length or str(len(body)).encode()) + b"\r\n"
    return head + extra + b"\r\n" + body


def chunked(body: bytes) -> bytes:
    head = (
        b"POST /v1/berichten HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b"\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    return head + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


GOOD = post()
CASES: dict[str, tuple[bytes, ...]] = {
    "accepted": (GOOD,),
    "accepted, HTTP/1.0": (post(version=b"1.0"),),
    "accepted, the client asks to close": (post(extra=b"Connection: close\r\n"),),
    "accepted, a media type with parameters": (post(media=b"Application/XML; charset=utf-8"),),
    "accepted, text/xml": (post(media=b"text/xml"),),
    "accepted, the body in two reads": (GOOD[:-4], GOOD[-4:]),
    "accepted, the head in two reads": (GOOD[:20], GOOD[20:]),
    "accepted, a chunked body": (chunked(b"<WMO315/>"),),
    "two pipelined": (GOOD + GOOD,),
    "three pipelined: the third over the rate (429)": (GOOD * 3,),
    "Expect: 100-continue": (post(extra=b"Expect: 100-continue\r\n")[: -len(b"<WMO315/>")], b"<WMO315/>"),
    "no credential": (post(token=None),),
    "an unknown token": (post(token="wrong"),),
    "a token outside ASCII": (post(token=b"Bearer t\xe9st"),),
    "Basic instead of Bearer": (post(token=b"Basic Z29vZDp0b2tlbg=="),),
    "an empty bearer": (post(token=b"Bearer "),),
    "an unauthenticated upload, answered before its body": (post(token=None)[:-4], b"x" * 4),
    "no media type": (post(media=None),),
    "text/plain": (post(media=b"text/plain"),),
    "declared over the limit": (post(body=b"", length=str(LIMIT + 1).encode()), b"x" * (LIMIT + 1)),
    "declared over the limit, HTTP/1.0": (post(body=b"", length=b"999", version=b"1.0"),),
    "a chunked body over the limit": (chunked(b"<a>" + b"x" * LIMIT + b"</a>"),),
    "an empty body": (post(body=b""),),
    "refused by the pipeline (409)": (post(body=b"<refuse/>"),),
    "unavailable (503)": (post(body=b"<busy/>"),),
    "an unexpected fault (500)": (post(body=b"<break/>"),),
    "refused, then accepted on the same connection": (post(body=b"<refuse/>") + GOOD,),
    "a malformed request line": (b"POST /v1/berichten HTTP/9.9\r\n\r\n",),
    "a malformed header": (b"POST /v1/berichten HTTP/1.1\r\nBad Header\r\n\r\n",),
    "a path with a trailing slash": (GOOD.replace(b"/v1/berichten ", b"/v1/berichten/ "),),
    "GET on the route": (b"GET /v1/berichten HTTP/1.1\r\nHost: node\r\n\r\n",),
    "HEAD on the route": (b"HEAD /v1/berichten HTTP/1.1\r\nHost: node\r\n\r\n",),
    "a query string": (GOOD.replace(b"/v1/berichten ", b"/v1/berichten?x=1 "),),
}


@pytest.mark.parametrize("case", CASES)
async def test_fast_route_answers_as_the_framework_route(case: str) -> None:
    """The bytes written and whether the connection closed are the same both ways."""
    parts = CASES[case]
    fast = await _served(_app(fast=True), parts)
    framework = await _served(_app(fast=False), parts)
    assert framework[0].startswith(b"HTTP/1.1 ")
    assert fast == framework


async def test_the_202_is_one_write() -> None:
    """The accepted answer goes out in one write: head and body."""
    wire = await served(GUARDED, _app(fast=True), GOOD)
    assert [len(wire.writes), wire.writes[0][:22], b'"receipt"' in wire.writes[0]] == [
        1,
        b"HTTP/1.1 202 Accepted\r",
        True,
    ]
