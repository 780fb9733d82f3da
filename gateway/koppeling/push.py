"""REST Push: ``berichtMetadata`` + ``payload`` in, the one ingest pipeline, ``204`` or a refusal with its code.

1. The request: both parts, metadata as the spec says (else 400, nothing stored); the payload at most the
   node's limit (BRS06). An empty payload is a part the spec allows holding no XML: the pipeline refuses it
   as BRS14 ("Payload bevat geen well-formed XML": no XML or none valid), as it does one of blanks.
2. The caller must be the stated sender or registered to submit for it (BRS03), before anything is stored.
3. The payload goes through the pipeline, which also checks the metadata against the message header
   (sender, addressee, type, version: BRS33) and, on a test or acceptance environment, that the client is
   a fictitious person (BRS18). The push (its ``traceerId`` for the sender, under the tracking id
   :func:`~gateway.koppeling.store.push_id` derives from the two) is written with the pipeline's claim of
   the message, in one statement: the message is claimed only if the ``traceerId`` was free, so an
   accepted push needs no write of its own (whether it was accepted is the message's own record in the
   tracking store; on SQL a push its sender submits itself is that claim alone). Refused: the push is
   written refused with its ``meldingen`` (status AfgekeurdDoorDienst) and answered 422. The broker down:
   the push is released and the answer is 503, so the same request may be sent again (its message's claim,
   abandoned, is taken over by that retry).
4. A ``traceerId`` that holds another message is BRS114; the same payload again under the same
   ``traceerId`` is answered as the first one was, 204 or its refusal, waiting for it while it is in flight
   (a retry after a lost answer). A message the pipeline resumed under an earlier tracking id (a push whose
   process died before it settled) settles the push with that id.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from gateway.errors import ErrorItem, NodeRole, NotUnique, Rejection, TooLarge, Unavailable, UnknownSender
from gateway.koppeling.metadata import read_stated
from gateway.koppeling.problems import (
    BadRequest,
    MetadataMismatch,
    NotFictitious,
    RefusedBefore,
    TraceerIdNotUnique,
    meldingen,
)
from gateway.koppeling.store import KoppelingStore, Pushed, Settled, TraceerIdTaken, push_id
from gateway.pipeline import Expectation, Facts, Kind, Pipeline
from gateway.ports import Registry, Tracking, utc_now
from gateway.routing import authorise, parties
from gateway.standard.header import Header

INTERFACE: Final = "vecozo-rest"
# a claim still pending this long belongs to a process that died before it settled: the same payload may
# take it over (the pipeline then answers its message as a duplicate of the first attempt)
STALE_AFTER: Final = timedelta(seconds=60)
# the same push while the first is in flight waits for its verdict this long (seconds), asking every POLL
WAIT_FOR_FIRST: Final = 10.0
POLL: Final = 0.1
# fictitious persons (BRS18 on the test and acceptance environments): the BSN range 999900000-999999999
# that the chain's test persons (RvIG's test set, the iStandaarden examples) use
FICTITIOUS_BSN_PREFIX: Final = "9999"

M = "berichtMetadata.routeringgegevens."


@dataclass(frozen=True, slots=True)
class PushResult:
    """An accepted push: the traceerId and the tracking id of the message (``repeated``: answered before)."""

    traceer_id: str
    tracking_id: str
    repeated: bool = False


def agreement(stated: Mapping[str, Any], fictitious_only: bool = False) -> Expectation:
    """The check of the metadata (as :func:`~gateway.koppeling.metadata.read_stated` reads it) against the
    header of the message it carries (raises a Rejection)."""

    def expect(header: Header, kind: Kind) -> None:
        who = parties(header, kind)
        routing = stated["routeringgegevens"]
        stroom = routing["berichtstroom"]
        versie, _, subversie = header.release.partition(".")
        faults: list[tuple[str, str]] = []
        if routing["afzender"].get("code") != who.sender:
            faults.append((M + "afzender.code", f"is not {who.sender}, the sender of the {header.message}"))
        if [g.get("code") for g in routing["geadresseerden"]] != [who.recipient]:
            faults.append((M + "geadresseerden", f"must name exactly {who.recipient}, the addressee"))
        if stroom["berichttype"] not in (header.message, header.code):
            faults.append((M + "berichtstroom.berichttype", f"is not {header.message}"))
        if stroom.get("berichtsubtype") not in (None, header.message, header.code):
            faults.append((M + "berichtstroom.berichtsubtype", f"is not {header.message}"))
        if (str(stroom["berichtversie"]), str(stroom["berichtsubversie"])) != (versie, subversie):
            faults.append((M + "berichtstroom", f"version and subversion are not {versie} and {subversie}"))
        if faults:
            raise MetadataMismatch(
                "berichtMetadata does not match the message it carries",
                errors=[ErrorItem(MetadataMismatch.code, text, path=path) for path, text in faults],
            )
        if fictitious_only and any(not b.startswith(FICTITIOUS_BSN_PREFIX) for b in header.client_bsns):
            raise NotFictitious(
                "only fictitious persons (BSN 9999xxxxx) are allowed on this environment",
                errors=[
                    ErrorItem(NotFictitious.code, "BSN outside the test range", path="/Bericht/Client/Bsn")
                ],
            )

    return expect


@dataclass(eq=False, repr=False)
class Push:
    """The push service of the provider node (or of one of its test environments)."""

    node: NodeRole
    pipeline: Pipeline
    registry: Registry
    tracking: Tracking
    store: KoppelingStore
    max_bytes: int
    fictitious_only: bool = False
    clock: Callable[[], datetime] = utc_now

    def __repr__(self) -> str:
        return f"Push(node={self.node!r}, fictitious_only={self.fictitious_only})"

    async def push(self, party: str, metadata: bytes | None, payload: bytes | None) -> PushResult:
        """Take one push of ``party``; raises a :class:`GatewayError` (BadRequest, Rejection, Unavailable)."""
        missing = [
            name for name, part in (("berichtMetadata", metadata), ("payload", payload)) if part is None
        ]
        if missing:
            raise BadRequest("a part is missing", {name: ["is required"] for name in missing})
        assert metadata is not None and payload is not None
        stated = read_stated(metadata)
        if len(payload) > self.max_bytes:
            raise TooLarge(f"the payload of {len(payload)} bytes exceeds the limit of {self.max_bytes} bytes")
        now = self.clock()
        routing, refs = stated["routeringgegevens"], stated["referentiegegevens"]
        afzender = routing["afzender"].get("code")
        if afzender is None:
            raise UnknownSender("routeringgegevens.afzender has no code")
        may = party == afzender or await self.registry.may_submit_for(party, afzender, now.date())
        authorise(party, afzender, may)
        traceer_id = refs["traceerId"]
        tracking_id = push_id(afzender, traceer_id)  # the push's id and its message's tracking id
        claim = Pushed(
            id=tracking_id,
            afzender=afzender,
            submitter=party,
            traceer_id=traceer_id,
            conversatie_id=refs["conversatieId"],
            sha256=hashlib.sha256(payload).hexdigest(),
            received_at=now,
            routing={"routeringgegevens": {"berichtstroom": routing["berichtstroom"]}},
            als_antwoord_op=refs.get("alsAntwoordOp"),
            referentie_id=refs.get("referentieId"),
            tracking_id=tracking_id,
        )
        held: Pushed | None = None
        waited = 0.0
        while True:
            if held is None:
                try:
                    return await self._submit(party, claim, stated, payload)
                except TraceerIdTaken as taken:  # by this message (a repeat) or by another
                    held = taken.held
            if held.sha256 != claim.sha256:
                raise TraceerIdNotUnique(f"traceerId {traceer_id} of {afzender} is used for another message")
            if held.state == "refused":
                refused = RefusedBefore(held.meldingen)
                refused.tracking_id = held.tracking_id
                raise refused
            earlier = await self._accepted_as(held)
            if earlier is not None:
                return PushResult(held.traceer_id, earlier, repeated=True)
            if now - held.received_at > STALE_AFTER:  # its process died before it settled: take it over
                return await self._submit(party, held, stated, payload, resumed=True)
            if waited >= WAIT_FOR_FIRST:
                raise Unavailable("a push with this traceerId is being processed; retry shortly")
            await asyncio.sleep(POLL)  # the same push in flight: answer as it is answered
            waited += POLL
            held = await self._holder(claim)  # None once it was released: this one goes on

    async def _holder(self, claim: Pushed) -> Pushed | None:
        """The push that holds the traceerId of ``claim`` now."""
        found = await self.store.pushes_by_traceer(claim.traceer_id, (claim.afzender,))
        return next(
            (p for p in found if p.afzender == claim.afzender and p.traceer_id == claim.traceer_id), None
        )

    async def _accepted_as(self, held: Pushed) -> str | None:
        """The tracking id of the message a held push was accepted as, None while it is not (yet)."""
        if held.state == "accepted":
            return held.tracking_id
        if held.tracking_id is None:
            return None
        record = await self.tracking.record(held.tracking_id)
        return held.tracking_id if record is not None and record.status == "accepted" else None

    async def _submit(
        self, party: str, claim: Pushed, stated: Mapping[str, Any], payload: bytes, resumed: bool = False
    ) -> PushResult:
        """The message through the pipeline, the push written with its claim (``resumed``: the push of an
        earlier attempt, already written, taken over)."""
        try:
            # no ``trail``: the push's own row links its traceerId and conversatieId to the tracking id
            facts = Facts(
                interface=INTERFACE,
                expect=agreement(stated, self.fictitious_only),
                tracking_id=claim.tracking_id,
                refused_apart=True,  # its tracking id names the traceerId: maybe another message's
                sha256=claim.sha256,
                claim_with=None
                if resumed
                else partial(self.store.claim_with, claim, claim=self.tracking.claim),
            )
            accepted = await self.pipeline.submit(payload, party, facts)
        except TraceerIdTaken:
            raise
        except Rejection as exc:
            await self._refused(claim, exc)
            raise
        except BaseException:
            await self.store.release_push(claim.id)
            raise
        if accepted.duplicate and not resumed:
            refusal = NotUnique(
                f"{accepted.sender} already sent this {accepted.message} (the same Identificatie)",
                errors=[ErrorItem(NotUnique.code, "Identificatie already used", path="/Bericht/Header")],
            )
            refusal.tracking_id = accepted.tracking_id
            await self._settle(
                claim, Settled(claim.id, "refused", None, meldingen(refusal, self.node), self.clock())
            )
            raise refusal
        if accepted.tracking_id != claim.tracking_id:  # resumed under an earlier attempt's tracking id
            await self._settle(claim, Settled(claim.id, "accepted", accepted.tracking_id, (), self.clock()))
        return PushResult(claim.traceer_id, accepted.tracking_id)

    async def _refused(self, claim: Pushed, exc: Rejection) -> None:
        """Write the push refused (or settle it so, when its row was written with its message's claim);
        :class:`TraceerIdTaken` raised when its traceerId is another push's."""
        await self._settle(
            claim, Settled(claim.id, "refused", exc.tracking_id, meldingen(exc, self.node), self.clock()), exc
        )

    async def _settle(self, claim: Pushed, settled: Settled, exc: Rejection | None = None) -> None:
        """Write how the push ended: its row, written so (a push that has none: its message's claim was
        all of it), or settled so (a row written with its message's claim); :class:`TraceerIdTaken` raised
        when its traceerId is another push's."""
        ended = replace(
            claim,
            state=settled.state,
            tracking_id=settled.tracking_id,
            meldingen=settled.meldingen,
            changed_at=settled.at,
        )
        held = await self.store.claim_push(ended)
        if held is None:
            return
        if (held.id, held.sha256, held.state) != (claim.id, claim.sha256, "pending"):
            raise TraceerIdTaken(held) from exc  # another message's; or this one's, ended before
        await self.store.settle_push(settled)
