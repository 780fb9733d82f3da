"""The dashboard's pages in headless Chromium (:mod:`tests.browser`) on the in-memory broker: the sign-in
form's rules work in current Chromium, refusals say what was wrong, the overview shows the node's own mix
of message types; screenshots in light and dark under ``test-output/``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import OUTPUT, chromium, served
from tests.browser import browser_ready as browser_ready  # the fixture
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.messages import AANBIEDER, invalid_request, request, start_care

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("browser_ready")]


async def sign_in(page: Any, base: str, name: str) -> None:
    await page.goto(f"{base}/dashboard")
    await page.fill("#token", OPERATOR_TOKEN)
    await page.fill("#operator", name)
    await page.click("#sign-in")


async def test_name_pattern_is_a_valid_expression_in_chromium(fake_gw: GatewayUnderTest) -> None:
    """Chromium compiles the name field's pattern (with the v flag): a name with a space is invalid, a
    name with . _ @ - is valid; before sign-in the header names no operator."""
    async with served(fake_gw) as urls, chromium() as browser:
        page = await browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await page.goto(f"{urls['ggk']}/dashboard/login")
        header = await page.text_content("header") or ""
        validity = []
        for name in ("a b", "jan.de-vries_2@ggk"):
            await page.fill("#operator", name)
            validity.append(await page.eval_on_selector("#operator", "e => e.checkValidity()"))
    assert ([False, True], [], False) == (
        validity,
        [e for e in errors if "pattern" in e],
        "operator ·" in header,
    )


async def test_a_refused_name_is_reported_as_the_name(fake_gw: GatewayUnderTest) -> None:
    """The right credential with a name the server refuses (sent past the form's own check) is reported as
    a refused name, a wrong credential as a wrong credential."""
    async with served(fake_gw) as urls, chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{urls['ggk']}/dashboard/login")
        await page.eval_on_selector("form", "f => f.noValidate = true")
        await page.fill("#token", OPERATOR_TOKEN)
        await page.fill("#operator", "jan de vries")
        await page.click("#sign-in")
        await page.wait_for_url(lambda url: "failed=name" in url)
        name_refused = await page.is_visible("#login-name-refused")
        wrong_credential_shown = await page.is_visible("#login-failed")
        await page.fill("#token", "not-it")
        await page.fill("#operator", "alice")
        await page.click("#sign-in")
        await page.wait_for_url(lambda url: "failed=credential" in url)
        credential_refused = await page.is_visible("#login-failed")
    assert (True, False, True) == (name_refused, wrong_credential_shown, credential_refused)


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_overview_shows_the_nodes_own_mix(fake_gw: GatewayUnderTest, scheme: str) -> None:
    """The provider node's overview charts each message type of its traffic (no "other"), groups refusals by
    code, marks each latency with its unit and says whose figures these are; screenshot per colour scheme."""
    for data in (request("iwmo"), request("ijw"), start_care("ijw"), start_care("iwmo"), invalid_request()):
        await fake_gw.submit(AANBIEDER, data)
    async with (
        served(fake_gw) as urls,
        chromium(color_scheme=scheme, viewport={"width": 1400, "height": 1000}) as b,
    ):
        page = await b.new_page()
        await sign_in(page, urls["vecozo"], "browser-test")
        await page.wait_for_selector("#legend span")
        await page.wait_for_selector("#latency td")
        legend = await page.locator("#legend span").evaluate_all("els => els.map(e => e.dataset.message)")
        refusals = await page.locator("#refusals tr").count()
        latency = await page.locator("#latency td.num").all_text_contents()
        scope = await page.text_content("#scope") or ""
        await page.screenshot(path=str(OUTPUT / f"dashboard-overview-{scheme}.png"), full_page=True)
    assert ({"WMO315", "JW315", "JW305", "WMO305"}, 1, True, True) == (
        set(legend),
        refusals,
        all(v.endswith((" ms", " s")) or v.isdigit() or v == "–" for v in latency),
        "provider node" in scope or "vecozo node" in scope,
    )
