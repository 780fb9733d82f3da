"""A node process bounds the submissions it serves at once: beyond the bound, 503 with Retry-After at once."""

from __future__ import annotations

import asyncio

import httpx
from starlette.requests import Request
from starlette.responses import Response

from gateway.http import problems
from gateway.http.app import NodeApp

PATH = "/v1/berichten"


def _app(most: int) -> tuple[NodeApp, asyncio.Event, asyncio.Event, list[int]]:
    release, full = asyncio.Event(), asyncio.Event()
    read: list[int] = []

    async def take(request: Request) -> Response:
        read.append(len(await request.body()))
        if len(read) == most:
            full.set()
        await release.wait()
        return Response(b"{}", status_code=202, media_type="application/json")

    app = NodeApp()
    app.fast = {("POST", PATH): take}
    app.answer = problems.answerer("vecozo")
    app.most_in_flight = most
    return app, release, full, read


async def test_beyond_the_bound_a_submission_gets_503_before_its_body_is_read() -> None:
    """Two submissions held, a third is refused at once (its body unread) with Retry-After; once the two
    are answered the process holds none and takes the next."""
    app, release, full, read = _app(2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node") as client:
        held = [asyncio.create_task(client.post(PATH, content=b"<x/>")) for _ in range(2)]
        await full.wait()
        refused = await client.post(PATH, content=b"<y/>")
        release.set()
        answered = [r.status_code for r in await asyncio.gather(*held)]
        after = await client.post(PATH, content=b"<z/>")
    assert (503, "1", "application/problem+json", "IB103") == (
        refused.status_code,
        refused.headers["retry-after"],
        refused.headers["content-type"],
        refused.json()["code"],
    )
    assert ([202, 202], 202, [4, 4, 4], 0) == (answered, after.status_code, read, app.in_flight)


async def test_a_failed_submission_frees_its_place() -> None:
    """A submission whose handling raised is answered and no longer counted."""
    app, _, _, _ = _app(1)

    async def broken(request: Request) -> Response:
        raise RuntimeError("broken")

    app.fast[("POST", PATH)] = broken
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node") as client:
        answers = [(await client.post(PATH, content=b"<x/>")).status_code for _ in range(3)]
    assert ([500, 500, 500], 0) == (answers, app.in_flight)
