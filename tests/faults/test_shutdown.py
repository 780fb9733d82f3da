"""Graceful shutdown of a real ``gateway serve`` process: SIGTERM stops it taking connections, and a request
already in flight still gets its answer (a 202 after the broker's confirm) before the process ends."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.broker.own_node import OwnNode
from tests.faults.processes import Gateway
from tests.faults.scenario import SENDER, wmo315

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.shared]


@pytest.fixture
async def gateway(
    own_node: OwnNode, tmp_path: Path, prefix: str, seeded: tuple[str, dict[str, str]]
) -> AsyncIterator[tuple[Gateway, str]]:
    """Both nodes in one ``gateway serve`` process, on the RabbitMQ node of the suite's own."""
    db_url, tokens = seeded
    gw = Gateway.prepare(
        tmp_path, own_node.amqp_url, own_node.management_url, db_url, prefix, {"both": ("ggk,vecozo", 1)}
    )
    try:
        await asyncio.to_thread(gw.start)
        yield gw, tokens[SENDER]
    finally:
        await asyncio.to_thread(gw.stop)


def _request_head(port: int, token: str, length: int) -> bytes:
    return (
        f"POST /v1/berichten HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/xml\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def test_request_in_flight_during_sigterm_gets_its_answer(gateway: tuple[Gateway, str]) -> None:
    """Half a request is sent, then SIGTERM; new connections are refused, yet the rest of the request is
    read and answered 202, and the process then exits 0."""
    gw, token = gateway
    port = gw.ports["vecozo"]
    body = wmo315(secrets.token_hex(6))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_request_head(port, token, len(body)) + body[: len(body) // 2])
    await writer.drain()
    await asyncio.sleep(0.5)  # the request is in the server's hands, its body half read
    process = gw.processes["both"][0]
    process.send_signal(signal.SIGTERM)
    await asyncio.sleep(1.0)
    refused = not await _connects(port)
    writer.write(body[len(body) // 2 :])
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=30)
    writer.close()
    code = await asyncio.to_thread(process.wait, 60)
    assert (True, b"HTTP/1.1 202 Accepted", 0) == (refused, status_line.strip(), code)


async def _connects(port: int) -> bool:
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        return True
    return False


async def test_sigterm_with_idle_keep_alive_connections_ends_the_process_within_two_seconds(
    gateway: tuple[Gateway, str],
) -> None:
    """A real ``gateway serve``: one idle keep-alive connection per node (each after a request) and one that
    never sent a byte; SIGTERM ends the process, exit 0, within 2 s (one idle keep-alive connection held it
    30.4 s before the fix of the security review's item 5)."""
    gw, _ = gateway
    idle = []
    for node in ("ggk", "vecozo"):
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.ports[node])
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{gw.ports[node]}\r\n\r\n".encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=30)
        idle.append((status_line.strip(), writer))
    _, silent = await asyncio.open_connection("127.0.0.1", gw.ports["ggk"])
    process = gw.processes["both"][0]
    loop = asyncio.get_running_loop()
    started = loop.time()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(process.wait, 60)
    took = loop.time() - started
    for _, writer in idle:
        writer.close()
    silent.close()
    assert ([b"HTTP/1.1 200 OK"] * 2, 0, True) == ([s for s, _ in idle], code, took < 2.0), took
