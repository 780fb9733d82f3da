"""Every page a node serves works in a closed network: /docs, /redoc and the dashboard load nothing from
outside the node. Headless Chromium (:mod:`tests.browser`) with every other host blocked."""

from __future__ import annotations

import re

import pytest

from gateway.http.app import create_app
from gateway.http.docs import ASSETS, asset_path
from tests.browser import OUTPUT, chromium, closed_network, served
from tests.browser import browser_ready as browser_ready  # the fixture
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest

pytestmark = pytest.mark.slow
OUTSIDE = re.compile(rb"""(?:src|href)\s*=\s*["']?(?:https?:)?//""")


@pytest.mark.usefixtures("browser_ready")
async def test_docs_and_redoc_render_with_the_network_blocked(fake_gw: GatewayUnderTest) -> None:
    """Swagger UI lists the node's operations and ReDoc its title; no request left the node."""
    async with served(fake_gw) as urls, chromium(viewport={"width": 1300, "height": 900}) as browser:
        base = urls["ggk"]
        page = await browser.new_page()
        blocked = await closed_network(page, base)
        await page.goto(f"{base}/docs")
        await page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        operations = await page.locator(".swagger-ui .opblock").count()
        title = await page.text_content(".swagger-ui .info .title") or ""
        await page.screenshot(path=str(OUTPUT / "docs-swagger-offline.png"))
        await page.goto(f"{base}/redoc")
        await page.wait_for_selector("h1", timeout=20_000)
        heading = await page.text_content("h1") or ""
        await page.wait_for_selector("[data-section-id^='tag/'], [data-section-id^='operation/']")
        await page.screenshot(path=str(OUTPUT / "docs-redoc-offline.png"))
    assert ([], True, True, True) == (
        blocked,
        operations > 5,
        "municipal node" in title,
        "municipal node" in heading,
    )


@pytest.mark.usefixtures("browser_ready")
async def test_dashboard_pages_load_nothing_from_outside(fake_gw: GatewayUnderTest) -> None:
    """Sign-in, overview, trace and dead-letter pages render with every other host blocked."""
    async with served(fake_gw) as urls, chromium() as browser:
        base = urls["vecozo"]
        page = await browser.new_page()
        blocked = await closed_network(page, base)
        await page.goto(f"{base}/dashboard")
        await page.fill("#token", OPERATOR_TOKEN)
        await page.fill("#operator", "offline-test")
        await page.click("#sign-in")
        await page.wait_for_selector("#accepted-15m")
        for path in ("/dashboard/trace", "/dashboard/dead-letters"):
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
    assert [] == blocked


def test_no_page_names_an_outside_url(fake_gw: GatewayUnderTest) -> None:
    """The docs pages' HTML loads its assets from /docs/assets/, each of which the package holds."""
    app = create_app(fake_gw.runtime.services["ggk"])
    paths = {getattr(route, "path", "") for route in app.routes}
    assert ({"/docs", "/redoc", "/docs/assets/{name}"} <= paths, True) == (
        True,
        all(asset_path(name).is_file() for name in ASSETS),
    )


async def test_docs_html_names_no_outside_url(fake_gw: GatewayUnderTest) -> None:
    """/docs, /redoc and the sign-in page reference no script, style, font or icon outside the node."""
    client = fake_gw.clients["ggk"]
    pages = [(await client.get(path)).content for path in ("/docs", "/redoc", "/dashboard/login")]
    assert [[], [], []] == [OUTSIDE.findall(html) for html in pages]


async def test_served_assets_name_no_cdn(fake_gw: GatewayUnderTest) -> None:
    """The scripts and styles the docs pages load, as served, name no CDN or font host."""
    client = fake_gw.clients["ggk"]
    bodies = [(await client.get(f"/docs/assets/{name}")).content for name in ASSETS]
    assert [] == [m for body in bodies for m in re.findall(rb"https://(?:cdn|fonts)[\w.-]*", body)]
