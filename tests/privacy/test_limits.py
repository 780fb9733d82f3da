"""Abuse limits: the per-party token bucket, and slow or oversized requests cut off by the served node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.errors import NodeRole
from gateway.http.limits import Limits, RateLimited, TokenBucket
from tests.harness import GatewayUnderTest
from tests.messages import example, new_id, set_header

from .conftest import fake_gateway, security, served

AANBIEDER, GEMEENTE = "42420001", "0384"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refuses() -> None:
    """A full bucket lets ``burst`` requests through at once, then says how long until the next token."""
    bucket = TokenBucket(rate=2.0, burst=3, clock=Clock())
    assert [0.0, 0.0, 0.0, 0.5] == [bucket.take(("vecozo", AANBIEDER)) for _ in range(4)]


def test_bucket_refills_at_its_rate() -> None:
    """Tokens come back at ``rate`` per second, never above ``burst``."""
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=2, clock=clock)
    for _ in range(2):
        bucket.take(("vecozo", AANBIEDER))
    clock.now += 10
    assert [0.0, 0.0, 0.5] == [bucket.take(("vecozo", AANBIEDER)) for _ in range(3)]


def test_parties_and_nodes_have_their_own_buckets() -> None:
    """One party using up its tokens leaves other parties, and its bucket on the other node, untouched."""
    bucket = TokenBucket(rate=1.0, burst=1, clock=Clock())
    bucket.take(("vecozo", AANBIEDER))
    assert [0.0, 0.0] == [bucket.take(("vecozo", "42420002")), bucket.take(("ggk", AANBIEDER))]


def test_refusal_says_when_to_retry() -> None:
    """Over the limit, the refusal is a 429 with a whole number of seconds to wait (at least one)."""
    limits = Limits(TokenBucket(rate=0.25, burst=1, clock=Clock()))
    limits.check("vecozo", AANBIEDER)
    with pytest.raises(RateLimited) as refused:
        limits.check("vecozo", AANBIEDER)
    assert (429, 4) == (refused.value.status, refused.value.retry_after)


def test_zero_rate_means_no_limit() -> None:
    """A rate of 0 switches the limit off."""
    limits = Limits.of(0, 1)
    for _ in range(100):
        limits.check("vecozo", AANBIEDER)
    assert limits.bucket is None


@pytest.mark.shared
async def test_gateway_answers_429_with_retry_after(tmp_path: Path) -> None:
    """A party over its rate gets 429 problem+json with Retry-After; another party is still served."""
    async with fake_gateway(tmp_path, security(tmp_path, rate_limit=0.01, rate_burst=2)) as gw:
        answers = [await gw.lease(AANBIEDER) for _ in range(2)]
        over = await gw.clients["vecozo"].get("/v1/mailbox", headers=gw.auth(AANBIEDER))
        other = await gw.clients["vecozo"].get("/v1/mailbox", headers=gw.auth("42420002"))
    assert ([[], []], 429, "application/problem+json", "IB103", True, 200) == (
        answers,
        over.status_code,
        over.headers["content-type"],
        over.json()["code"],
        int(over.headers["retry-after"]) >= 1,
        other.status_code,
    )


# --- slow and oversized requests on a served node -----------------------------------------------------------


@pytest.fixture
async def gw_quick_deadlines(tmp_path: Path) -> AsyncIterator[GatewayUnderTest]:
    sec = security(tmp_path, header_timeout=0.3, body_timeout=0.3)
    async with fake_gateway(tmp_path, sec) as gut:
        yield gut


@pytest.fixture
async def node_url(gw_quick_deadlines: GatewayUnderTest) -> AsyncIterator[str]:
    runtime = gw_quick_deadlines.runtime
    async with served(runtime.apps["vecozo"], runtime.settings, "vecozo") as url:
        yield url


async def exchange(url: str, data: bytes, pause: float = 0.0, rest: bytes = b"") -> bytes:
    """Send ``data``, wait ``pause`` s, send ``rest``; everything the server answers until it closes."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    if pause:
        await asyncio.sleep(pause)
        if rest and not writer.is_closing():
            writer.write(rest)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_headers_too_slow_get_408(node_url: str) -> None:
    """A client that does not finish its request headers in time gets 408 and the connection closes."""
    answer = await exchange(node_url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", pause=1.0, rest=b"\r\n")
    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_idle_connection_gets_408(node_url: str) -> None:
    """A connection that sends nothing at all is closed after the header deadline."""
    answer = await exchange(node_url, b"")
    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_body_too_slow_gets_408(node_url: str, gw_quick_deadlines: GatewayUnderTest) -> None:
    """A client that announces a body and trickles it is cut off at the body deadline with problem+json."""
    token = gw_quick_deadlines.tokens[AANBIEDER]
    head = (
        "POST /v1/berichten HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n<a>"
    ).encode()
    answer = await exchange(node_url, head, pause=1.0, rest=b"</a>")
    assert (True, True) == (answer.startswith(b"HTTP/1.1 408 "), b"application/problem+json" in answer)


async def test_body_deadline_counts_from_the_end_of_the_headers(
    tmp_path: Path, gw_quick_deadlines: GatewayUnderTest
) -> None:
    """Headers that arrive in time start the body's own deadline: a trickled body is cut off by it (the
    answer names the body), not by the header deadline of the connection."""
    token = gw_quick_deadlines.tokens[AANBIEDER]
    head = (
        "POST /v1/berichten HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n<a>"
    ).encode()
    sec = security(tmp_path, header_timeout=30, body_timeout=0.3)
    async with (
        fake_gateway(tmp_path / "b", sec) as gut,
        served(gut.runtime.apps["vecozo"], gut.runtime.settings, "vecozo") as url,
    ):
        answer = await exchange(url, head.replace(token.encode(), gut.tokens[AANBIEDER].encode()))
    assert (True, True) == (answer.startswith(b"HTTP/1.1 408 "), b"request body took longer" in answer)


async def test_a_kept_connection_s_next_request_has_a_header_deadline(node_url: str) -> None:
    """After a request answered on a kept connection, the next request's headers must arrive in time too:
    a connection whose next request stalls in its head is closed at the header deadline."""
    first = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await exchange(node_url, first + b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    assert (True, True) == (answer.startswith(b"HTTP/1.1 200 "), loop.time() - started < 5)


async def test_refused_request_does_not_wait_for_its_body(node_url: str) -> None:
    """A request answered before its body arrived (401) has its connection closed."""
    head = (
        b"POST /v1/berichten HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
        b"Authorization: Bearer unknown\r\nContent-Length: 1000\r\n\r\n<a>"
    )
    answer = await exchange(node_url, head)
    assert answer.startswith(b"HTTP/1.1 401 ")


@pytest.mark.parametrize(
    ("node", "path"),
    [
        ("vecozo", "/v1/berichten"),
        ("vecozo", "/berichtenservice/berichten/rest-push/v1/berichten"),
        ("vecozo", "/soap/vsp"),
        ("ggk", "/stuf/ggk0210"),
        ("ggk", "/soap/ggk0210"),
        ("ggk", "/v1/validaties"),
        ("vecozo", "/v1/admin/participants"),
        ("vecozo", "/v1/admin/participants/42420001/retire"),
        ("vecozo", "/v1/admin/submitters"),
        ("vecozo", "/dashboard/api/dead-letters/vecozo/discard"),
    ],
)
@pytest.mark.parametrize("content_length", [1000, 400 * 1024 * 1024])
async def test_an_answer_before_the_body_closes_the_connection_at_once(
    tmp_path: Path, content_length: int, node: NodeRole, path: str
) -> None:
    """A 401 to a POST whose body has not arrived says ``connection: close`` and closes at once, not at the
    (here 60 s) body deadline: unauthenticated uploads cannot hold the connection slots. On every route that
    takes a body: the admin API's JSON bodies were read (up to GATEWAY_MAX_BYTES) before the credential was
    looked at, so the 401 waited for the whole body."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {content_length}\r\n\r\n<a>"
    ).encode()
    async with (
        fake_gateway(tmp_path, security(tmp_path, body_timeout=60)) as gut,
        served(gut.runtime.apps[node], gut.runtime.settings, node) as url,
    ):
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await exchange(url, head)
        took = loop.time() - started
    head_lines = answer.split(b"\r\n\r\n", 1)[0].lower()
    # SOAP 1.1 answers every fault with 500 (its HTTP binding); the fault carries the 401's code
    refused = b"HTTP/1.1 500 " if path.startswith("/soap/") else b"HTTP/1.1 401 "
    assert (True, True, True) == (
        answer.startswith(refused) and b"IB002" in answer,
        b"connection: close" in head_lines,
        took < 2.0,
    )


async def test_oversized_headers_get_431(node_url: str) -> None:
    """Request headers beyond the bound are refused with 431 before the app sees the request."""
    answer = await exchange(node_url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 70_000)
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_node_serves_on_after_cutting_off_slow_clients(node_url: str) -> None:
    """After slow clients were cut off the node answers a normal request at once."""
    await asyncio.gather(*(exchange(node_url, b"GET /healthz HTTP/1.1\r\n") for _ in range(5)))
    answer = await exchange(node_url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")


@pytest.mark.shared
async def test_normal_submission_passes_the_deadlines(
    node_url: str, gw_quick_deadlines: GatewayUnderTest
) -> None:
    """A message sent at once is accepted through the guarded protocol (the deadlines are per phase)."""
    data = set_header(example("WMO315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())
    token = gw_quick_deadlines.tokens[AANBIEDER]
    head = (
        f"POST /v1/berichten HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nConnection: close\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    answer = await exchange(node_url, head + data)
    assert answer.startswith(b"HTTP/1.1 202 ")


def test_settings_carry_the_limits() -> None:
    """The limits come from the security settings (0 switches a deadline off)."""
    sec = security(Path("/tmp"), header_timeout=0, body_timeout=0)
    assert (0, 0) == (sec.header_timeout, sec.body_timeout)
