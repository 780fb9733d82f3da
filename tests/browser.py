"""Headless Chromium for the page tests: Debian's ``chromium`` driven by Playwright, nodes on real ports.

Uses ``executable_path`` (no browser download); :func:`browser_ready` skips with the reason when either is
missing. Screenshots go to ``test-output/``. :func:`closed_network` blocks every request that does not go
to the node itself, as in a closed network, and records what was blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.harness import ROOT, GatewayUnderTest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = ROOT / "test-output"

try:
    from playwright.async_api import Page, Route, async_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    async_playwright = None  # type: ignore[assignment]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def served(gw: GatewayUnderTest) -> AsyncIterator[dict[str, str]]:
    """Both nodes on real local ports (a browser cannot use the in-process transport)."""
    servers: list[_Server] = []
    urls: dict[str, str] = {}
    for node, app in gw.runtime.apps.items():
        port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        servers.append(_Server(config))
        urls[node] = f"http://127.0.0.1:{port}"
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    try:
        await wait_until(lambda: _started(servers), within=20.0)
        yield urls
    finally:
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def _started(servers: list[_Server]) -> bool:
    return all(s.started for s in servers)


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


@contextlib.asynccontextmanager
async def chromium(**context: Any) -> AsyncIterator[Any]:
    """A browser context of headless Chromium (``context``: Playwright's ``new_context`` options)."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield await browser.new_context(**context)
        finally:
            await browser.close()


async def closed_network(page: Page, base: str) -> list[str]:
    """Abort every request of ``page`` that does not go to ``base``; the list fills with the blocked URLs."""
    blocked: list[str] = []

    async def only_the_node(route: Route) -> None:
        url = route.request.url
        if url.startswith(base + "/") or url == base or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            blocked.append(url)
            await route.abort("internetdisconnected")

    await page.route("**/*", only_the_node)
    return blocked


@pytest.fixture
def browser_ready() -> None:
    """Skip with the reason when Playwright or Debian's chromium is missing; make the output folder."""
    if async_playwright is None:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test installs it with apt-get)")
    OUTPUT.mkdir(exist_ok=True)
