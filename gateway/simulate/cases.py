"""Made-up values for simulated messages: ids, test BSNs (eleven-test), fictional clients, dates."""

from __future__ import annotations

import random
import string
from datetime import date, timedelta

from gateway.simulate.templates import Client, Head

_SURNAMES = ("Testpersoon", "Voorbeeld", "Proefdraaier", "Simulatie", "Demodata", "Oefening")


def bsn_ok(bsn: str) -> bool:
    """The BSN eleven-test: 9 digits, weights 9..2 and -1, sum divisible by 11."""
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True)) - int(bsn[8])
    return total % 11 == 0 and bsn != "000000000"


class Cases:
    """A seeded source of values, so a run can be repeated."""

    def __init__(self, seed: int | None = None, today: date | None = None) -> None:
        self.rng = random.Random(seed)
        self.today = today or date.today()

    def __repr__(self) -> str:
        return "Cases()"

    def identificatie(self) -> str:
        """A fresh message id (LDT_IdentificatieBericht: at most 12 characters)."""
        return "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=12))

    def referentie(self) -> str:
        return "REF-" + "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=10))

    def number(self, digits: int = 8) -> int:
        return self.rng.randrange(10 ** (digits - 1), 10**digits)

    def bsn(self, valid: bool = True) -> str:
        """A 9-digit number that passes (or, with ``valid=False``, fails) the eleven-test."""
        while True:
            candidate = "9" + "".join(self.rng.choices(string.digits, k=8))  # 9xxxxxxxx: never issued
            if bsn_ok(candidate) == valid:
                return candidate

    def client(self, valid: bool = True) -> Client:
        born = self.today - timedelta(days=self.rng.randrange(4 * 365, 80 * 365))
        return Client(self.bsn(valid), born, self.rng.choice("012"), self.rng.choice(_SURNAMES))

    def head(self, afzender: str, ontvanger: str) -> Head:
        return Head(afzender, ontvanger, self.identificatie(), self.today)

    def start(self) -> date:
        return self.today + timedelta(days=self.rng.randrange(0, 30))
