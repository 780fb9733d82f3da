"""Stage times of every ``POST /v1/berichten`` in a ``gateway serve`` process, for ``python -m bench stages``.

Python imports ``sitecustomize`` at start-up from the path; ``bench.stages`` puts this folder on the
``PYTHONPATH`` of the gateway processes it starts, with ``GATEWAY_BENCH_STAGES`` naming a folder. In any other
process (or without the variable) it does nothing. It wraps, from outside, the functions a message passes:

- the HTTP protocol: when the request's bytes were read (``data_received``), kept in the request's scope;
- the route (``accept``): when its task started and when it returned, and the tracking id it answered;
- the judge (parse, validate, route), the claim's and the after-publish writes' group commit (when each
  request handed its rows in, when the flush that took them started and ended, how many rows it took) and
  the publish (to the confirm);

and samples the event loop's lag (a 2 ms sleep, how late it woke, and the main thread's CPU meanwhile) and the
garbage collector's pauses (generation, wall and CPU time, unreachable objects found; with
``GATEWAY_BENCH_GC_SIZES`` also the generations' sizes and the types a collection walked, counted before its
clock starts). With ``GATEWAY_BENCH_LONG_TURNS`` (ms) a thread samples where the main thread is whenever the
loop has run that long on the CPU without a beat of the lag sampler (what makes a long turn). At exit
it writes ``trace-PID.json`` into the folder. Times are ``time.monotonic()``, one clock for every process on
the machine, so the bench joins them with its load generator's by tracking id. Only times, sizes and
tracking ids: no message content. ``GATEWAY_BENCH_GC_YOUNG`` sets the young generation's threshold that
``gateway serve`` settles the heap with, or all three comma-separated (an experiment).
"""

from __future__ import annotations

import os
import sys

FOLDER = os.environ.get("GATEWAY_BENCH_STAGES")


def _install(folder: str) -> None:
    import asyncio
    import atexit
    import collections
    import contextvars
    import gc
    import json
    import time
    from typing import Any

    from uvicorn.protocols.http import httptools_impl

    from adapters.db import batch
    from adapters.rabbitmq.publisher import RabbitPublisher
    from gateway.http import berichten
    from gateway.pipeline.judge import Judge

    clock = time.monotonic
    current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("stages", default=None)
    requests: list[dict[str, Any]] = []
    flushes: list[tuple[str, float, float, int]] = []
    # when the sampler slept, how late it woke (s), and the main thread's CPU meanwhile (s): the loop's own
    # work between two beats, which the machine's other processes do not lengthen as they do the wall clock
    lag: list[tuple[float, float, float]] = []
    # start, wall s, CPU s, generation, objects collected, the sizes of the three generations when it began
    # (with GATEWAY_BENCH_GC_SIZES only: counting them walks the heap, before the pause's clock starts)
    pauses: list[tuple[float, float, float, int, int, list[int]]] = []
    sizes = bool(os.environ.get("GATEWAY_BENCH_GC_SIZES"))
    gc_sizes: list[int] = []
    young_types: collections.Counter[str] = collections.Counter()  # with sizes: what the collections walked
    flushed: dict[int, tuple[float, float, int]] = {}  # id(row) -> its flush's start, end, rows
    gc_started = [0.0, 0.0]
    sampling: list[asyncio.Task[None]] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            if sizes:
                generations = [gc.get_objects(g) for g in range(3)]
                gc_sizes[:] = [len(objects) for objects in generations]
                if sampling:  # serving: what the requests' collections walk, not start-up's
                    young_types.update(type(o).__qualname__ for o in generations[info.get("generation", 0)])
                del generations
            gc_started[:] = [clock(), time.thread_time()]
        else:
            wall, cpu = clock() - gc_started[0], time.thread_time() - gc_started[1]
            generation, collected = info.get("generation", -1), info.get("collected", 0)
            pauses.append((gc_started[0], wall, cpu, generation, collected, list(gc_sizes)))

    gc.callbacks.append(on_gc)

    beat = [clock(), time.thread_time()]  # when the lag sampler last ran: the loop's heartbeat
    stalls: collections.Counter[str] = collections.Counter()
    stalled_for = float(os.environ.get("GATEWAY_BENCH_LONG_TURNS", "0")) / 1000

    async def sample_lag() -> None:
        while True:
            at, cpu = beat[:] = clock(), time.thread_time()
            await asyncio.sleep(0.002)
            lag.append((at, clock() - at - 0.002, time.thread_time() - cpu))

    def watch_turns(main: int) -> None:
        """With GATEWAY_BENCH_LONG_TURNS (ms): every 2 ms, if the loop has not beaten for that long and spent
        as much CPU meanwhile (it ran, it was not waiting for a core), where the main thread is (its innermost
        frames); a sample, so a long turn counts once per 2 ms it lasted."""
        main_cpu = time.pthread_getcpuclockid(main)
        while True:
            time.sleep(0.002)
            if (
                sampling
                and clock() - beat[0] > stalled_for
                and time.clock_gettime(main_cpu) - beat[1] > stalled_for
            ):
                frame, names = sys._current_frames().get(main), []
                while frame is not None and len(names) < 6:
                    code = frame.f_code
                    names.append(f"{os.path.basename(code.co_filename)}:{code.co_name}")
                    frame = frame.f_back
                stalls[" < ".join(names)] += 1

    def dump() -> None:
        trace = {
            "requests": requests,
            "flushes": flushes,
            "lag": lag,
            "gc": pauses,
            "gc_types": young_types.most_common(40),
            "stalls": stalls.most_common(40),
        }
        with open(os.path.join(folder, f"trace-{os.getpid()}.json"), "w") as out:
            json.dump(trace, out)

    atexit.register(dump)
    if stalled_for:
        import threading

        threading.Thread(target=watch_turns, args=(threading.get_ident(),), daemon=True).start()

    protocol = httptools_impl.HttpToolsProtocol
    data_received, message_begin, headers_complete = (
        protocol.data_received,
        protocol.on_message_begin,
        protocol.on_headers_complete,
    )

    def traced_data_received(self: Any, data: bytes) -> None:
        self._stages_read = clock()
        data_received(self, data)

    def traced_message_begin(self: Any) -> None:
        self._stages_begin = getattr(self, "_stages_read", clock())
        message_begin(self)

    def traced_headers_complete(self: Any) -> None:
        headers_complete(self)
        self.scope["stages.read"] = self._stages_begin

    protocol.data_received = traced_data_received  # type: ignore[method-assign]
    protocol.on_message_begin = traced_message_begin  # type: ignore[method-assign]
    protocol.on_headers_complete = traced_headers_complete  # type: ignore[method-assign]

    accept = berichten.accept

    async def traced_accept(request: Any, svc: Any, party: str) -> Any:
        if not sampling:
            sampling.append(asyncio.get_running_loop().create_task(sample_lag()))
        times: dict[str, Any] = {"read": request.scope.get("stages.read"), "handler": clock()}
        current.set(times)
        response = await accept(request, svc, party)
        times["answer"] = clock()
        times["id"] = response.headers.get("location", "").rsplit("/", 1)[-1]
        requests.append(times)
        return response

    berichten.accept = traced_accept

    def around(owner: Any, name: str, start: str, end: str) -> None:
        inner = getattr(owner, name)

        async def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
            times = current.get()
            if times is not None:
                times[start] = clock()
            try:
                return await inner(self, *args, **kwargs)
            finally:
                if times is not None:
                    times[end] = clock()

        setattr(owner, name, traced)

    around(Judge, "judge", "judge", "judged")
    around(RabbitPublisher, "publish", "publish", "confirmed")

    init, add_many = batch.Batcher.__init__, batch.Batcher.add_many

    def traced_init(self: Any, flush: Any, *args: Any, **kwargs: Any) -> None:
        name = getattr(flush, "__qualname__", "?")

        async def traced_flush(rows: list[dict[str, Any]]) -> Any:
            began = clock()
            try:
                return await flush(rows)
            finally:
                ended = clock()
                flushes.append((name, began, ended, len(rows)))
                for row in rows:
                    flushed[id(row)] = (began, ended, len(rows))

        init(self, traced_flush, *args, **kwargs)
        self._stages_kind = "claim" if name.startswith("ClaimWriter") else "after" if "After" in name else ""

    async def traced_add_many(self: Any, rows: Any) -> Any:
        times, handed = current.get(), clock()
        try:
            return await add_many(self, rows)
        finally:
            found = [flushed.pop(id(row), None) for row in rows]
            kind = self._stages_kind
            if times is not None and kind and rows and f"{kind}.in" not in times:
                times[f"{kind}.in"], times[f"{kind}.done"] = handed, clock()
                if found[0] is not None:
                    times[f"{kind}.flush"], times[f"{kind}.flushed"], times[f"{kind}.rows"] = found[0]

    batch.Batcher.__init__ = traced_init  # type: ignore[method-assign]
    batch.Batcher.add_many = traced_add_many  # type: ignore[method-assign]


if FOLDER and "serve" in sys.argv:
    _install(FOLDER)
    if os.environ.get("GATEWAY_BENCH_GC_YOUNG"):  # an experiment of ``bench stages --gc-young``
        from gateway.cli import serve

        given = tuple(int(n) for n in os.environ["GATEWAY_BENCH_GC_YOUNG"].split(","))
        serve.GC_THRESHOLDS = (*given, *serve.GC_THRESHOLDS[len(given) :])[:3]
