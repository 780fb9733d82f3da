"""The pipeline's decision sink that fills the BSN index: one row per accepted message and client BSN."""

from __future__ import annotations

from gateway.pipeline import Decision
from gateway.privacy.bsnkey import BsnHasher
from gateway.privacy.index import Exchange, PrivacyIndex


class PrivacySink:
    """Adds accepted messages that name a client to the index (refusals and duplicates are not exchanges)."""

    def __init__(self, hasher: BsnHasher, index: PrivacyIndex) -> None:
        self.hasher = hasher
        self.index = index

    async def decided(self, decision: Decision) -> None:
        header = decision.header
        if decision.decision != "accepted" or header is None or not header.client_bsns:
            return
        await self.index.add(
            [
                Exchange(
                    bsn_hmac=self.hasher.digest(bsn),
                    tracking_id=decision.tracking_id,
                    message=header.message,
                    afzender=decision.sender or header.afzender,  # who sent it (for a retour: the
                    ontvanger=decision.recipient or header.ontvanger,  # header's Ontvanger), to whom
                    at=decision.at,
                )
                for bsn in header.client_bsns
            ]
        )

    def __repr__(self) -> str:
        return f"PrivacySink({self.hasher!r})"
