"""How the pipeline tells others what it decided: explicit hooks it calls, nothing wrapped or patched.

A :class:`DecisionSink` (the audit trail, the privacy index) is awaited with every accepted, duplicate and
refused decision before the answer goes out; a :class:`Counter` (the metrics) is called with every decision,
``unavailable`` included, and must not block.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from gateway.pipeline.values import Decision


class DecisionSink(Protocol):
    async def decided(self, decision: Decision) -> None: ...


class Counter(Protocol):
    def counted(self, decision: Decision) -> None: ...


@dataclass(frozen=True, slots=True)
class Observers:
    """Everyone the pipeline tells of its decisions."""

    sinks: tuple[DecisionSink, ...] = ()
    counters: tuple[Counter, ...] = ()

    async def decided(self, decision: Decision) -> None:
        """Tell every sink (concurrently: the audit and the privacy index commit in parallel)."""
        if len(self.sinks) == 1:
            await self.sinks[0].decided(decision)
        elif self.sinks:
            await asyncio.gather(*(sink.decided(decision) for sink in self.sinks))

    def count(self, decision: Decision) -> None:
        for counter in self.counters:
            counter.counted(decision)


NOBODY = Observers()
