"""The audit chain's key file and its signed checkpoints, both kept outside the database.

A checkpoint (:class:`gateway.security.audit.Checkpoint`) is written every few seconds while the head moves,
and once more at shutdown: as a JSON line appended to the checkpoint file (mode 0600) and as the log event
``audit.checkpoint``. ``gateway audit verify`` reads the file back: entries removed up to the newest
checkpoint (the head moved back, or every row deleted) are reported, however the database was edited.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

from gateway import paths
from gateway.periodic import every
from gateway.privacy.bsnkey import load_or_create_key
from gateway.security.audit import AuditLog, ChainKey, Checkpoint

log = structlog.get_logger("gateway.audit")


def load_chain_key(path: Path, *, create: bool = True) -> ChainKey:
    """The audit key in ``path`` (32 random bytes, made 0600 at the first start when ``create``)."""
    if not create and not path.exists():
        raise FileNotFoundError(f"no audit key file {path}")
    return ChainKey(load_or_create_key(path, "audit key"))


def default_checkpoint_file(database_url: str) -> Path:
    """Where the checkpoints of the chain in ``database_url`` go by default: beside a SQLite file, else
    ``var/audit-{database}.checkpoints.jsonl`` of the checkout (:mod:`gateway.paths`; one file per chain, so
    another database's chain never mixes in)."""
    url = make_url(database_url)
    name = url.database or "memory"
    if url.drivername.startswith("sqlite") and name != ":memory:" and not name.startswith("file:"):
        return Path(name + ".checkpoints.jsonl")
    return paths.VAR / f"audit-{Path(name).name}.checkpoints.jsonl"


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file (none when it does not exist); an unreadable line becomes a checkpoint
    that no key signed, so verification reports it instead of skipping it."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_mapping(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(0, "", "", ""))
    return found


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


class CheckpointWriter:
    """Signs the chain's head and keeps it outside the database when it moved since the last time."""

    def __init__(
        self,
        audit: AuditLog,
        key: ChainKey,
        path: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.audit = audit
        self.key = key
        self.path = path
        self.clock = clock
        self._last_seq = -1

    def __repr__(self) -> str:
        return f"CheckpointWriter(path={str(self.path)!r}, key={self.key!r})"

    async def check(self) -> list[str]:
        """At start: does the chain still hold the newest signed checkpoint's entry, with its hash? Each
        problem (the chain cut back or rewritten behind the node's back) is logged as ``audit.tampered``
        and returned; ``gateway audit verify`` tells the whole story."""
        signed = [c for c in await asyncio.to_thread(read_checkpoints, self.path) if c.signed_by(self.key)]
        if not signed:
            return []
        newest = max(signed, key=lambda c: c.seq)
        head = await self.audit.head()
        found = await self.audit.entries(after=newest.seq - 1, limit=1)
        problems = []
        if head is None:
            problems.append("no-head")
        if not found or found[0].seq != newest.seq:
            problems.append("truncated")
        elif found[0].hash != newest.hash:
            problems.append("rewritten")
        for problem in problems:
            log.error("audit.tampered", problem=problem, checkpoint_seq=newest.seq, path=str(self.path))
        return problems

    async def write(self) -> Checkpoint | None:
        """A checkpoint of the current head, or None when the head did not move (or is missing)."""
        head = await self.audit.head()
        if head is None or head.seq == self._last_seq:
            return None
        checkpoint = Checkpoint.of(head, self.key, self.clock())
        await asyncio.to_thread(_append_line, self.path, json.dumps(checkpoint.as_dict(), sort_keys=True))
        log.info("audit.checkpoint", **checkpoint.as_dict())
        self._last_seq = head.seq
        return checkpoint

    async def run(self, interval: float) -> None:
        """Write a checkpoint now and every ``interval`` seconds while the head moves."""
        await every(interval, self.write, log.warning, "audit.checkpoint_failed")
