"""A provider's software as a vendor writes it from VECOZO's OpenAPI specifications: push, pull, status.

Nothing here comes from the gateway's code: paths, field names and the multipart form are the specs'.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PUSH = "/berichtenservice/berichten/rest-push/v1"
PULL = "/berichtenservice/berichten/rest-pull/v1"
STATUS = "/berichtenservice/berichtstatus/rest-pull/v3"


def new_uuid() -> str:
    return str(uuid.uuid4())


def metadata(
    afzender: str,
    geadresseerde: str,
    berichttype: str,
    *,
    traceer_id: str | None = None,
    conversatie_id: str | None = None,
    als_antwoord_op: str | None = None,
    referentie_id: str | None = None,
    versie: int = 3,
    subversie: int = 2,
) -> dict[str, Any]:
    """``BerichtMetadata`` of REST Push for one iJw/iWmo message."""
    referentie: dict[str, str] = {
        "conversatieId": conversatie_id or new_uuid(),
        "traceerId": traceer_id or new_uuid(),
    }
    if als_antwoord_op is not None:
        referentie["alsAntwoordOp"] = als_antwoord_op
    if referentie_id is not None:
        referentie["referentieId"] = referentie_id
    return {
        "routeringgegevens": {
            "afzender": {"rol": "Zorgaanbieder", "code": afzender},
            "geadresseerden": [{"rol": "Gemeente", "code": geadresseerde}],
            "berichtstroom": {
                "berichttype": berichttype,
                "berichtversie": versie,
                "berichtsubversie": subversie,
                "actie": "Indienen",
            },
        },
        "referentiegegevens": referentie,
    }


@dataclass
class Vendor:
    """The REST client of one party: ``client`` reaches the provider node, ``headers`` authenticate."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    prefix: str = ""  # "" for production, "/tst" or "/acc"

    async def push(self, meta: dict[str, Any] | bytes | None, payload: bytes | None) -> httpx.Response:
        files: dict[str, Any] = {}
        if meta is not None:
            raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
            files["berichtMetadata"] = (None, raw, "application/json")
        if payload is not None:
            files["payload"] = ("bericht.xml", payload, "application/octet-stream")
        if not files:
            files["other"] = (None, b"x", "text/plain")
        return await self.client.post(f"{self.prefix}{PUSH}/berichten", files=files, headers=self.headers)

    async def berichten(self, limit: int | None = None) -> httpx.Response:
        params = {} if limit is None else {"limit": limit}
        return await self.client.get(f"{self.prefix}{PULL}/berichten", params=params, headers=self.headers)

    async def zoeken(self, zoekpad: dict[str, Any], limit: int | None = None) -> httpx.Response:
        params = {} if limit is None else {"limit": limit}
        return await self.client.post(
            f"{self.prefix}{PULL}/berichten/zoeken", json=zoekpad, params=params, headers=self.headers
        )

    async def payload(self, url_or_id: str) -> httpx.Response:
        url = url_or_id if "/" in url_or_id else f"{self.prefix}{PULL}/berichten/{url_or_id}/payload"
        return await self.client.get(url, headers=self.headers)

    async def bevestig(self, traceer_id: str) -> httpx.Response:
        return await self.client.delete(f"{self.prefix}{PULL}/berichten/{traceer_id}", headers=self.headers)

    async def status(self, **query: str) -> httpx.Response:
        return await self.client.get(
            f"{self.prefix}{STATUS}/berichtstatussen", params=query, headers=self.headers
        )
