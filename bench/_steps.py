"""The measurements of the ingest, end-to-end and baseline sections, each one function over a prepared stack.

(a) :func:`baseline`: raw aio-pika publish, persistent, confirms, to a quorum queue (closed and open loop);
(b) :func:`ingest`: ``gateway serve`` of the provider node, HTTP POST to 202 with every check, uniqueness,
    tracking and the publish with confirm; the node link is paused (its shovel removed), so the figures are
    the node's own work up to the confirm in its outbound queue, as (a) is the broker's;
(c) :func:`end_to_end`: both nodes; from POST on the provider node to the message consumed over AMQP from
    the municipality's mailbox on the municipal node (shovel, link consumer, second check, mailbox publish);
(d) :func:`validation_alone`: the engine's check of the same bytes on one core (the full comparison with
    bare lxml is ``python -m bench validate``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import EXAMPLES, RESULTS_DIR, SHARED, calibrate, measure, one_core
from bench._figures import Figures, finish_generator, from_samples, percentile, run_generator, start_generator
from bench._flame import stacks, svg, top_frames
from bench._own import OwnNode, OwnPostgres
from bench._serve import Gateway
from bench._stack import (
    BenchDatabase,
    BrokerPlace,
    cpu_seconds,
    postmaster_pid,
    server_cpu_seconds,
    start_gateway,
)
from bench._wrk import run_wrk

SENDER, RECIPIENT = "42420001", "0384"
DEFAULT_MESSAGE = SHARED / "iwmo-3.2" / "examples" / "WMO315.xml"  # 3.3 KB, provider -> municipality


@dataclass
class Servers:
    """The broker and PostgreSQL server a run uses: its own (default; only its traffic is metered) or the
    machine's (``--shared-servers``)."""

    env: dict[str, str]  # GATEWAY_AMQP_URL, GATEWAY_MANAGEMENT_URL of the broker
    own: bool = False
    own_pg: OwnPostgres | None = None
    own_node: OwnNode | None = None

    @classmethod
    @contextlib.contextmanager
    def open(cls, own: bool = True) -> Iterator[Servers]:
        if not own:
            yield cls(dict(os.environ))
            return
        node = OwnNode.create()
        servers = None
        try:
            node.start()
            servers = cls(
                {"GATEWAY_AMQP_URL": node.amqp_url, "GATEWAY_MANAGEMENT_URL": node.management_url},
                own=True,
                own_node=node,
            )
            yield servers
        finally:
            node.destroy()
            if servers is not None and servers.own_pg is not None:
                servers.own_pg.stop()

    def postgres(self) -> str | None:
        """The admin URL of the PostgreSQL server to create databases on: its own (started on first use), or
        None for the machine's (``GATEWAY_TEST_POSTGRES_URL`` or the default)."""
        if self.own and self.own_pg is None:
            self.own_pg = OwnPostgres.start()
        return None if self.own_pg is None else self.own_pg.admin_url

    def broker_pid(self, place: BrokerPlace) -> int | None:
        """The broker node's OS pid: from its own pid file, else as the management API tells it."""
        if self.own_node is not None:
            with contextlib.suppress(OSError, ValueError):
                return int((self.own_node.base / "node.pid").read_text().split()[0])
        return place.broker_pid()

    @property
    def postgres_pid(self) -> int | None:
        return self.own_pg.pid if self.own_pg is not None else postmaster_pid()


@dataclass
class Stack:
    """The broker place (vhost prefix) and the database of one bench run; removed by :meth:`close`."""

    place: BrokerPlace
    servers: Servers
    db: BenchDatabase | None = None
    gateways: list[Gateway] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def open(cls, database: str | None, servers: Servers | None = None, own: bool = True) -> Iterator[Stack]:
        """A stack on ``servers``, or on servers started for it alone (``own``) or the machine's."""
        if servers is None:
            with Servers.open(own) as started, cls.open(database, started) as stack:
                yield stack
            return
        stack = cls(BrokerPlace.from_env(servers.env), servers)
        try:
            if database is not None:
                admin = servers.postgres() if database == "postgres" else None
                stack.db = BenchDatabase.create(database, admin)
            yield stack
        finally:
            for gw in stack.gateways:
                gw.stop()
            stack.place.remove_all()
            if stack.db is not None:
                stack.db.drop()

    @property
    def broker_pids(self) -> list[int]:
        """The broker's process, or none when it cannot be found (its CPU then reads None, never 0)."""
        pid = self.servers.broker_pid(self.place)
        if pid is None:
            print("bench: the broker's pid is unknown: no broker CPU in this run", file=sys.stderr)
        return [pid] if pid else []

    @property
    def database_pid(self) -> int | None:
        """The PostgreSQL server's main process when the bench database is on it (SQLite runs inside the
        gateway processes, so its CPU is theirs)."""
        if self.db is None or self.db.kind != "postgres":
            return None
        return self.servers.postgres_pid

    def token(self, party: str) -> str:
        assert self.db is not None
        return self.db.tokens[party]


def _metered(fig: Figures, cpu: Sequence[float | None], client_s: float | None = None) -> Figures:
    """``fig`` with CPU per message: gateway, broker, database server, and the raw baseline's publishing
    client (a reading of None stays None). The divisor is every message the metered span handled
    (``completed``, warm-up included, when the generator counts it; else those of the timed window)."""
    n = max(fig.completed or fig.ok, 1)

    def per_message(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / n * 1000

    return replace(
        fig,
        cpu_gateway_ms=per_message(cpu[0]),
        cpu_broker_ms=per_message(cpu[1]),
        cpu_database_ms=per_message(cpu[2]) if len(cpu) > 2 else None,
        cpu_client_ms=per_message(client_s),
    )


@contextlib.contextmanager
def meter(
    gateway: Sequence[int], broker: Sequence[int], database: int | None = None
) -> Iterator[list[float | None]]:
    """After the block the list holds the CPU seconds the gateway processes, the broker and the database
    server (main process and its connections, when it runs on this machine) used in it."""
    out: list[float | None] = []
    g0, b0 = cpu_seconds(gateway), cpu_seconds(broker)
    d0 = server_cpu_seconds(database) if database else 0.0
    yield out
    out.append(cpu_seconds(gateway) - g0 if gateway else None)
    out.append(cpu_seconds(broker) - b0 if broker else None)
    out.append(server_cpu_seconds(database) - d0 if database else None)


# --- (d) ------------------------------------------------------------------------------------------------


def validation_alone(corpus_dirs: Sequence[Path] | None = None) -> Figures:
    """The engine's check with its content rules judged (XSD + rules, as ``python -m bench validate``'s
    (1r)) over the official example mix, one core; ``ok`` messages in ``seconds`` (median repetition) of
    the measuring thread's CPU time, as ``bench validate`` measures it."""
    from bench.validate import Corpus, engine_pass
    from gateway.standard.engine import Engine

    corpus = Corpus.load(list(corpus_dirs or EXAMPLES))
    # XSD and the release's content rules, judged as ``python -m bench validate`` does for its (1r) figure
    run_pass = engine_pass(Engine.load().with_mode("warn"), corpus)()
    with one_core():
        number = calibrate(run_pass, target_s=0.1)
        timing = measure(run_pass, number=number, repeat=9, clock=time.thread_time)
    n = number * len(corpus)
    return Figures(
        f"validation alone, XSD + content rules, one core ({len(corpus)} official examples)",
        None,
        None,
        n,
        n,
        timing.median,
        0,
        0,
        0,
    )


# --- (a) ------------------------------------------------------------------------------------------------


def baseline(
    stack: Stack,
    message: Path,
    concurrencies: Sequence[int],
    seconds: float,
    loop: str = "asyncio",
    rate: float = 0.0,
) -> list[Figures]:
    """Raw publishing at each concurrency (closed loop), or at ``rate`` per second (open loop)."""
    vhost = f"{stack.place.prefix}raw"
    stack.place.put_vhost(vhost)
    broker = stack.broker_pids
    out = []
    for c in concurrencies:
        spec = {
            "url": stack.place.vhost_url(vhost),
            "queue": f"raw-{c}-{int(rate)}",
            "message": str(message),
            "seconds": seconds,
            "concurrency": c,
            "rate": rate,
            "loop": loop,
        }
        with meter([], broker) as cpu:
            raw = run_generator("publish", spec)
        label = f"raw publish+confirm ({loop})"
        fig = from_samples(label, raw, None if rate else c, rate or None)
        out.append(_metered(fig, cpu, raw.get("cpu_s")))
    return out


# --- (b) ------------------------------------------------------------------------------------------------


def ingest(
    stack: Stack,
    message: Path,
    concurrencies: Sequence[int],
    seconds: float,
    workers: int,
    open_rate: float = 0.0,
    profile_at: int | None = None,
    raw_loop: str = "uvloop",
) -> tuple[list[Figures], Figures | None, dict[str, Any], Figures | None]:
    """wrk at each concurrency against the provider node (link paused), then the open-loop runs: the raw
    publish's at the same rate right before the gateway's (the comparison in one minute of the machine, the
    gateway's processes idle meanwhile), from an emptied mailbox as the raw queue starts empty. Returns the
    closed-loop figures, the gateway's open loop, the profile and the raw open loop."""
    assert stack.db is not None
    gw = start_gateway(stack.place, stack.db, nodes=("vecozo",), workers=workers)
    stack.gateways.append(gw)
    vhost = f"{stack.place.prefix}vecozo"
    stack.place.delete_shovel(vhost, "link-vecozo-to-ggk")
    url, token = gw.url("vecozo"), stack.token(SENDER)
    run_wrk(url, message, token, "w", 64, 3)  # warm-up: connections, statement caches, JIT of nothing
    stack.db.analyze()
    _purge_accepted(stack)
    out: list[Figures] = []
    profile: dict[str, Any] = {}
    for c, tag in zip(concurrencies, "abcdefgh", strict=False):
        spy = _py_spy(gw.pids[0], seconds) if c == profile_at else None
        with meter(gw.pids, stack.broker_pids, stack.database_pid) as cpu:
            result = run_wrk(url, message, token, tag, c, seconds)
        if spy is not None:
            profile = _profile_summary(*spy)
        fig = Figures(
            "gateway ingest (wrk)",
            c,
            None,
            result.requests - result.not_202,
            result.requests,
            result.seconds,
            result.p50_ms,
            result.p99_ms,
            result.max_ms,
            result.not_202 + result.socket_errors,
        )
        out.append(_metered(fig, cpu))
        time.sleep(3)  # requests wrk left in flight are still published
        _purge_accepted(stack)
    opened = raw_opened = None
    if open_rate:
        raw_opened = baseline(stack, message, [1024], seconds, raw_loop, open_rate)[0]
        opened = _http_open(stack, gw, message, open_rate, seconds, "ox", "gateway ingest (open loop)")
    gw.stop()
    stack.gateways.remove(gw)
    return out, opened, profile, raw_opened


def _purge_accepted(stack: Stack) -> None:
    """Empty the queues the accepted messages went to: the recipient's mailbox on the other node (published
    straight into it on one cluster, the default) or the link queue (otherwise), so that every run starts on
    empty queues as the raw baseline's does, not on the tens of thousands of messages of the runs before."""
    stack.place.purge(f"{stack.place.prefix}vecozo", "link.to-ggk")
    stack.place.purge(f"{stack.place.prefix}ggk", f"mailbox.{RECIPIENT}")


def _http_spec(stack: Stack, gw: Gateway, message: Path, seconds: float, tag: str) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": gw.ports["vecozo"],
        "token": stack.token(SENDER),
        "message": str(message),
        "tag": tag,
        "seconds": seconds,
    }


def _http_open(
    stack: Stack, gw: Gateway, message: Path, rate: float, seconds: float, tag: str, label: str
) -> Figures:
    spec = {**_http_spec(stack, gw, message, seconds, tag), "rate": rate, "concurrency": 512}
    with meter(gw.pids, stack.broker_pids, stack.database_pid) as cpu:
        raw = run_generator("http", spec)
    fig = from_samples(label, raw, None, rate)
    if raw["late"] or raw["unfinished"]:
        fig = replace(fig, what=f"{label} ({raw['late']} late, {raw['unfinished']} unanswered)")
    return _metered(fig, cpu)


# --- (c) ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndToEnd:
    figures: Figures
    accepted: int
    delivered: int  # distinct accepted tracking ids consumed
    duplicates: int
    missing: int
    foreign: int  # consumed ids that no 202 named

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.figures.as_dict(),
            "accepted": self.accepted,
            "delivered": self.delivered,
            "duplicates": self.duplicates,
            "missing": self.missing,
            "foreign": self.foreign,
        }


def end_to_end(
    stack: Stack,
    message: Path,
    seconds: float,
    workers: int,
    concurrency: int = 64,
    rate: float = 0.0,
    gateway: Gateway | None = None,
    tag: str = "e",
    acks: str = "single",
) -> EndToEnd:
    """POST (closed loop at ``concurrency``, or open loop at ``rate``) -> consumed from the mailbox (the
    subscriber acks each message, or with ``acks="multiple"`` what came since its last ack in one)."""
    assert stack.db is not None
    gw = gateway or start_gateway(stack.place, stack.db, nodes=("ggk", "vecozo"), workers=workers)
    if gateway is None:
        stack.gateways.append(gw)
    for vhost, queue in (
        ("ggk", f"mailbox.{RECIPIENT}"),
        ("ggk", "link.from-vecozo"),
        ("vecozo", "link.to-ggk"),
    ):
        stack.place.purge(f"{stack.place.prefix}{vhost}", queue)  # what an earlier run left behind
    consumer, out = start_generator(
        "consume",
        {
            "url": stack.place.vhost_url(f"{stack.place.prefix}ggk"),
            "queue": f"mailbox.{RECIPIENT}",
            "expect": 0,
            "seconds": seconds + 300,
            "idle": 10.0,
            "acks": acks,
        },
    )
    spec = {**_http_spec(stack, gw, message, seconds, tag), "record_ids": True, "concurrency": concurrency}
    if rate:
        spec.update(rate=rate, concurrency=512)
    with meter(gw.pids, stack.broker_pids, stack.database_pid) as cpu:
        raw = run_generator("http", spec)
        arrived = finish_generator(consumer, out)["arrived"]
    label = "end to end, open loop" if rate else "end to end (closed loop)"
    return _joined(label, raw, arrived, None if rate else concurrency, rate or None, cpu)


def _joined(
    label: str,
    raw: dict[str, Any],
    arrived: list[tuple[str, float]],
    concurrency: int | None,
    rate: float | None,
    cpu: list[float | None],
) -> EndToEnd:
    first: dict[str, float] = {}
    seen = Counter(tid for tid, _ in arrived)
    for tid, at in arrived:
        first.setdefault(tid, at)
    sent = {tid: t for tid, t, *_ in raw["ids"]}
    start, end = raw["started"], raw["ended"]
    latencies = [first[tid] - t for tid, t in sent.items() if tid in first and start <= t <= end]
    in_window = sum(1 for at in first.values() if start <= at <= end)
    fig = Figures(
        label,
        concurrency,
        rate,
        in_window,
        len(sent),
        end - start,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        max(latencies, default=0.0) * 1000,
        raw["errors"],
        completed=len(sent),  # every message accepted in the metered span went the whole way
    )
    return EndToEnd(
        figures=_metered(fig, cpu),
        accepted=len(sent),
        delivered=sum(1 for tid in sent if tid in first),
        duplicates=sum(n - 1 for n in seen.values()),
        missing=sum(1 for tid in sent if tid not in first),
        foreign=sum(1 for tid in first if tid not in sent),
    )


# --- profile --------------------------------------------------------------------------------------------


def _py_spy(pid: int, seconds: float) -> tuple[subprocess.Popen[bytes], Path] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy not found (pip install py-spy): no profile", file=sys.stderr)
        return None
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    # the pid in the name: two benches started together (before and after) must not write one file
    out = RESULTS_DIR / f"profile-ingest-{time.strftime('%Y%m%dT%H%M%S')}-{pid}.txt"
    duration = max(1, int(seconds) - 1)
    proc = subprocess.Popen(
        [exe, "record", "-p", str(pid), "-d", str(duration), "-r", "200", "-f", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, out


_CATEGORIES = (
    (
        "database client (SQLAlchemy, asyncpg, aiosqlite)",
        ("sqlalchemy/", "asyncpg/", "aiosqlite/", "adapters/db/"),
    ),
    ("AMQP client (aio-pika, aiormq, pamqp)", ("aio_pika/", "aiormq/", "pamqp/", "adapters/rabbitmq/")),
    ("XML safe parse + validate + header", ("gateway/standard/", "lxml", "gateway/checker")),
    (
        "HTTP (uvicorn, Starlette, FastAPI)",
        ("uvicorn/", "starlette/", "fastapi/", "httptools", "anyio/", "h11/"),
    ),
    ("logging (structlog)", ("structlog/", "logging/")),
    ("gateway core and wiring", ("gateway/",)),
)


def _category(frames: list[str]) -> str:
    """The first library the stack meets walking up from the frame on the CPU."""
    for frame in reversed(frames):
        for name, keys in _CATEGORIES:
            if any(k in frame for k in keys):
                return name
    return "event loop, asyncio, other"


def _profile_summary(proc: subprocess.Popen[bytes], out: Path) -> dict[str, Any]:
    """Share of the main thread's on-CPU samples per library (by the frame on the CPU), the frames with the
    largest inclusive share, and a flame graph beside the raw samples (``.svg``)."""
    proc.wait(120)
    if not out.exists():
        return {}
    shares: Counter[str] = Counter()
    total = 0
    main = [
        (frames, n) for frames, n in stacks(out) if any("Runner.run" in f or "uvloop" in f for f in frames)
    ]
    for frames, n in main:  # other threads are idle workers
        total += n
        shares[_category(frames)] += n
    graph = out.with_suffix(".svg")
    graph.write_text(svg(main, f"gateway serve, main thread: {out.stem}"))
    return {
        "file": str(out),
        "flamegraph": str(graph),
        "samples": total,
        "shares": {name: n / total for name, n in shares.most_common()} if total else {},
        "top": [{"frame": f, "inclusive": inc, "own": own} for f, inc, own in top_frames(main, 40)],
    }
