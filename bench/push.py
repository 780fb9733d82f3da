"""VECOZO REST Push against ``POST /v1/berichten`` of the same bytes, in one run: CPU per message of each.

``gateway serve --node vecozo`` (``--workers`` sharing the port) on a fresh database, the node link paused
(as in ``python -m bench ingest``). At each concurrency wrk first POSTs the official WMO315 example with a
fresh Identificatie (``bench/post.lua``, 202), then pushes the same bytes as VECOZO's multipart form with
metadata and a fresh traceerId (``bench/push.lua``, 204). The gateway, broker and database CPU of each run is
divided by its accepted messages. Goal (issue 17): a push costs no more CPU per message than the POST plus
the multipart parse. ``--profile`` samples the gateway worker with py-spy during both runs at the highest
concurrency: raw stacks and a flame graph of each under ``bench/results/`` (``profile-push-post-*``,
``profile-push-push-*``), and where the worker's CPU goes in each.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR, Report, Table
from bench._args import add_gateway_arguments
from bench._figures import COLUMNS, Figures, ms2, row
from bench._stack import start_gateway
from bench._steps import SENDER, Stack, _metered, _profile_summary, meter
from bench._wrk import PUSH_SCRIPT, SCRIPT, run_wrk

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


def run(args: argparse.Namespace) -> Report:
    pairs: list[tuple[Figures, Figures]] = []
    profiles: dict[str, dict[str, Any]] = {}
    profile_at = max(args.concurrency) if args.profile else None
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
        for c, tags in zip(args.concurrency, ("ab", "cd", "ef", "gh", "ij", "kl"), strict=False):
            figures = []
            for script, tag, what, name in (
                (SCRIPT, tags[0], "POST /v1/berichten (wrk)", "post"),
                (PUSH_SCRIPT, tags[1], "VECOZO REST push (wrk)", "push"),
            ):
                spy = _spy(gw.pids[0], args.seconds, name) if c == profile_at else None
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
                figures.append(_metered(fig, cpu))
                time.sleep(3)  # requests wrk left in flight are still published
                stack.place.purge(vhost, "link.to-ggk")
            pairs.append((figures[0], figures[1]))
        gw.stop()
        stack.gateways.remove(gw)
    return report(pairs, args, profiles)


def report(
    pairs: list[tuple[Figures, Figures]],
    args: argparse.Namespace,
    profiles: dict[str, dict[str, Any]] | None = None,
) -> Report:
    rows = [row(f) for pair in pairs for f in pair]
    notes = []
    for post, push in pairs:
        a, b = post.cpu_total_ms, push.cpu_total_ms
        if a and b:
            notes.append(
                f"c={post.concurrency}: all-in CPU per message POST {ms2(a)} ms, push {ms2(b)} ms "
                f"(push/POST {b / a:.2f}); gateway alone {ms2(post.cpu_gateway_ms)} vs {ms2(push.cpu_gateway_ms)} ms"
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
        "pairs": [{"post": p.as_dict(), "push": q.as_dict()} for p, q in pairs],
        "profiles": profiles or {},
    }
    return Report("push", tuple(tables), tuple(notes), data)
