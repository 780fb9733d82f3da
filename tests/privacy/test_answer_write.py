"""The node's HTTP protocol writes an answer's head and body in one write, byte for byte what uvicorn writes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.http.limits import SlowClientLimits, guarded_protocol

BODY = b'{"status":"accepted"}'
ACCEPTED = [
    (b"location", b"/v1/berichten/x"),
    (b"content-length", b"21"),
    (b"content-type", b"application/json"),
]
POST = b"POST /v1/berichten HTTP/1.1\r\nHost: node\r\nContent-Type: application/xml\r\nContent-Length: 4\r\n\r\n<a/>"
HEAD = b"HEAD /v1/berichten HTTP/1.1\r\nHost: node\r\n\r\n"
PUSHED = [(b"x-traceer-id", b"0b6f1e7a-8d0c-4c55-9a8e-3f2d1c0b9a87")]  # the VECOZO push's 204


class Wire(asyncio.Transport):
    """A connection that keeps what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def answering(
    headers: list[tuple[bytes, bytes]], parts: tuple[bytes, ...] = (BODY,), status: int = 202
) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body", False):
            pass
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app


async def served(protocol: type[HttpToolsProtocol], app: Any, request: bytes, *more: bytes) -> Wire:
    """What ``protocol`` serving ``app`` writes for ``request`` (and ``more`` parts, read one after the
    other until the connection closes)."""
    config = uvicorn.Config(app, lifespan="off", log_level="critical", access_log=False, http=protocol)
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Mon, 07 Dec 2026 21:40:00 GMT"), (b"server", b"uvicorn")]
    proto = protocol(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
    wire = Wire()
    proto.connection_made(wire)
    for part in (request, *more):
        if wire.closed:
            break
        proto.data_received(part)
        for _ in range(30):
            await asyncio.sleep(0)
    proto.connection_lost(None)
    return wire


GUARDED = guarded_protocol(SlowClientLimits())
CASES: dict[str, tuple[Any, ...]] = {  # headers, body parts, request (, status: 202)
    "202 with a content-length": (ACCEPTED, (BODY,), POST),
    "HTTP/1.0: connection close": (ACCEPTED, (BODY,), POST.replace(b"HTTP/1.1", b"HTTP/1.0")),
    "the client asks to close": (ACCEPTED, (BODY,), POST.replace(b"Host: node", b"Connection: close")),
    "the app asks to close": ([*ACCEPTED, (b"connection", b"close")], (BODY,), POST),
    "no content-length (chunked)": (ACCEPTED[::2], (BODY,), POST),
    "a body in two parts": (ACCEPTED, (BODY[:5], BODY[5:]), POST),
    "HEAD": (ACCEPTED, (b"",), HEAD),
    "a header value with a line break": ([*ACCEPTED, (b"x-note", b"a\r\nb")], (BODY,), POST),
    "204 without a body": (PUSHED, (b"",), POST, 204),
    "204, the client asks to close": (PUSHED, (b"",), POST.replace(b"Host: node", b"Connection: close"), 204),
    "204, HTTP/1.0": (PUSHED, (b"",), POST.replace(b"HTTP/1.1", b"HTTP/1.0"), 204),
    "204 with a content-length of 0": ([*PUSHED, (b"content-length", b"0")], (b"",), POST, 204),
    "304 without a body": (PUSHED, (b"",), POST, 304),
}


@pytest.mark.parametrize("case", CASES)
async def test_answer_is_what_uvicorn_writes(case: str) -> None:
    """Every answer's bytes, and whether the connection closes after it, are those of uvicorn's protocol."""
    headers, parts, request, *status = CASES[case]
    ours = await served(GUARDED, answering(headers, parts, *status), request)
    theirs = await served(HttpToolsProtocol, answering(headers, parts, *status), request)
    assert theirs.closed or theirs.writes[0].startswith(b"HTTP/1.")
    assert (b"".join(theirs.writes), theirs.closed) == (b"".join(ours.writes), ours.closed)


async def test_a_whole_answer_is_one_write() -> None:
    """A 202 with its content-length goes out in one write of head and body (one system call, one segment)."""
    wire = await served(GUARDED, answering(ACCEPTED), POST)
    assert [wire.writes[0].split(b"\r\n")[0], wire.writes[0].endswith(BODY)] == [
        b"HTTP/1.1 202 Accepted",
        True,
    ]
    assert len(wire.writes) == 1


async def test_a_204_is_one_write() -> None:
    """The VECOZO push's 204 (no content-length, no body) goes out in one write of its head."""
    wire = await served(GUARDED, answering(PUSHED, (b"",), 204), POST)
    assert len(wire.writes) == 1
    assert wire.writes[0].startswith(b"HTTP/1.1 204 No Content\r\n")
    assert wire.writes[0].endswith(b"x-traceer-id: 0b6f1e7a-8d0c-4c55-9a8e-3f2d1c0b9a87\r\n\r\n")


def test_the_202_has_the_headers_a_response_would_have() -> None:
    """``POST /v1/berichten``'s prebuilt 202 carries exactly the status and headers Starlette's Response makes."""
    from starlette.responses import Response

    from gateway.http.berichten import _Accepted

    made = Response(BODY, 202, media_type="application/json", headers={"Location": "/v1/berichten/x"})
    ours = _Accepted(BODY, "x")
    assert (made.status_code, made.raw_headers, made.body) == (ours.status_code, ours.raw_headers, ours.body)


def test_the_204_has_the_headers_a_response_would_have() -> None:
    """The VECOZO push's prebuilt 204 carries exactly the status, headers and body Starlette's Response makes."""
    from starlette.responses import Response

    from gateway.http.koppeling import _Pushed

    made = Response(status_code=204, headers={"X-Traceer-Id": "0b6f1e7a-8d0c-4c55-9a8e-3f2d1c0b9a87"})
    ours = _Pushed("0b6f1e7a-8d0c-4c55-9a8e-3f2d1c0b9a87")
    assert (made.status_code, made.raw_headers, made.body) == (ours.status_code, ours.raw_headers, ours.body)
