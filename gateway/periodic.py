"""Work a process repeats every few seconds until it stops (the retention purges)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def every(
    interval: float, work: Callable[[], Awaitable[object]], warn: Callable[..., object], failed: str
) -> None:
    """Run ``work`` now and every ``interval`` seconds until cancelled. A failure (the database may be away
    for a while) is told to ``warn`` as the event ``failed`` with the error's kind only, and tried again
    next time."""
    while True:
        try:
            await work()
        except Exception as exc:  # cancellation is no Exception: it ends the loop
            warn(failed, error=type(exc).__name__)
        await asyncio.sleep(interval)
