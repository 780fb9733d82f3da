"""How the pipeline tells others what happened: explicit hooks it calls, nothing wrapped or patched.

A :class:`DecisionSink` (the audit trail, the privacy index) is awaited with every accepted, duplicate and
refused decision before the answer goes out. A :class:`Counter` (the metrics) is called, and must not
block, with every decision (``unavailable`` included), every delivery the broker confirmed, and what
happens to a message on the node link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gateway.errors import NodeRole
from gateway.pipeline.values import Decision
from gateway.ports import Delivery


class DecisionSink(Protocol):
    async def decided(self, decision: Decision) -> None: ...


class Counter(Protocol):
    def counted(self, decision: Decision) -> None: ...

    def published(self, delivery: Delivery) -> None:
        """The broker confirmed ``delivery``."""
        ...

    def crossed(self, node: NodeRole, received_at: datetime | None) -> None:
        """A message first arrived at ``node`` over the link (received at its first node at ``received_at``)."""
        ...

    def refused_at_link(self, node: NodeRole, code: str) -> None: ...

    def delivered(self, node: NodeRole, received_at: datetime | None) -> None:
        """A message that crossed the link is confirmed in its mailbox on ``node``."""
        ...


@dataclass(frozen=True, slots=True)
class Observers:
    """Everyone the pipeline tells what happened."""

    sinks: tuple[DecisionSink, ...] = ()
    counters: tuple[Counter, ...] = ()

    async def decided(self, decision: Decision) -> None:
        """Tell every sink (concurrently: the audit and the privacy index commit in parallel)."""
        if len(self.sinks) == 1:
            await self.sinks[0].decided(decision)
        elif self.sinks:
            await asyncio.gather(*(sink.decided(decision) for sink in self.sinks))

    def deciding(self, decision: Decision) -> list[Coroutine[Any, Any, None]]:
        """What :meth:`decided` awaits, one coroutine per sink, for a caller that starts them together with
        its own writes (so that their rows reach a group commit in the same batch)."""
        return [sink.decided(decision) for sink in self.sinks]

    def count(self, decision: Decision) -> None:
        for counter in self.counters:
            counter.counted(decision)

    def published(self, delivery: Delivery) -> None:
        for counter in self.counters:
            counter.published(delivery)

    def crossed(self, node: NodeRole, received_at: datetime | None) -> None:
        for counter in self.counters:
            counter.crossed(node, received_at)

    def refused_at_link(self, node: NodeRole, code: str) -> None:
        for counter in self.counters:
            counter.refused_at_link(node, code)

    def delivered(self, node: NodeRole, received_at: datetime | None) -> None:
        for counter in self.counters:
            counter.delivered(node, received_at)


NOBODY = Observers()
