"""The system under measurement: a fresh database, `gateway serve` processes on a vhost prefix of their own.

Everything made here is removed again: the database (dropped, or the SQLite folder deleted), the vhosts of
the prefix, the processes. The machine's broker is used as it is (only the bench's own vhosts change).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from yarl import URL

from bench import REPO
from bench._serve import Gateway
from gateway.config import Settings

DEMO_SEED = REPO / "deploy" / "demo" / "participants.toml"
DEFAULT_PG_ADMIN = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


# --- database -------------------------------------------------------------------------------------------


@dataclass
class BenchDatabase:
    """A database of the bench's own, seeded with the demo participants; ``tokens`` are their API tokens."""

    url: str
    kind: str
    tokens: dict[str, str]
    _drop: Any = field(repr=False, default=None)

    @classmethod
    def create(cls, kind: str, pg_admin: str | None = None) -> BenchDatabase:
        if kind == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="gw-bench-db-"))
            url = f"sqlite+aiosqlite:///{folder / 'gateway.db'}"

            def drop() -> None:
                shutil.rmtree(folder, ignore_errors=True)

        else:
            admin = URL(pg_admin or os.environ.get("GATEWAY_TEST_POSTGRES_URL") or DEFAULT_PG_ADMIN)
            name = f"gwbench_{secrets.token_hex(4)}"
            asyncio.run(_pg(admin, f'CREATE DATABASE "{name}"'))
            # ssl=disable: asyncpg otherwise tries TLS first on every new connection to localhost
            url = str(admin.with_scheme("postgresql+asyncpg").with_path("/" + name).with_query(ssl="disable"))

            def drop() -> None:
                asyncio.run(_pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        try:
            tokens = asyncio.run(_seed(url))
        except BaseException:
            drop()
            raise
        return cls(url, kind, tokens, drop)

    def analyze(self) -> None:
        """After a warm-up, the statistics a database in use has (PostgreSQL; SQLite plans without them).
        Until its first ``ANALYZE`` a new table counts as nearly empty, and a statement the gateway prepared
        then keeps the plan it was given: the confirm's ``UPDATE messages .. WHERE tracking_id = ANY(..)``
        scanned the whole table per batch (0.13 -> 1.4 ms of database CPU per message within a minute of
        runs, ``pg_stat_statements``) until autovacuum happened to analyze it, in whichever run that was; the
        bench's figures then depended on the moment of that analyze, not on the gateway."""
        self.execute("ANALYZE")

    def execute(self, statement: str) -> None:
        """One statement on this database (PostgreSQL; nothing on SQLite)."""
        if self.kind == "postgres":
            asyncio.run(_pg(URL(self.url).with_query(None), statement))

    def drop(self) -> None:
        if self._drop is not None:
            self._drop()
            self._drop = None


async def _pg(admin: URL, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(str(admin.with_scheme("postgresql")))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _seed(url: str) -> dict[str, str]:
    from adapters.db import Database
    from adapters.db.seed import apply_seed, demo_tokens, load_seed

    db = await Database.connect(url)
    try:
        await apply_seed(db.registry, load_seed(DEMO_SEED))
        codes = [p.code for p in await db.registry.participants()]
        tokens: dict[str, str] = await demo_tokens(db.registry, codes, {})
        return tokens
    finally:
        await db.close()


# --- broker ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerPlace:
    """Where the broker is (the machine's by default) and the vhost prefix of this run."""

    amqp_url: str
    management_url: str
    prefix: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BrokerPlace:
        """The broker of the gateway's settings (``GATEWAY_AMQP_URL`` ...), credentials written into the URLs."""
        broker = Settings.from_env(env).broker
        amqp = URL(broker.amqp_url).with_user(broker.credentials[0]).with_password(broker.credentials[1])
        user, password = broker.management_credentials
        management = URL(broker.management_base).with_user(user).with_password(password)
        return cls(str(amqp), str(management), f"bench{secrets.token_hex(3)}-")

    def vhost_url(self, vhost: str) -> str:
        return str(URL(self.amqp_url).with_path("/" + vhost))

    def api(self) -> httpx.Client:
        url = URL(self.management_url)
        return httpx.Client(
            base_url=str(url.with_user(None)).rstrip("/") + "/api",
            auth=(url.user or "guest", url.password or "guest"),
            timeout=60,
        )

    def put_vhost(self, vhost: str) -> None:
        with self.api() as api:
            api.put(f"/vhosts/{vhost}").raise_for_status()
            user = URL(self.amqp_url).user or "guest"
            api.put(
                f"/permissions/{vhost}/{user}", json={"configure": ".*", "write": ".*", "read": ".*"}
            ).raise_for_status()

    def delete_shovel(self, vhost: str, name: str) -> None:
        with self.api() as api:
            api.delete(f"/parameters/shovel/{vhost}/{name}")

    def purge(self, vhost: str, queue: str) -> None:
        with self.api() as api:
            api.delete(f"/queues/{vhost}/{queue}/contents")

    def remove_all(self) -> None:
        """Delete every vhost of this run's prefix."""
        with self.api() as api:
            for vhost in api.get("/vhosts").json():
                if vhost["name"].startswith(self.prefix):
                    api.delete(f"/vhosts/{vhost['name']}")

    def broker_pid(self) -> int | None:
        """The OS pid of the broker node (for its CPU time), when the management API tells it."""
        with self.api() as api:
            try:
                nodes = api.get("/nodes").json()
                return int(nodes[0]["os_pid"])
            except (httpx.HTTPError, KeyError, IndexError, ValueError):
                return None


# --- gateway processes ----------------------------------------------------------------------------------


def start_gateway(
    place: BrokerPlace,
    db: BenchDatabase,
    nodes: Sequence[str] = ("ggk", "vecozo"),
    workers: int = 1,
    combined: bool = False,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> Gateway:
    """Start the nodes; ``combined``: each process serves both nodes (as ``gateway serve`` does by default).

    With ``workers`` > 1 the processes of one node share its port (``--reuse-port``); the kernel spreads
    connections over them. Logs in a temporary folder of their own.
    """
    groups = {",".join(nodes): (",".join(nodes), workers)} if combined else {n: (n, workers) for n in nodes}
    gateway = Gateway.prepare(
        Path(tempfile.mkdtemp(prefix="gw-bench-logs-")),
        place.amqp_url,
        place.management_url,
        db.url,
        place.prefix,
        groups,
        # the per-party rate limit (abuse protection, default 200/s per party and process) would measure
        # itself: every request of the benchmark comes from one party
        {"GATEWAY_RATE_LIMIT": "0", **(extra_env or {})},
        cwd=REPO,
    )
    gateway.start(timeout)
    try:
        # every worker is up when each answered; give each process a few readiness probes of its own
        time.sleep(1.0)
    except BaseException:
        gateway.stop()
        raise
    return gateway


# --- CPU and memory of processes ------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by these processes (those still alive)."""
    total = 0.0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def postmaster_pid() -> int | None:
    """The local PostgreSQL server's main process (the oldest ``postgres`` process), if there is one."""
    oldest: tuple[int, int] | None = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        fields = _stat(int(entry.name))
        if fields is None:
            continue
        started = int(fields[19])
        if oldest is None or started < oldest[0]:
            oldest = (started, int(entry.name))
    return None if oldest is None else oldest[1]


def server_cpu_seconds(main_pid: int) -> float:
    """CPU seconds of a forking server so far: its own, its children's that ended (the kernel adds them to
    the parent once reaped) and its live children's. A difference of two readings is what the server did in
    between, also for connections that came and went."""
    fields = _stat(main_pid)
    if fields is None:
        return 0.0
    total = sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICK
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child is not None and int(child[1]) == main_pid:
                total += (int(child[11]) + int(child[12])) / _TICK
    return total


def rss_bytes(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def cpu_meter(pids: Sequence[int]) -> Iterator[list[float]]:
    """Yields a list that holds, after the block, the CPU seconds these processes used in it."""
    out: list[float] = []
    before = cpu_seconds(pids)
    yield out
    out.append(cpu_seconds(pids) - before)
