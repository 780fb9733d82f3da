"""A simulated party at work: it leases its mailbox, answers what it receives, and acknowledges.

An answer the node does not take now (503) leaves the received message unacknowledged, so it comes back
when the lease ends and is answered then; an answer the node refuses is counted and the message acked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from dataclasses import dataclass

import httpx
import structlog

from gateway.ports import Leased
from gateway.simulate.party import PartyClient
from gateway.simulate.reading import Read, Unreadable, read
from gateway.simulate.responder import Responder

log = structlog.get_logger("gateway.simulate")


@dataclass(frozen=True, slots=True)
class Seen:
    """A message the party received: which, its retour codes, its ids (no content)."""

    message: str
    tracking_id: str
    conversation_id: str
    retour_codes: tuple[str, ...]
    identificatie: str


@dataclass
class Stats:
    """What the simulated parties did, for the summary lines and tests."""

    sent: Counter[str]
    received: Counter[str]
    refused: Counter[str]

    @classmethod
    def new(cls) -> Stats:
        return cls(Counter(), Counter(), Counter())


class Counterpart:
    """Runs one party's :class:`Responder` against its mailbox."""

    def __init__(
        self,
        party: PartyClient,
        responder: Responder,
        stats: Stats | None = None,
        *,
        poll: float = 0.3,
        lease_seconds: int = 30,
        keep: int = 500,
    ) -> None:
        self.party = party
        self.responder = responder
        self.stats = stats or Stats.new()
        self.poll = poll
        self.lease_seconds = lease_seconds
        self.seen: deque[Seen] = deque(maxlen=keep)

    def __repr__(self) -> str:
        return f"Counterpart(code={self.party.code!r})"

    async def step(self) -> int:
        """Handle what is in the mailbox now; how many messages."""
        batch = await self.party.lease(20, self.lease_seconds)
        for item in batch:
            await self._handle(item)
        return len(batch)

    async def _handle(self, item: Leased) -> None:
        try:
            message = read(item.body)
        except (Unreadable, ValueError) as exc:
            log.warning("simulate.unreadable", party=self.party.code, error=type(exc).__name__)
            await self.party.ack(item.lease_id)
            return
        for answer in self.responder.answer(message):
            result = await self.party.submit(answer.data)
            if result.status == 503:
                return  # not acked: it comes back after the lease and is answered again
            if result.accepted:
                self.stats.sent[answer.name] += 1
            else:
                self.stats.refused[result.code or str(result.status)] += 1
                log.warning("simulate.answer_refused", party=self.party.code, code=result.code)
        await self.party.ack(item.lease_id)
        self._note(message, item)

    def _note(self, message: Read, item: Leased) -> None:
        self.stats.received[message.name] += 1
        self.seen.append(
            Seen(
                message.name,
                item.tracking_id,
                item.conversation_id,
                message.retour_codes,
                message.head.identificatie,
            )
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; a node that does not answer is retried after a pause."""
        while not stop.is_set():
            try:
                handled = await self.step()
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning("simulate.poll_failed", party=self.party.code, error=type(exc).__name__)
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll)
