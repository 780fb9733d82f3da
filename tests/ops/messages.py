"""Messages for the operations tests, built from the simulator's own templates (no ../shared needed)."""

from __future__ import annotations

from gateway.simulate import templates
from gateway.simulate.cases import Cases

CASES = Cases(seed=6)
GEMEENTE = "0384"
AANBIEDER = "42420001"


def request(standard: str = "iwmo", sender: str = AANBIEDER, recipient: str = GEMEENTE) -> bytes:
    """A valid 315 (verzoek om toewijzing) with fresh ids."""
    c = CASES
    return templates.verzoek_toewijzing(
        standard, c.head(sender, recipient), c.client(), c.referentie(), c.start()
    )


def start_care(standard: str = "ijw", sender: str = AANBIEDER, recipient: str = GEMEENTE) -> bytes:
    """A valid 305 (start zorg) with fresh ids: care that began today (not later than the Dagtekening, TR134)."""
    c = CASES
    return templates.start_zorg(standard, c.head(sender, recipient), c.client(), c.number(), c.today)


def invalid_request() -> bytes:
    """A 315 that is not schema-conform (its Dagtekening does not exist)."""
    data = request()
    head = CASES.today.isoformat().encode()
    return data.replace(b"<b:Dagtekening>" + head, b"<b:Dagtekening>2027-06-31", 1)
