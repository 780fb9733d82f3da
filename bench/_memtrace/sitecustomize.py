"""Loaded by every Python process started with this folder on ``PYTHONPATH`` (``bench soak --tracemalloc``):
with ``GATEWAY_BENCH_TRACEMALLOC`` set to a folder, the first ``SIGUSR2`` starts tracemalloc (after the
warm-up, so that start-up stays fast) and every ``SIGUSR2`` writes a snapshot there (``<pid>-<n>.snap``):
the growth between the first and the last is what the process allocated after the first and still holds.
Code locations and sizes only: no payload is in a snapshot's statistics."""

from __future__ import annotations

import os

_DIR = os.environ.get("GATEWAY_BENCH_TRACEMALLOC")

if _DIR:
    import signal
    import tracemalloc
    from types import FrameType

    _taken = [0]

    def _snapshot(signum: int, frame: FrameType | None) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(int(os.environ.get("GATEWAY_BENCH_TRACEMALLOC_FRAMES", "8")))
        _taken[0] += 1
        path = os.path.join(_DIR, f"{os.getpid()}-{_taken[0]}.snap")
        tracemalloc.take_snapshot().dump(path + ".part")
        os.replace(path + ".part", path)

    signal.signal(signal.SIGUSR2, _snapshot)
