"""What the BSN index holds: which parties exchanged which message type about one person, and when.

One row per accepted message and client BSN in it; the BSN only as its keyed digest. Rows are removed with
the tracking detail when the retention period has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Exchange:
    """One message about a person: ids, party codes, message type, time. Never the BSN."""

    bsn_hmac: str
    tracking_id: str
    message: str
    afzender: str
    ontvanger: str
    at: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "trackingId": self.tracking_id,
            "message": self.message,
            "sender": self.afzender,
            "recipient": self.ontvanger,
            "at": self.at.isoformat(),
        }


class PrivacyIndex(Protocol):
    async def add(self, rows: Sequence[Exchange]) -> None: ...

    async def exchanges(
        self, bsn_hmac: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Exchange]: ...

    async def purge_before(self, cutoff: datetime) -> int: ...
