"""Validation throughput of the standard message engine against bare lxml, on the official examples.

Measured in one run, on the same bytes, with the same compiled schemas (``engine.registry.validator``):

1. ``Engine.check``: safe parse + classify + header agreement + XSD validate + header value, one core; and
   the same with the release's content rules (TR/CD/CS Schematron) judged too;
2. bare lxml: ``etree.fromstring`` + ``XMLSchema`` call, one core; and the ratio of 1 to 2;
3. both again with several threads (lxml releases the GIL), and the speed-up over one thread;
4. xmlschema ``is_valid`` of the same messages, for comparison (a few hundred messages only).

One-core figures are CPU time of the measuring thread (``time.thread_time``: what one message costs one core,
not inflated by other work waiting for the same CPU), taken pinned to one CPU, engine and bare lxml taking
turns in every repetition; the ratio is the median of the per-repetition ratios, so load from elsewhere on
the machine (cache and memory bandwidth it shares) hits both alike. ``--wall`` times them by the wall clock.
Issue goals: >= 10,000 msg/s per core for (1), and (1) >= 0.8 x (2).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from bench import (
    EXAMPLES,
    REPO,
    SHARED,
    Report,
    Table,
    Timing,
    calibrate,
    measure,
    measure_interleaved,
    one_core,
    paired_ratio,
)

if TYPE_CHECKING:
    from gateway.standard.engine import Engine

TITLE = "Standard message engine: safe parse + classify + validate + header, against bare lxml"
GOAL_RATE = 10_000
GOAL_RATIO = 0.8

Pass = Callable[[], object]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    examples = list(EXAMPLES)
    add = parser.add_argument
    add("--corpus", type=Path, action="append", help=f"message directory (default: {SHARED}/*/examples)")
    add("--schemas", type=Path, action="append", help="schema directory (default: schemas/)")
    add("--repeat", type=int, default=31, help="timed repetitions per figure (the median is quoted)")
    add("--seconds", type=float, default=0.05, help="target length of one repetition")
    add("--threads", type=int, default=2, help="threads for the multi-thread figures")
    add("--xmlschema", type=int, default=300, help="messages validated with xmlschema (0: skip)")
    add("--per-message", action="store_true", help="also time each message on its own")
    add("--profile", action="store_true", help="cProfile the engine and list where its time goes")
    add("--no-pin", action="store_true", help="do not pin the one-core figures to one CPU")
    add("--wall", action="store_true", help="time the one-core figures by the wall clock, not CPU time")
    parser.set_defaults(default_corpus=examples)


@dataclass(frozen=True, slots=True)
class Corpus:
    """The messages measured: names, bytes and root namespaces, all valid for the engine."""

    names: tuple[str, ...]
    messages: tuple[bytes, ...]
    namespaces: tuple[str, ...]

    @classmethod
    def load(cls, dirs: list[Path]) -> Corpus:
        files = [f for d in dirs for f in sorted(d.glob("*.xml"))]
        if not files:
            raise SystemExit(f"no messages in {', '.join(map(str, dirs))}; pass --corpus DIR")
        messages = tuple(f.read_bytes() for f in files)
        namespaces = tuple(etree.QName(etree.fromstring(m)).namespace or "" for m in messages)
        return cls(tuple(f.stem for f in files), messages, namespaces)

    def __len__(self) -> int:
        return len(self.messages)


def engine_pass(engine: Engine, corpus: Corpus) -> Callable[[], Pass]:
    """A factory of one pass of ``Engine.check`` over the corpus."""

    def make() -> Pass:
        check, messages = engine.check, corpus.messages

        def run_pass() -> None:
            for data in messages:
                check(data)

        return run_pass

    return make


def bare_pass(engine: Engine, corpus: Corpus) -> Callable[[], Pass]:
    """A factory of one pass of bare lxml parse + validate; call it on the thread that runs the pass (its
    own parser, that thread's compiled schemas)."""

    def make() -> Pass:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        pairs = [
            (m, engine.registry.validator(ns))
            for m, ns in zip(corpus.messages, corpus.namespaces, strict=True)
        ]
        fromstring = etree.fromstring

        def run_pass() -> None:
            for data, schema in pairs:
                if not schema(fromstring(data, parser)):
                    raise AssertionError("bare lxml found an example invalid")

        return run_pass

    return make


def stage_passes(engine: Engine, corpus: Corpus) -> dict[str, Pass]:
    """The two halves of each path: parsing, and everything after it, on already parsed roots."""
    from gateway.standard.safexml import parse

    roots = [parse(m) for m in corpus.messages]
    validators = [engine.registry.validator(ns) for ns in corpus.namespaces]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def safe_parse() -> None:
        for data in corpus.messages:
            parse(data)

    def bare_parse() -> None:
        for data in corpus.messages:
            etree.fromstring(data, parser)

    def check_tree() -> None:
        for root in roots:
            engine.check_tree(root)

    def bare_validate() -> None:
        for schema, root in zip(validators, roots, strict=True):
            schema(root)

    return {
        "safe parse": safe_parse,
        "bare parse": bare_parse,
        "check_tree": check_tree,
        "bare validate": bare_validate,
    }


def run(args: argparse.Namespace) -> Report:
    from gateway.standard.engine import Engine

    corpus = Corpus.load(args.corpus or args.default_corpus)
    # (1) is the XSD path (content rules off); (1r) judges the release's content rules as well, in warn mode
    # so that the official examples that break one (JW317, JW323, WMO317) are judged in full, not raised
    engine = Engine.load(schema_dirs=args.schemas or [REPO / "schemas"], mode="off")
    rules_engine = engine.with_mode("warn")
    for message in corpus.messages:
        engine.check(message)  # a benchmark of refusals would measure something else: fail loudly here
    make_engine, make_bare = engine_pass(engine, corpus), bare_pass(engine, corpus)

    with one_core(enabled=not args.no_pin) as cpu:
        paths = {"engine": make_engine(), "rules": engine_pass(rules_engine, corpus)(), "lxml": make_bare()}
        number = calibrate(paths["engine"], target_s=args.seconds)
        clock = time.perf_counter if args.wall else time.thread_time
        single = measure_interleaved(paths, number=number, repeat=args.repeat, clock=clock)
        stages = measure_interleaved(
            stage_passes(engine, corpus), number=number, repeat=args.repeat, clock=clock
        )
        per_message = _per_message(engine, corpus, args.seconds / 5, clock) if args.per_message else []
        profile = _profile(paths["engine"], len(corpus), number * 4) if args.profile else None
    repeat_threads = max(5, args.repeat // 4)
    threads = {
        label: {w: _threaded(make, w, number * 4, repeat_threads) for w in (1, args.threads)}
        for label, make in (("engine", make_engine), ("lxml", make_bare))
    }
    xs = _xmlschema(engine, corpus, args.xmlschema) if args.xmlschema else None

    def per_s(t: Timing) -> float:
        return t.number * len(corpus) / t.median

    eng, bare = per_s(single["engine"]), per_s(single["lxml"])
    ratio = paired_ratio(single["engine"], single["lxml"])
    ruled = per_s(single["rules"])
    rules_cost = paired_ratio(single["rules"], single["engine"])
    rate_goal = f">= {GOAL_RATE:,} msg/s: {'met' if eng >= GOAL_RATE else 'NOT met'}"
    ratio_goal = f">= {GOAL_RATIO} x (2): {'met' if ratio >= GOAL_RATIO else 'NOT met'}"
    rows = [
        (
            "(1) engine.check, 1 thread",
            f"{1e6 / eng:.1f}",
            f"{eng:,.0f}",
            f"{ratio:.2f}",
            f"{rate_goal}; {ratio_goal}",
        ),
        (
            "(1r) engine.check + content rules, 1 thread",
            f"{1e6 / ruled:.1f}",
            f"{ruled:,.0f}",
            f"{ruled / bare:.2f}",
            f">= {GOAL_RATE:,} msg/s: {'met' if ruled >= GOAL_RATE else 'NOT met'}; "
            f"{rules_cost:.2f} x the rate of (1)",
        ),
        ("(2) bare lxml parse + validate, 1 thread", f"{1e6 / bare:.1f}", f"{bare:,.0f}", "1.00", ""),
    ]
    for label, title in (("engine", "(3) engine.check"), ("lxml", "(3b) bare lxml")):
        r1, rk = per_s(threads[label][1]), per_s(threads[label][args.threads])
        note = f"x{rk / r1:.2f} over 1 unpinned thread ({r1:,.0f} msg/s)"
        rows.append(
            (f"{title}, {args.threads} threads", f"{1e6 / rk:.1f}", f"{rk:,.0f}", f"{rk / bare:.2f}", note)
        )
    if xs is not None:
        xr = xs["messages"] / xs["seconds"]
        note = f"engine x{eng / xr:.0f} faster; compiling took {xs['compile_s']:.1f} s"
        rows.append(
            ("(4) xmlschema is_valid, 1 thread", f"{1e6 / xr:.0f}", f"{xr:,.0f}", f"{xr / bare:.3f}", note)
        )

    size = sum(map(len, corpus.messages)) / len(corpus) / 1024
    where = f"pinned to CPU {cpu}" if cpu is not None else "not pinned"
    tables = [
        Table(
            f"validate: {len(corpus)} official examples, {size:.1f} KB on average; one core {where}, "
            f"{'wall clock' if args.wall else 'CPU time'}; median of {args.repeat} repetitions of {number} passes",
            ("path", "us/msg", "msg/s", "vs (2)", "goal / note"),
            tuple(rows),
        ),
        _breakdown(stages, len(corpus)),
    ]
    if per_message:
        tables.append(_per_message_table(per_message))
    if profile is not None:
        tables.append(profile[0])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    notes = (
        "(1) Engine.check(bytes) -> Header, XSD only; (1r) the same with the release's content rules (TR/CD/CS, "
        "regels.sch); (2) etree.fromstring + XMLSchema(root), the engine's compiled schemas.",
        "vs (2) for (1): median of per-repetition ratios, the two timed in turns (robust to other load);",
        "other rows: rate / (2)'s rate; threads and xmlschema are separate runs.",
        f"machine: {os.cpu_count()} CPUs, load average {load:.2f} at the end: other work on the machine lowers "
        "absolute figures and thread scaling.",
    )
    data: dict[str, Any] = {
        "goals": {"msg_per_s": GOAL_RATE, "ratio": GOAL_RATIO},
        "corpus": {"messages": list(corpus.names), "bytes": sum(map(len, corpus.messages))},
        "one_core": {
            "cpu": cpu,
            "clock": "wall" if args.wall else "thread_cpu",
            "engine": single["engine"].as_dict(),
            "lxml": single["lxml"].as_dict(),
            "engine_msg_per_s": eng,
            "lxml_msg_per_s": bare,
            "ratio": ratio,
            "goal_rate_met": eng >= GOAL_RATE,
            "goal_ratio_met": ratio >= GOAL_RATIO,
            "rules": single["rules"].as_dict(),
            "rules_msg_per_s": ruled,
            "rules_goal_rate_met": ruled >= GOAL_RATE,
        },
        "stages": {k: v.as_dict() for k, v in stages.items()},
        "threads": {
            label: {str(w): t.as_dict() for w, t in by_workers.items()}
            for label, by_workers in threads.items()
        },
        "xmlschema": xs,
        "per_message": per_message,
        "profile": profile[1] if profile is not None else None,
    }
    return Report("validate", tuple(tables), notes, data)


def _breakdown(stages: dict[str, Timing], n: int) -> Table:
    us = {k: t.best / t.number / n * 1e6 for k, t in stages.items()}
    rows = (
        ("parse: safexml.parse vs etree.fromstring", "safe parse", "bare parse"),
        ("rest: engine.check_tree vs XMLSchema call", "check_tree", "bare validate"),
    )
    return Table(
        "where the engine's extra time goes (us per message, one core, best repetition: small differences "
        "drown in the noise of a median under load)",
        ("stage", "engine", "bare lxml", "extra"),
        tuple((title, f"{us[e]:.1f}", f"{us[b]:.1f}", f"{us[e] - us[b]:+.1f}") for title, e, b in rows),
    )


def _threaded(make_pass: Callable[[], Pass], workers: int, number: int, repeat: int) -> Timing:
    """Wall time of ``workers`` threads each running ``number`` passes; ``Timing.number`` counts all passes.

    The clock is read by the barriers' actions, which run once every party has arrived and before any is
    released: a main thread waiting for the GIL cannot shorten or lengthen the measured span."""
    began: list[float] = []
    ended: list[float] = []
    start = threading.Barrier(workers + 1, action=lambda: began.append(time.perf_counter()))
    done = threading.Barrier(workers + 1, action=lambda: ended.append(time.perf_counter()))
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            run_pass = make_pass()
            run_pass()  # warm-up on this thread (compiles its validators)
            for _ in range(repeat):
                start.wait()
                for _ in range(number):
                    run_pass()
                done.wait()
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:
            failures.append(exc)
            start.abort()
            done.abort()

    pool = [threading.Thread(target=worker, name=f"bench-{i}") for i in range(workers)]
    for thread in pool:
        thread.start()
    try:
        for _ in range(repeat):
            start.wait()
            done.wait()
    except threading.BrokenBarrierError:
        pass
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
    return Timing(number * workers, tuple(e - b for b, e in zip(began, ended, strict=True)))


def _per_message(
    engine: Engine, corpus: Corpus, seconds: float, clock: Callable[[], float]
) -> list[dict[str, Any]]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    out = []
    for name, data, ns in zip(corpus.names, corpus.messages, corpus.namespaces, strict=True):
        schema = engine.registry.validator(ns)

        def check(data: bytes = data) -> object:
            return engine.check(data)

        def bare(data: bytes = data, schema: etree.XMLSchema = schema) -> object:
            return schema(etree.fromstring(data, parser))

        t = measure_interleaved(
            {"engine": check, "lxml": bare},
            number=calibrate(check, target_s=seconds),
            repeat=11,
            clock=clock,
        )
        out.append(
            {
                "message": name,
                "bytes": len(data),
                "engine_us": t["engine"].median / t["engine"].number * 1e6,
                "lxml_us": t["lxml"].median / t["lxml"].number * 1e6,
                "ratio": paired_ratio(t["engine"], t["lxml"]),
            }
        )
    return out


def _per_message_table(per_message: list[dict[str, Any]]) -> Table:
    return Table(
        "per message (one core, medians; ratio as for (1))",
        ("message", "bytes", "engine us", "lxml us", "ratio"),
        tuple(
            (
                m["message"],
                str(m["bytes"]),
                f"{m['engine_us']:.1f}",
                f"{m['lxml_us']:.1f}",
                f"{m['ratio']:.2f}",
            )
            for m in per_message
        ),
    )


def _profile(run_pass: Pass, n: int, number: int) -> tuple[Table, list[dict[str, Any]]]:
    """cProfile of ``number`` engine passes: the functions with the most own time, per message."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(number):
        run_pass()
    profiler.disable()
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    messages = number * n
    rows, data = [], []
    for (file, line, func), (_cc, calls, own, cumulative, _callers) in sorted(
        raw.items(), key=lambda kv: kv[1][2], reverse=True
    )[:15]:
        where = f"{Path(file).name}:{line} {func}" if line else func
        entry = {
            "function": where,
            "calls_per_msg": calls / messages,
            "own_us": own / messages * 1e6,
            "cumulative_us": cumulative / messages * 1e6,
        }
        data.append(entry)
        rows.append(
            (
                where,
                f"{entry['calls_per_msg']:.1f}",
                f"{entry['own_us']:.2f}",
                f"{entry['cumulative_us']:.2f}",
            )
        )
    table = Table(
        "cProfile of engine.check, per message (lxml's C work counts as own time of the Python function "
        "calling it; profiling inflates Python time)",
        ("function", "calls", "own us", "cum us"),
        tuple(rows),
    )
    return table, data


def _xmlschema(engine: Engine, corpus: Corpus, count: int) -> dict[str, Any]:
    import xmlschema

    began = time.perf_counter()
    schemas = {}
    for ns in dict.fromkeys(corpus.namespaces):
        found = engine.registry.message(ns)
        assert found is not None
        schemas[ns] = xmlschema.XMLSchema(str(found.path))
    compile_s = time.perf_counter() - began
    pairs = [(m, schemas[ns]) for m, ns in zip(corpus.messages, corpus.namespaces, strict=True)]
    for data, schema in pairs:  # warm-up, and the same verdict as lxml
        if not schema.is_valid(io.BytesIO(data)):
            raise AssertionError("xmlschema found an example invalid")
    order = [pairs[i % len(pairs)] for i in range(count)]

    def run_all() -> None:
        for data, schema in order:
            schema.is_valid(io.BytesIO(data))

    timing = measure(run_all, number=1, repeat=3, warmup=0)
    return {
        "version": xmlschema.__version__,
        "messages": count,
        "seconds": timing.median,
        "compile_s": compile_s,
        "runs_s": list(timing.runs),
    }
