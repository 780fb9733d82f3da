"""Counts per key in fixed time buckets over a sliding window (the dashboard's last 15 minutes).

In memory, per process: the dashboard shows what this process saw; Prometheus and Grafana show the fleet.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Hashable

BUCKET_SECONDS = 10
WINDOW_SECONDS = 15 * 60


class RateWindow:
    """``add(key)`` counts one event now; ``series()`` gives per-bucket counts for the whole window."""

    def __init__(
        self,
        bucket_seconds: int = BUCKET_SECONDS,
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bucket_seconds = bucket_seconds
        self.buckets = window_seconds // bucket_seconds
        self.clock = clock
        self._counts: dict[int, Counter[Hashable]] = {}

    def __repr__(self) -> str:
        return f"RateWindow(buckets={len(self._counts)}/{self.buckets})"

    def _now(self) -> int:
        return int(self.clock() // self.bucket_seconds)

    def add(self, key: Hashable, n: int = 1) -> None:
        now = self._now()
        bucket = self._counts.get(now)
        if bucket is None:
            bucket = self._counts[now] = Counter()
            oldest = now - self.buckets
            for old in [b for b in self._counts if b <= oldest]:
                del self._counts[old]
        bucket[key] += n

    def series(self) -> tuple[list[float], dict[Hashable, list[int]]]:
        """Bucket start times (epoch seconds, oldest first) and, per key, the count in each bucket."""
        now = self._now()
        first = now - self.buckets + 1
        starts = [float((first + i) * self.bucket_seconds) for i in range(self.buckets)]
        out: dict[Hashable, list[int]] = {}
        for b, counts in self._counts.items():
            if b < first or b > now:
                continue
            for key, n in counts.items():
                out.setdefault(key, [0] * self.buckets)[b - first] += n
        return starts, out

    def totals(self, seconds: int | None = None) -> Counter[Hashable]:
        """Per key, the events of the last ``seconds`` (default: the whole window)."""
        now = self._now()
        span = self.buckets if seconds is None else max(1, seconds // self.bucket_seconds)
        total: Counter[Hashable] = Counter()
        for b, counts in self._counts.items():
            if now - span < b <= now:
                total.update(counts)
        return total
