"""The BSN key file, the BSN digest, and retention: old detail purged, the audit chain still verifiable."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.db import Database
from adapters.db.privacy import SqlPrivacyIndex
from gateway.privacy.bsnkey import BsnHasher, load_or_create_key
from gateway.privacy.index import Exchange
from gateway.security.audit import verify
from tests.harness import GatewayUnderTest
from tests.messages import example, new_id, set_header

AANBIEDER, GEMEENTE, BSN = "42420001", "0384", "999900006"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_key_file_is_made_private_once(tmp_path: Path) -> None:
    """The key is created on first use with mode 0600 and read back unchanged afterwards."""
    path = tmp_path / "sub" / "privacy.key"
    first, second = load_or_create_key(path), load_or_create_key(path)
    assert (first, 0o600, 32) == (second, stat.S_IMODE(path.stat().st_mode), len(first))


def test_digest_depends_on_the_key() -> None:
    """The same BSN gives the same digest under one key and another digest under another key."""
    a, b = BsnHasher(b"a" * 32), BsnHasher(b"b" * 32)
    assert (a.digest(BSN), False) == (a.digest(f" {BSN} "), a.digest(BSN) == b.digest(BSN))


def test_hasher_repr_hides_the_key() -> None:
    """The hasher prints a fingerprint of its key, never the key."""
    key = bytes(range(32))
    assert key.hex() not in repr(BsnHasher(key))


def test_short_key_is_refused(tmp_path: Path) -> None:
    """A key file holding fewer than 16 bytes is refused, naming the file."""
    path = tmp_path / "privacy.key"
    path.write_text("00ff\n")
    with pytest.raises(ValueError, match=r"privacy\.key"):
        load_or_create_key(path)


async def test_index_lists_by_digest_and_period(database_url: str) -> None:
    """The index answers by digest, oldest first, within [since, until) (SQLite and PostgreSQL)."""
    db = await Database.connect(database_url)
    try:
        index = SqlPrivacyIndex(db.connections)
        await index.create_schema()
        rows = [
            Exchange("h1", f"t{i}", "WMO315", AANBIEDER, GEMEENTE, T0 + timedelta(days=i)) for i in range(3)
        ]
        await index.add([*rows, Exchange("h2", "x", "WMO301", GEMEENTE, AANBIEDER, T0)])
        found = await index.exchanges("h1", T0 + timedelta(days=1), T0 + timedelta(days=2))
        everything = await index.exchanges("h1")
    finally:
        await db.close()
    assert (["t1"], ["t0", "t1", "t2"]) == (
        [e.tracking_id for e in found],
        [e.tracking_id for e in everything],
    )


@pytest.mark.shared
async def test_purge_forgets_old_detail_and_keeps_the_audit_chain(fake_gw: GatewayUnderTest) -> None:
    """A purge past the retention removes messages, events and BSN entries; the audit chain still verifies."""
    for _ in range(2):
        data = set_header(example("WMO315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())
        assert 202 == (await fake_gw.submit(AANBIEDER, data)).status_code
    protection = fake_gw.runtime.protection
    assert protection is not None
    await protection.index.flush()
    await fake_gw.runtime.db.tracking.flush()
    later = datetime.now(UTC) + timedelta(days=protection.settings.security.retention_days + 1)
    report = await protection.purge(now=later)
    await protection.audit.flush()
    db_file = Path(fake_gw.runtime.settings.database_url.split("///", 1)[1])
    with sqlite3.connect(db_file) as conn:
        left = [
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("messages", "events", "bsn_index")
        ]
        audited = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    problems = verify(await protection.audit.entries(), protection.audit.key, await protection.audit.head())
    assert ((2, 2), [0, 0, 0], 2, []) == ((report.messages, report.exchanges), left, audited, problems)


@pytest.mark.shared
async def test_purge_keeps_what_is_within_retention(fake_gw: GatewayUnderTest) -> None:
    """A purge today removes nothing that was received today."""
    data = set_header(example("WMO315"), Afzender=AANBIEDER, Ontvanger=GEMEENTE, Identificatie=new_id())
    await fake_gw.submit(AANBIEDER, data)
    protection = fake_gw.runtime.protection
    assert protection is not None
    report = await protection.purge()
    assert (0, 0, 0) == (report.messages, report.events, report.exchanges)


async def test_background_purge_runs_at_its_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a purge interval the runtime purges on its own: once at start-up, then every interval."""
    from gateway.privacy.retention import PurgeReport, Retention

    from .conftest import fake_gateway, security

    runs: list[datetime] = []

    async def counted(self: Retention, cutoff: datetime | None = None) -> PurgeReport:
        runs.append(self.cutoff())
        return PurgeReport(self.cutoff(), 0, 0, 0)

    monkeypatch.setattr(Retention, "purge", counted)
    async with fake_gateway(tmp_path, security(tmp_path, purge_interval=0.05)):
        for _ in range(100):
            if len(runs) >= 3:
                break
            await asyncio.sleep(0.02)
    assert len(runs) >= 3
