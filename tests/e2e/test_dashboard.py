"""The operator dashboard in headless Chromium while simulated traffic flows through both nodes.

Drives Debian's ``chromium`` with Playwright (:mod:`tests.browser`); skips with the reason when either is
missing. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from gateway.simulate.run import Simulation
from tests.browser import CHROMIUM, OUTPUT, async_playwright, served, wait_until
from tests.browser import browser_ready as browser_ready  # the fixture
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.deadletter import dead_letter, wait_dead
from tests.ops.messages import AANBIEDER, request

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.broker, pytest.mark.slow]

QUIET = "0599"  # a municipality the simulation leaves alone: its mailbox holds the test's dead letter


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


async def figure(page: Page, selector: str) -> int:
    return int((await page.text_content(selector) or "0").strip())


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
