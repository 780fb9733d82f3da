"""The answering rules of the simulated software, as a municipality or a provider would apply them.

Municipality: 315 -> 316 and a 301 (granted) or a 319 (refused); 305 -> 306; 307 -> 308; 317 -> 318 and a
319; 323 -> 325. Provider: 301 -> 302; 319 -> 320. Retours and the 325 end their exchange.

Retour rule of the standard: a message without errors gets a header-only retour with RetourCode 0200; one
the receiving software refuses on content gets RetourCode 0001 and nothing else follows. The content rule
checked here is the BSN eleven-test (the XSD only checks nine digits).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gateway.simulate import templates as t
from gateway.simulate.cases import Cases, bsn_ok
from gateway.simulate.reading import Read

MUNICIPALITY_ANSWERS = {"315", "305", "307", "317", "323"}
PROVIDER_ANSWERS = {"301", "319"}


@dataclass(frozen=True, slots=True)
class Policy:
    """How the simulated municipality decides: the share of 315/317 requests it grants."""

    grant: float = 0.8


@dataclass(frozen=True, slots=True)
class Answer:
    """One message to send back, with its catalogue name for statistics."""

    name: str
    data: bytes

    def __repr__(self) -> str:
        return f"Answer({self.name}, {len(self.data)} bytes)"


class Responder:
    """The answering software of one party (``code``: 4 digits municipality, 8 digits provider)."""

    def __init__(self, code: str, cases: Cases | None = None, policy: Policy | None = None) -> None:
        self.code = code
        self.cases = cases or Cases()
        self.policy = policy or Policy()
        self.rng = random.Random(self.cases.rng.random())

    def __repr__(self) -> str:
        return f"Responder(code={self.code!r})"

    @property
    def municipality(self) -> bool:
        return len(self.code) == 4

    def content_ok(self, message: Read) -> bool:
        return all(bsn_ok(bsn) for bsn in message.bsns)

    def answer(self, message: Read) -> list[Answer]:
        """What this party sends back on receiving ``message`` (nothing for retours and end messages)."""
        handles = MUNICIPALITY_ANSWERS if self.municipality else PROVIDER_ANSWERS
        if message.is_retour or message.number not in handles:
            return []
        ok = self.content_ok(message)
        if message.number == "323":
            return [self._declaratie_antwoord(message, ok)]
        retour_number = t.RETOUR_OF[message.number]
        answers = [self._retour(message, retour_number, t.ACCEPTED if ok else t.REJECTED)]
        if not ok:
            return answers
        if message.number == "315":
            answers.append(self._decision(message))
        elif message.number == "317":
            answers.append(self._antwoord(message, self.rng.random() < self.policy.grant))
        return answers

    def _name(self, message: Read, number: str) -> str:
        return ("JW" if message.standard == "ijw" else "WMO") + number

    def _retour(self, message: Read, number: str, code: str) -> Answer:
        c = self.cases
        data = t.retour(message.standard, message.head, number, c.identificatie(), c.today, code)
        return Answer(self._name(message, number), data)

    def _decision(self, request: Read) -> Answer:
        """A granted 315 is assigned (301 with the ReferentieAanbieder); a refused one gets a 319."""
        granted = self.rng.random() < self.policy.grant
        if not granted:
            return self._antwoord(request, False)
        c = self.cases
        head = c.head(self.code, request.head.afzender)
        referentie = request.referenties[0] if request.referenties else None
        data = t.toewijzing(request.standard, head, c.client(), c.number(), c.start(), referentie)
        return Answer(self._name(request, "301"), data)

    def _antwoord(self, request: Read, granted: bool) -> Answer:
        c = self.cases
        head = c.head(self.code, request.head.afzender)
        referentie = request.referenties[0] if request.referenties else c.referentie()
        return Answer(self._name(request, "319"), t.antwoord(request.standard, head, referentie, granted))

    def _declaratie_antwoord(self, declaratie: Read, ok: bool) -> Answer:
        c = self.cases
        declared = t.Declared(
            identificatie=declaratie.head.identificatie,
            dagtekening=declaratie.head.dagtekening,
            nummer=declaratie.declaratie_nummer or "onbekend",
            totaal=declaratie.totaal,
            debet_credit=declaratie.debet_credit,
        )
        head = c.head(self.code, declaratie.head.afzender)
        data = t.declaratie_antwoord(declaratie.standard, head, declared, t.ACCEPTED if ok else t.REJECTED)
        return Answer(self._name(declaratie, "325"), data)
