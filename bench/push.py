"""VECOZO REST Push against ``POST /v1/berichten`` of the same bytes, in one run: CPU per message of each.

``gateway serve --node vecozo`` (``--workers`` sharing the port) on a fresh database, the node link paused
(as in ``python -m bench ingest``). At each concurrency wrk first POSTs the official WMO315 example with a
fresh Identificatie (``bench/post.lua``, 202), then pushes the same bytes as VECOZO's multipart form with
metadata and a fresh traceerId (``bench/push.lua``, 204). The gateway, broker and database CPU of each run is
divided by its accepted messages. Like with like: the same payload bytes, the same concurrency, both
answered only once durable (broker confirm, database commit), and the two kinds run in the order POST, push,
push, POST at each concurrency (each for ``--seconds``), so that neither gains from running first on a
smaller database or a quieter machine; the figures of a kind are the sum of its two runs. The database is
analyzed after the warm-up and not vacuumed during the runs (:func:`settle`).

Goal (issue 17): a push costs no more all-in CPU per message than the POST plus the multipart parse. The
parse is measured in this process, in the same run: :func:`gateway.koppeling.multipart.read_parts` (and the
boundary) on the very body ``push.lua`` sends, CPU time per call. The report gives push all-in against POST
all-in + parse (goal: at most 1.00) and push/POST. ``--profile`` samples the gateway worker with py-spy during both runs at the highest
concurrency: raw stacks and a flame graph of each under ``bench/results/`` (``profile-push-post-*``,
``profile-push-push-*``), and where the worker's CPU goes in each.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR, Report, Table
from bench._args import add_gateway_arguments
from bench._figures import COLUMNS, Figures, ms2, row
from bench._stack import BenchDatabase, start_gateway
from bench._steps import SENDER, Stack, _metered, _profile_summary, meter
from bench._wrk import PUSH_SCRIPT, SCRIPT, run_wrk
from gateway.koppeling.multipart import boundary_of, read_parts

TITLE = "VECOZO REST Push against POST /v1/berichten of the same bytes (CPU per message)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_gateway_arguments(parser)
    parser.set_defaults(concurrency=[16, 64], open_rate=0.0)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the gateway worker in both runs at the highest concurrency",
    )


def _spy(pid: int, seconds: float, name: str) -> tuple[subprocess.Popen[bytes], Path] | None:
    """py-spy recording ``pid`` for the run (raw stacks under bench/results/)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy not found (pip install py-spy): no profile", file=sys.stderr)
        return None
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"profile-push-{name}-{time.strftime('%Y%m%dT%H%M%S')}.txt"
    duration = str(max(1, int(seconds) - 1))
    command = [exe, "record", "-p", str(pid), "-d", duration, "-r", "200", "-f", "raw", "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def push_body(message: Path) -> tuple[str, bytes]:
    """Content type and body of one push as ``bench/push.lua`` writes them (same metadata, same framing)."""
    boundary = "benchboundary7d1f3c"
    traceer = str(uuid.uuid4())
    metadata = (
        '{"routeringgegevens":{"afzender":{"rol":"Zorgaanbieder","code":"42420001"},'
        '"geadresseerden":[{"rol":"Gemeente","code":"0384"}],'
        '"berichtstroom":{"berichttype":"WMO315","berichtversie":3,"berichtsubversie":2,"actie":"Indienen"}},'
        f'"referentiegegevens":{{"conversatieId":"{traceer}","traceerId":"{traceer}"}}}}'
    )
    payload = message.read_bytes().replace(b"123456789012", b"p00000000001", 1)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="berichtMetadata"\r\n'
            f"Content-Type: application/json\r\n\r\n{metadata}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="payload"; filename="bericht.xml"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


def multipart_cost_ms(message: Path, calls: int = 20000) -> float:
    """CPU milliseconds of one multipart parse of a push of ``message`` (boundary and parts), as the node
    parses it: the median of five rounds of ``calls`` parses, process CPU time."""
    content_type, body = push_body(message)
    rounds = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(calls):
            read_parts(body, boundary_of(content_type), ("berichtMetadata", "payload"))
        rounds.append((time.process_time() - start) / calls * 1000)
    return sorted(rounds)[2]


# every table of the bench's database without autovacuum (its own database, dropped after the run)
_NO_AUTOVACUUM = """DO $$ DECLARE t record; BEGIN
FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
EXECUTE format('ALTER TABLE %I SET (autovacuum_enabled = false)', t.tablename);
END LOOP; END $$"""


def settle(db: BenchDatabase) -> None:
    """After the warm-up, the bench's fresh database as one in use (:meth:`BenchDatabase.analyze`), and on
    PostgreSQL no autovacuum during the runs: an autovacuum of the tables inside one 8-second run added
    0.3 ms per message to that run alone, a POST run or a push run by chance (``pg_stat_user_tables``, the
    server's CPU by process). Vacuum's own cost, the same dead row per message of either kind (the
    confirm's update), is left out of both."""
    db.analyze()
    db.execute(_NO_AUTOVACUUM)


def combined(a: Figures, b: Figures) -> Figures:
    """Two runs of one kind as one: counts summed, CPU per message over both, the slower latencies."""
    n_a, n_b = max(a.completed or a.ok, 1), max(b.completed or b.ok, 1)

    def both(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else (x * n_a + y * n_b) / (n_a + n_b)

    return replace(
        a,
        ok=a.ok + b.ok,
        sent=a.sent + b.sent,
        seconds=a.seconds + b.seconds,
        p50_ms=max(a.p50_ms, b.p50_ms),
        p99_ms=max(a.p99_ms, b.p99_ms),
        max_ms=max(a.max_ms, b.max_ms),
        errors=a.errors + b.errors,
        cpu_gateway_ms=both(a.cpu_gateway_ms, b.cpu_gateway_ms),
        cpu_broker_ms=both(a.cpu_broker_ms, b.cpu_broker_ms),
        cpu_database_ms=both(a.cpu_database_ms, b.cpu_database_ms),
        completed=None if a.completed is None or b.completed is None else a.completed + b.completed,
    )


RUNS = (  # (script, what, name) in the order run at each concurrency: POST, push, push, POST
    (SCRIPT, "POST /v1/berichten (wrk)", "post"),
    (PUSH_SCRIPT, "VECOZO REST push (wrk)", "push"),
    (PUSH_SCRIPT, "VECOZO REST push (wrk)", "push"),
    (SCRIPT, "POST /v1/berichten (wrk)", "post"),
)


def run(args: argparse.Namespace) -> Report:
    pairs: list[tuple[Figures, Figures]] = []
    profiles: dict[str, dict[str, Any]] = {}
    profile_at = max(args.concurrency) if args.profile else None
    parse_ms = multipart_cost_ms(args.message)
    with Stack.open(args.database, own=not args.shared_servers) as stack:
        assert stack.db is not None
        gw = start_gateway(stack.place, stack.db, nodes=("vecozo",), workers=args.workers)
        stack.gateways.append(gw)
        vhost = f"{stack.place.prefix}vecozo"
        stack.place.delete_shovel(vhost, "link-vecozo-to-ggk")
        url, token = gw.url("vecozo"), stack.token(SENDER)
        for script, tag in ((SCRIPT, "w"), (PUSH_SCRIPT, "v")):  # warm-up of both paths
            run_wrk(url, args.message, token, tag, 16, 2, script=script)
        stack.place.purge(vhost, "link.to-ggk")
        settle(stack.db)
        for i, c in enumerate(args.concurrency):
            runs: dict[str, list[Figures]] = {"post": [], "push": []}
            for j, (script, what, name) in enumerate(RUNS):
                tag = f"{'abcdefghij'[i]}{j}"  # an Identificatie and traceerId range of each run's own
                spy = _spy(gw.pids[0], args.seconds, name) if c == profile_at and j < 2 else None
                with meter(gw.pids, stack.broker_pids, stack.database_pid) as cpu:
                    result = run_wrk(url, args.message, token, tag, c, args.seconds, script=script)
                if spy is not None:
                    profiles[name] = _profile_summary(*spy) | {"requests": result.requests}
                fig = Figures(
                    what,
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
                runs[name].append(_metered(fig, cpu))
                time.sleep(3)  # requests wrk left in flight are still published
                stack.place.purge(vhost, "link.to-ggk")
            pairs.append((combined(*runs["post"]), combined(*runs["push"])))
        gw.stop()
        stack.gateways.remove(gw)
    return report(pairs, args, profiles, parse_ms)


def report(
    pairs: list[tuple[Figures, Figures]],
    args: argparse.Namespace,
    profiles: dict[str, dict[str, Any]] | None = None,
    parse_ms: float = 0.0,
) -> Report:
    rows = [row(f) for pair in pairs for f in pair]
    notes = [f"multipart parse of the push body: {parse_ms * 1000:.1f} us CPU per message (this process)"]
    goals = []
    for post, push in pairs:
        a, b = post.cpu_total_ms, push.cpu_total_ms
        if a and b:
            allowed = a + parse_ms
            goals.append({"concurrency": post.concurrency, "post": a, "push": b, "allowed": allowed})
            notes.append(
                f"c={post.concurrency}: all-in CPU per message push {ms2(b)} ms against POST + multipart parse "
                f"{ms2(a)} + {parse_ms:.3f} = {ms2(allowed)} ms: push/(POST+parse) {b / allowed:.2f} "
                f"(goal <= 1.00), push/POST {b / a:.2f}; gateway alone {ms2(post.cpu_gateway_ms)} vs "
                f"{ms2(push.cpu_gateway_ms)} ms, database {ms2(post.cpu_database_ms)} vs "
                f"{ms2(push.cpu_database_ms)} ms"
            )
        if post.errors or push.errors:
            notes.append(f"c={post.concurrency}: {post.errors} POST and {push.errors} push requests failed")
    tables = [Table(f"Push vs POST: {args.workers} worker(s), {args.database}", COLUMNS, tuple(rows))]
    for name, profile in (profiles or {}).items():
        if profile.get("shares"):
            shares = profile["shares"]
            tables.append(
                Table(
                    f"{name}: where the worker's CPU goes (py-spy, {profile['samples']} samples)",
                    ("category", "share"),
                    tuple((k, f"{v:.1%}") for k, v in shares.items()),
                )
            )
            notes.append(f"{name}: raw py-spy samples {profile['file']}, flame graph {profile['flamegraph']}")
    data = {
        "multipart_parse_ms": parse_ms,
        "goal": goals,
        "pairs": [{"post": p.as_dict(), "push": q.as_dict()} for p, q in pairs],
        "profiles": profiles or {},
    }
    return Report("push", tuple(tables), tuple(notes), data)
