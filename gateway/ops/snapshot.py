"""The broker's figures (mailbox and DLQ depths, link state, link queues) and certificate expiry, read
in the background and cached, so that neither a scrape nor a dashboard refresh ever calls the broker.

:class:`SnapshotCache` reads on demand: a caller gets the cached snapshot at once and, when it is older than
``max_age``, one refresh starts in the background (a storm of scrapes shares it). Only when there is no
snapshot yet, or it is very old, does a caller wait for the refresh (bounded by ``wait``). Nobody looking
means no reads at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from gateway.errors import NodeRole
from gateway.ports import NODES, Participant

log = structlog.get_logger("gateway.ops")


@dataclass(frozen=True, slots=True)
class Certificate:
    """One certificate of the PKI directory and the days until it expires (negative: expired)."""

    name: str  # path relative to the PKI directory: ca.pem, nodes/ggk.pem, clients/0384.pem
    days_left: float
    party: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the broker and the PKI directory said at ``taken_at``."""

    taken_at: datetime
    mailboxes: Mapping[tuple[NodeRole, str], int] = field(default_factory=dict)
    dlq: Mapping[NodeRole, int] = field(default_factory=dict)
    link_queues: Mapping[tuple[NodeRole, str], int] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)  # shovel name -> state
    certificates: tuple[Certificate, ...] = ()
    homes: Mapping[str, NodeRole] = field(default_factory=dict)  # party -> home node
    errors: tuple[str, ...] = ()

    def link_up(self, name: str) -> bool:
        return self.links.get(name) == "running"


class ManagementReader:
    """Reads queue depths and shovel states of both node vhosts: two requests per vhost.

    Uses the RabbitMQ management HTTP API with the gateway's own credentials (from the broker settings).
    """

    def __init__(self, base_url: str, credentials: tuple[str, str], vhosts: Mapping[NodeRole, str]) -> None:
        self.vhosts = dict(vhosts)
        self._client = httpx.AsyncClient(base_url=base_url + "/api", auth=credentials, timeout=5.0)

    def __repr__(self) -> str:
        return f"ManagementReader(base_url={str(self._client.base_url)!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str) -> Any:
        response = await self._client.get(path)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return response.json()

    async def queues(self, node: NodeRole) -> dict[str, int]:
        """Queue name -> ready + unacknowledged messages in ``node``'s vhost."""
        items = await self._get(f"/queues/{quote(self.vhosts[node], safe='')}?columns=name,messages")
        return {str(item["name"]): int(item.get("messages") or 0) for item in items}

    async def shovels(self, node: NodeRole) -> dict[str, str]:
        items = await self._get(f"/shovels/{quote(self.vhosts[node], safe='')}")
        return {str(item["name"]): str(item.get("state", "unknown")) for item in items}


def read_certificates(pki_dir: Path) -> tuple[Certificate, ...]:
    """Every current (not revoked) certificate in the PKI directory; none when there is no directory."""
    if not (pki_dir / "ca.pem").exists():
        return ()
    from gateway.security.pkidir import PkiDir  # file reading stays at the edge

    now = datetime.now(UTC)
    out = []
    for info in PkiDir(pki_dir).certificates():
        if info.revoked:
            continue
        days = (info.not_after - now).total_seconds() / 86400
        out.append(Certificate(info.path, days, info.party))
    return tuple(out)


class SnapshotReader:
    """Takes one :class:`Snapshot`: participants from the registry, figures from the broker, PKI files."""

    def __init__(
        self,
        participants: Callable[[], Awaitable[Iterable[Participant]]],
        management: ManagementReader | None = None,
        depths: Any = None,  # a broker with dlq_depth/mailbox_depth, used without a management reader
        pki_dir: Path | None = None,
        link_names: Mapping[NodeRole, str] | None = None,
    ) -> None:
        self.participants = participants
        self.management = management
        self.depths = depths
        self.pki_dir = pki_dir
        self.link_names = dict(link_names or {})

    def __repr__(self) -> str:
        return f"SnapshotReader(management={self.management is not None}, pki_dir={self.pki_dir!s})"

    async def __call__(self) -> Snapshot:
        errors: list[str] = []
        homes: dict[str, NodeRole] = {}
        try:
            homes = {p.code: p.home_node for p in await self.participants()}
        except Exception as exc:
            errors.append(f"registry: {type(exc).__name__}")
        found = _Figures()
        try:
            if self.management is not None:
                await self._from_management(homes, found)
            elif self.depths is not None:
                await self._from_ports(homes, found)
        except Exception as exc:  # broker down: keep what we have, say so
            errors.append(f"broker: {type(exc).__name__}")
        certificates: tuple[Certificate, ...] = ()
        if self.pki_dir is not None:
            try:
                certificates = await asyncio.to_thread(read_certificates, self.pki_dir)
            except Exception as exc:
                errors.append(f"pki: {type(exc).__name__}")
        return Snapshot(
            taken_at=datetime.now(UTC),
            mailboxes=found.mailboxes,
            dlq=found.dlq,
            link_queues=found.link_queues,
            links=found.links,
            certificates=certificates,
            homes=homes,
            errors=tuple(errors),
        )

    async def _from_management(self, homes: Mapping[str, NodeRole], found: _Figures) -> None:
        assert self.management is not None
        for node in NODES:
            queues = await self.management.queues(node)
            shovels = await self.management.shovels(node)
            found.dlq[node] = queues.get("dlq", 0)
            for name, depth in queues.items():
                if name.startswith("link."):
                    found.link_queues[(node, name)] = depth
                elif name.startswith("mailbox."):
                    code = name.removeprefix("mailbox.")
                    if homes.get(code, node) == node:
                        found.mailboxes[(node, code)] = depth
            wanted = self.link_names.get(node)
            if wanted is not None:
                found.links[wanted] = shovels.get(wanted, "absent")

    async def _from_ports(self, homes: Mapping[str, NodeRole], found: _Figures) -> None:
        for node in NODES:
            found.dlq[node] = int(await self.depths.dlq_depth(node))
        for code, node in homes.items():
            with contextlib.suppress(LookupError):
                found.mailboxes[(node, code)] = int(await self.depths.mailbox_depth(node, code))


@dataclass(slots=True)
class _Figures:
    """The broker's figures as a reader finds them; what it found before the broker failed is kept."""

    mailboxes: dict[tuple[NodeRole, str], int] = field(default_factory=dict)
    dlq: dict[NodeRole, int] = field(default_factory=dict)
    link_queues: dict[tuple[NodeRole, str], int] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # shovel name -> state


@dataclass(eq=False, repr=False)
class SnapshotCache:
    """Single-flight, demand-driven cache of :class:`Snapshot` values."""

    read: Callable[[], Awaitable[Snapshot]]
    _: KW_ONLY
    max_age: float = 5.0
    stale_after: float = 60.0
    wait: float = 3.0
    clock: Callable[[], float] = time.monotonic
    _snapshot: Snapshot | None = field(default=None, init=False)
    _taken: float = field(default=0.0, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    reads: int = field(default=0, init=False)

    def __repr__(self) -> str:
        return f"SnapshotCache(max_age={self.max_age}, reads={self.reads})"

    @property
    def current(self) -> Snapshot | None:
        return self._snapshot

    def age(self) -> float | None:
        return None if self._snapshot is None else self.clock() - self._taken

    async def _refresh(self) -> None:
        try:
            snapshot = await self.read()
        except Exception as exc:  # a reader bug must not kill the dashboard
            log.warning("ops.snapshot_failed", error=type(exc).__name__)
            return
        self.reads += 1
        self._snapshot = snapshot
        self._taken = self.clock()

    def _start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._refresh(), name="ops-snapshot")
        return self._task

    async def get(self) -> Snapshot | None:
        """The cached snapshot; a refresh starts when it is older than ``max_age``."""
        age = self.age()
        if age is not None and age < self.max_age:
            return self._snapshot
        task = self._start()
        if age is None or age > self.stale_after:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self.wait)
        return self._snapshot

    async def fresh(self) -> Snapshot | None:
        """A snapshot taken from now on (after an operator action changed the figures)."""
        if self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await self._task
        self._task = None
        task = self._start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), self.wait)
        return self._snapshot

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
