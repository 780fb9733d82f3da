"""The operator dashboard in headless Chromium while simulated traffic flows through both nodes.

Drives Debian's ``chromium`` with Playwright (``executable_path``, no browser download); skips with the
reason when either is missing. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from gateway.simulate.run import Simulation
from tests.harness import OPERATOR_TOKEN, ROOT, GatewayUnderTest
from tests.ops.deadletter import dead_letter, wait_dead
from tests.ops.messages import AANBIEDER, request

pytestmark = [pytest.mark.broker, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = ROOT / "test-output"
QUIET = "0599"  # a municipality the simulation leaves alone: its mailbox holds the test's dead letter

try:
    from playwright.async_api import Page, async_playwright
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


@contextlib.asynccontextmanager
async def traffic(gw: GatewayUnderTest) -> AsyncIterator[Simulation]:
    """Simulated counterparts and demo traffic (5 messages a second) while the block runs."""
    tokens = {code: token for code, token in gw.tokens.items() if code != QUIET}
    active = {"0363", "0384", "0518", "1916", "42420001", "65656055", "42420002", "75750012"}
    sim = Simulation(gw.clients, tokens, rate=5.0, seed=5, only=active)
    stop = asyncio.Event()
    task = asyncio.create_task(sim.run(stop, active=active))
    try:
        yield sim
    finally:
        stop.set()
        await task


async def _started(servers: list[_Server]) -> bool:
    return all(s.started for s in servers)


async def figure(page: Page, selector: str) -> int:
    return int((await page.text_content(selector) or "0").strip())


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def browser_ready() -> None:
    """Skip with the reason when Playwright or Debian's chromium is missing; make the output folder."""
    if async_playwright is None:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test installs it with apt-get)")
    OUTPUT.mkdir(exist_ok=True)


@pytest.mark.usefixtures("browser_ready")
async def test_dashboard_in_headless_chromium(gw: GatewayUnderTest) -> None:
    """Throughput rises without reload, a traced message shows its life, a redriven dead letter reaches its mailbox."""
    async with served(gw) as urls, traffic(gw) as sim, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            base = urls["ggk"]
            await page.goto(f"{base}/dashboard")
            await page.fill("#token", OPERATOR_TOKEN)
            await page.fill("#operator", "browser-test")
            await page.click("#sign-in")
            await page.wait_for_selector("#accepted-15m")

            # live throughput: the figure grows while the page stays loaded
            first = await figure(page, "#accepted-15m")
            await wait_until(lambda: _grew(page, "#accepted-15m", first + 5))
            await page.wait_for_selector("#chart svg rect")
            await page.screenshot(path=str(OUTPUT / "dashboard-overview.png"), full_page=True)

            # track & trace: one message's whole life
            accepted = (await gw.submit(AANBIEDER, request())).json()
            await wait_until(lambda: _has_event(gw, accepted["trackingId"], "in-mailbox"))
            await page.click("text=Track & trace")
            await page.fill("#q-id", accepted["trackingId"])
            await page.click("#q-go")
            events = await page.locator("#events li").evaluate_all("els => els.map(e => e.dataset.event)")
            await page.screenshot(path=str(OUTPUT / "dashboard-trace.png"), full_page=True)
            assert {"received", "routed", "published", "crossed-link", "in-mailbox"} <= set(events)

            # dead-letter workbench: redrive one with a reason
            assert 202 == (await gw.submit(AANBIEDER, request(recipient=QUIET))).status_code
            dead = await dead_letter(gw, "ggk", QUIET)
            await wait_dead(gw, "ggk", dead)
            await page.goto(f"{base}/dashboard/dead-letters?node=ggk")
            row = page.locator(f'tr[data-tracking-id="{dead}"]')
            await row.locator("input.reason").fill("recipient software repaired")
            await page.screenshot(path=str(OUTPUT / "dashboard-dead-letters.png"), full_page=True)
            await row.locator("button.redrive").click()
            await page.wait_for_selector("#dl-message")
            note = await page.text_content("#dl-message") or ""
            _, item = await gw.receive(QUIET, within=30)
            assert ("redrive: 1 done", dead) == (note[:15], item["trackingId"])
            assert sum(sim.stats.sent.values()) > 0
        finally:
            await browser.close()


async def _grew(page: Page, selector: str, at_least: int) -> bool:
    return await figure(page, selector) >= at_least


async def _has_event(gw: GatewayUnderTest, tracking_id: str, event: str) -> bool:
    ops = gw.runtime.ops
    assert ops is not None
    life = await ops.tracer.life(tracking_id)
    return life is not None and event in {e.event for e in life.events}
