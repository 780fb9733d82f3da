"""VECOZO REST Push against ``POST /v1/berichten`` of the same bytes, in one run: CPU per message of each.

``gateway serve --node vecozo`` (``--workers`` sharing the port) on a fresh database, the node link paused
(as in ``python -m bench ingest``). At each concurrency wrk first POSTs the official WMO315 example with a
fresh Identificatie (``bench/post.lua``, 202), then pushes the same bytes as VECOZO's multipart form with
metadata and a fresh traceerId (``bench/push.lua``, 204). The gateway, broker and database CPU of each run is
divided by its accepted messages. Goal (issue 17): a push costs no more CPU per message than the POST plus
the multipart parse; the push does more by design: the traceerId claim and its settlement (two writes).
"""

from __future__ import annotations

import argparse
import time

from bench import Report, Table
from bench._args import add_gateway_arguments
from bench._figures import COLUMNS, Figures, ms2, row
from bench._stack import start_gateway
from bench._steps import SENDER, Stack, _metered, meter
from bench._wrk import PUSH_SCRIPT, SCRIPT, run_wrk

TITLE = "VECOZO REST Push against POST /v1/berichten of the same bytes (CPU per message)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_gateway_arguments(parser)
    parser.set_defaults(concurrency=[16, 64], open_rate=0.0)


def run(args: argparse.Namespace) -> Report:
    pairs: list[tuple[Figures, Figures]] = []
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
            for script, tag, what in (
                (SCRIPT, tags[0], "POST /v1/berichten (wrk)"),
                (PUSH_SCRIPT, tags[1], "VECOZO REST push (wrk)"),
            ):
                with meter(gw.pids, stack.broker_pids, stack.database_pid) as cpu:
                    result = run_wrk(url, args.message, token, tag, c, args.seconds, script=script)
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
    return report(pairs, args)


def report(pairs: list[tuple[Figures, Figures]], args: argparse.Namespace) -> Report:
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
    data = {"pairs": [{"post": p.as_dict(), "push": q.as_dict()} for p, q in pairs]}
    return Report("push", tuple(tables), tuple(notes), data)
