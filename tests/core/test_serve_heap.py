"""``gateway serve`` settles every process's heap before it serves: start-up's objects frozen out of the
collector's sight, the generations' thresholds set (docs/scaling.md, the garbage collector's pauses)."""

from __future__ import annotations

import gc

from gateway.cli import serve


def test_a_serving_process_freezes_start_up_and_collects_young_objects_in_small_steps() -> None:
    before = gc.get_threshold()
    try:
        serve._settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == serve.GC_THRESHOLDS
        young, middle, _ = serve.GC_THRESHOLDS
        # a young collection walks at least its threshold's worth of objects, and every request waits for it
        assert young <= 5_000
        assert young * middle >= 1_000_000  # the middle generation no more often than every million
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
