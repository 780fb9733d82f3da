"""Any message as the REST interfaces show it: its ``referentiegegevens``, routing and ``berichtstroom``.

A message pushed over REST keeps what its sender stated. Any other message (sent over ``/v1/berichten``,
StUF, SOAP, or by a municipality) is shown with ids of the node: ``traceerId`` is its tracking id; its
``alsAntwoordOp`` is the traceerId of the message it answers (a retour, a 319 or a 325, linked by the
pipeline); its ``conversatieId`` is the one the first REST push of its conversation stated, else the
node's conversation id. So a municipality's retour to a pushed message carries the pushed ``conversatieId``
and answers its ``traceerId``, whatever interface the municipality used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from gateway.koppeling.store import KoppelingStore, Pushed
from gateway.ports import MessageRecord, Tracking

ROLE: Final = {"gemeente": "Gemeente", "aanbieder": "Zorgaanbieder"}
ACTIE: Final = "Verzenden"  # the action of a message that did not come over REST push


@dataclass(frozen=True, slots=True)
class Refs:
    """``Referentiegegevens`` of one message."""

    traceer_id: str
    conversatie_id: str
    als_antwoord_op: str | None = None
    referentie_id: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"conversatieId": self.conversatie_id, "traceerId": self.traceer_id}
        if self.als_antwoord_op is not None:
            out["alsAntwoordOp"] = self.als_antwoord_op
        if self.referentie_id is not None:
            out["referentieId"] = self.referentie_id
        return out


def role(code: str) -> str:
    """A party's role by its code: a 4-digit gemeentecode or an 8-digit AGB-code."""
    return ROLE["gemeente"] if len(code) == 4 else ROLE["aanbieder"]


@lru_cache(maxsize=64)
def release_numbers(release: str) -> tuple[int, int]:
    """A release (``3.2``) as the ``berichtversie`` and ``berichtsubversie`` of a berichtstroom (the few
    releases there are, kept: a push's row asks for its message's every time)."""
    versie, _, subversie = release.partition(".")
    return int(versie or 0), int(subversie or 0)


def berichtstroom(message: str, release: str) -> dict[str, Any]:
    """The ``berichtstroom`` of an iJw/iWmo message: its name, and the release as version and subversion."""
    versie, subversie = release_numbers(release)
    return {"berichttype": message, "berichtversie": versie, "berichtsubversie": subversie, "actie": ACTIE}


def routering(record: MessageRecord) -> dict[str, Any]:
    """The ``routeringgegevens`` of a message that did not come over REST push."""
    return {
        "afzender": {"rol": role(record.afzender), "code": record.afzender},
        "geadresseerden": [{"rol": role(record.ontvanger), "code": record.ontvanger}],
        "berichtstroom": berichtstroom(record.message, record.release),
    }


def stated(pushed: Pushed) -> Mapping[str, Any]:
    """The ``routeringgegevens`` a REST push stated."""
    routing: Mapping[str, Any] = pushed.routing.get("routeringgegevens", {})
    return routing


class Views:
    """Looks up what the REST interfaces show of messages (tracking store + REST store)."""

    def __init__(self, tracking: Tracking, store: KoppelingStore) -> None:
        self.tracking = tracking
        self.store = store

    async def refs(self, record: MessageRecord, pushed: Pushed | None = None) -> Refs:
        if pushed is None:
            pushed = (await self.store.pushes_by_tracking([record.tracking_id])).get(record.tracking_id)
        answers = await self._answers(record)
        if pushed is not None:
            return Refs(
                pushed.traceer_id,
                pushed.conversatie_id,
                pushed.als_antwoord_op or answers,
                pushed.referentie_id,
            )
        return Refs(record.tracking_id, await self._conversatie(record), answers)

    async def _answers(self, record: MessageRecord) -> str | None:
        if record.answers is None:
            return None
        found = await self.store.pushes_by_tracking([record.answers])
        return found[record.answers].traceer_id if record.answers in found else record.answers

    async def _conversatie(self, record: MessageRecord) -> str:
        members = await self.tracking.conversation(record.conversation_id)
        pushed = await self.store.pushes_by_tracking([m.tracking_id for m in members])
        for member in members:  # oldest first
            if member.tracking_id in pushed:
                return pushed[member.tracking_id].conversatie_id
        return record.conversation_id
