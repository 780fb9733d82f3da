"""The one place a message is read and judged: parsed and validated once, held to its envelope, its
sender's rights and the registry. No I/O of its own: the registry is a port.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import date

from gateway.errors import NodeRole, NotUnique, Rejection, TooLarge, UnknownReceiver
from gateway.pipeline.values import THREAD_THRESHOLD, Checker, Facts, Read, Routed
from gateway.ports import Registry, Tracking
from gateway.routing import Route, authorise, parties, route


class LinkMismatch(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 422, "link-mismatch"
    title = "Message on the node link does not match what its headers say"


class Refusal(Exception):
    """A rejection of one carried message (``position``) or of the envelope (None), with how far the
    judging got: the read message, and whether its parties passed the envelope's expectation."""

    def __init__(self, exc: Rejection, position: int | None, read: Read | None, parties_known: bool) -> None:
        super().__init__(exc.detail)
        self.exc = exc
        self.position = position
        self.read = read
        self.parties_known = parties_known


class Judge:
    """Reads each message once and judges it; see the module docstring."""

    def __init__(self, checker: Checker, registry: Registry) -> None:
        self.checker = checker
        self.registry = registry

    def __repr__(self) -> str:
        return f"Judge({self.checker!r})"

    async def read(self, data: bytes) -> Read:
        """Parse and validate the bytes (the engine's one entry point), find the message's kind and parties."""
        if len(data) > THREAD_THRESHOLD:
            header = await asyncio.to_thread(self.checker.check, data)
        else:
            header = self.checker.check(data)
        kind = self.checker.kind_of(header)
        return Read(data, header, kind, parties(header, kind))

    async def envelope(self, facts: Facts, principal: str, today: date) -> None:
        """The envelope's own rules on its stated parties, then the caller's right to send for its sender."""
        assert facts.sender is not None
        if facts.rules is not None:
            sender = await self.registry.participant(facts.sender)
            recipient = None
            if facts.recipient is not None:
                recipient = await self.registry.participant(facts.recipient)
            facts.rules(sender, recipient, self.checker.kinds(), today)
        may = principal == facts.sender or await self.registry.may_submit_for(principal, facts.sender, today)
        authorise(principal, facts.sender, may)

    async def judge(
        self,
        bodies: Sequence[bytes],
        principal: str,
        facts: Facts,
        node: NodeRole,
        today: date,
        tracking: Tracking,
    ) -> list[Routed]:
        """Every carried message read, held to the envelope, authorised and routed; or a :class:`Refusal`."""
        if facts.sender is not None:
            try:
                await self.envelope(facts, principal, today)
            except Rejection as exc:
                raise Refusal(exc, None, None, False) from None
        reads: list[Read] = []
        for position, data in enumerate(bodies):
            read: Read | None = None
            try:
                if facts.limit is not None and len(data) > facts.limit:
                    raise TooLarge(
                        f"the carried message is {len(data)} bytes; the limit is {facts.limit} bytes"
                    )
                read = await self.read(data)
                if facts.expect is not None:
                    facts.expect(read.header, read.kind)
            except Rejection as exc:
                raise Refusal(exc, position, read, False) from None
            reads.append(read)
        if facts.agree is not None:
            try:
                facts.agree(reads)
            except Rejection as exc:
                raise Refusal(exc, None, None, False) from None
        routed: list[Routed] = []
        seen: set[tuple[str, str]] = set()
        for position, read in enumerate(reads):
            try:
                routed.append(Routed(position, read, await self.route(read, principal, node, today)))
                if facts.whole:
                    await self._unique(read, seen, tracking)
            except Rejection as exc:
                raise Refusal(exc, position, read, True) from None
        return routed

    async def route(self, read: Read, principal: str, node: NodeRole, today: date) -> Route:
        who = read.who
        may = principal == who.sender or await self.registry.may_submit_for(principal, who.sender, today)
        authorise(principal, who.sender, may)
        # one after the other: both are nearly always in the registry's cache, where gathering them cost two
        # tasks per message; a miss (when the cache expires) waits two round trips instead of one
        sender = await self.registry.participant(who.sender)
        recipient = await self.registry.participant(who.recipient)
        return route(read.kind, who, sender, recipient, node, today)

    async def _unique(self, read: Read, seen: set[tuple[str, str]], tracking: Tracking) -> None:
        """Before anything of a batch travels: no message twice in it, none reusing an id for other content."""
        header = read.header
        key = (header.message, header.reference)
        if key in seen:
            raise NotUnique(f"the archive holds two {header.message} with one reference")
        seen.add(key)
        if not header.is_retour:
            earlier = await tracking.find(read.who.sender, header.message, header.identificatie)
            if earlier is not None and earlier.sha256 != hashlib.sha256(read.data).hexdigest():
                raise NotUnique(f"{read.who.sender} already sent a {header.message} with this reference")

    async def recheck(self, data: bytes, recipient: str, message: str | None, node: NodeRole) -> Read:
        """What crossed the node link, judged again on the receiving node: the same read, the link's headers
        must say what the message says, and its recipient must be active on this node."""
        read = await self.read(data)
        if read.who.recipient != recipient or read.header.message != message:
            raise LinkMismatch("recipient or message type differs from the link headers")
        return read

    async def receivable(self, read: Read, node: NodeRole, today: date) -> None:
        await self.receives(read.who.recipient, node, today)

    async def receives(self, code: str, node: NodeRole, today: date) -> None:
        """The organisation ``code`` is active on ``node`` (else :class:`UnknownReceiver`)."""
        recipient = await self.registry.participant(code)
        if recipient is None or not recipient.active_on(today) or recipient.home_node != node:
            raise UnknownReceiver(f"receiving organisation {code} is not active on the {node} node")
