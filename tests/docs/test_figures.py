"""The figures and wording the docs and scripts give match what the code does."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from adapters.db.engine import MAX_OVERFLOW, Database
from gateway.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_scaling_doc_gives_the_pool_the_code_opens() -> None:
    """docs/scaling.md names the pool size and overflow a gateway process opens, and their sum per process."""
    text = " ".join((ROOT / "docs" / "scaling.md").read_text(encoding="utf-8").split())
    found = re.search(
        r"`GATEWAY_DB_POOL_SIZE` connections \(default (\d+)\) plus up to (\d+) overflow connections at peaks, "
        r"so size `max_connections` as processes × (\d+)",
        text,
    )
    assert found is not None
    size, overflow = Settings().db_pool_size, MAX_OVERFLOW
    default_overflow = inspect.signature(Database.connect).parameters["max_overflow"].default
    assert (size, overflow, size + overflow, overflow) == (
        int(found[1]),
        int(found[2]),
        int(found[3]),
        default_overflow,
    )


def test_readme_gives_the_pool_the_code_opens() -> None:
    """The README's settings table gives the default pool size and the overflow of the code."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `GATEWAY_DB_POOL_SIZE`"))
    expected = f"| `GATEWAY_DB_POOL_SIZE` | {Settings().db_pool_size} |"
    assert (expected, f"up to {MAX_OVERFLOW} more") == (
        row[: len(expected)],
        re.search(r"up to \d+ more", row)[0],
    )


def test_run_script_counts_demo_traffic_in_exchanges() -> None:
    """scripts/run says the demo rate counts exchanges started (``gateway simulate --rate``), not messages."""
    script = (ROOT / "scripts" / "run").read_text(encoding="utf-8")
    line = next(x for x in script.splitlines() if x.strip().startswith('echo "Demo traffic:'))
    from gateway.cli.simulate import simulate

    rate_help = inspect.signature(simulate).parameters["rate"].default.help
    assert ("new exchanges/s" in line, "messages/s" in line, "exchanges" in rate_help) == (True, False, True)
