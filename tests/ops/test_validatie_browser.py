"""The validation page in headless Chromium: a vendor drops a real message file and sees every finding, with
its code, rule, retourcode, element path and line, and the line marked in the message as shown.

Same set-up as the dashboard's browser test (Debian's ``chromium`` driven by Playwright; skips without them),
on the in-memory broker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_dashboard import CHROMIUM, OUTPUT, async_playwright, browser_ready, served
from tests.harness import GatewayUnderTest
from tests.messages import example

pytestmark = [pytest.mark.slow]
__all__ = ["browser_ready"]  # the dashboard test's fixture: skip without Playwright or chromium

PROVIDER = "42420001"


@pytest.mark.usefixtures("browser_ready")
async def test_vendor_drops_a_file_and_sees_every_finding(fake_gw: GatewayUnderTest, tmp_path: Path) -> None:
    """A WMO315 whose BSN fails the eleven-test: refused (BRS28 on the provider node) naming CS002 on its line,
    that line marked in the message; the same file with a good BSN is valid. Nothing is routed."""
    good = example("WMO315")
    bad = good.replace(b"<wmo315:Bsn>999900006</wmo315:Bsn>", b"<wmo315:Bsn>123456789</wmo315:Bsn>")
    assert bad != good
    line = good[: good.index(b"<wmo315:Bsn>")].count(b"\n") + 1
    (tmp_path / "bsn.xml").write_bytes(bad)
    (tmp_path / "good.xml").write_bytes(good)
    gw = fake_gw
    async with served(gw) as urls, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1300, "height": 1000})
            await page.goto(f"{urls['vecozo']}/dashboard/validatie")
            await page.fill("#token", gw.tokens[PROVIDER])
            await page.set_input_files("#file", str(tmp_path / "bsn.xml"))
            await page.click("#run")
            await page.wait_for_selector("tr.finding")
            verdict = await page.text_content("#verdict") or ""
            rows = await page.locator("tr.finding").evaluate_all(
                "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
            )
            marked = await page.locator("li.marked").evaluate_all("els => els.map(e => e.id)")
            await page.screenshot(path=str(OUTPUT / "validatie-refused.png"), full_page=True)
            assert "BRS28" in verdict and "WMO315" in verdict
            expected = [
                str(line),
                "BRS28",
                "CS002",
                "0001",
                "/Bericht/Client/Bsn",
                "De waarde moet voldoen aan de 11-proef.",
            ]
            assert [expected] == rows
            assert [f"line-{line}"] == marked

            await page.set_input_files("#file", str(tmp_path / "good.xml"))
            await page.click("#run")
            await page.wait_for_function("document.querySelector('#verdict').textContent.startsWith('Valid')")
            assert 0 == await page.locator("tr.finding").count()
        finally:
            await browser.close()
    assert [] == await gw.lease("0384")  # validated, not routed
