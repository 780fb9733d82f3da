"""One party's HTTP access to its own node: submit a message, lease its mailbox, acknowledge."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.ports import Leased


@dataclass(frozen=True, slots=True)
class Submitted:
    """The node's answer to a submission: HTTP status and the JSON it sent (202 body or problem+json)."""

    status: int
    body: dict[str, Any]

    @property
    def accepted(self) -> bool:
        return self.status == 202

    @property
    def code(self) -> str:
        """The chain code of a refusal (``StUF055``, ``IB210`` ...), else ``""``."""
        return str(self.body.get("code", "")) if not self.accepted else ""


class PartyClient:
    """HTTP calls as party ``code`` (bearer token) to the node ``client`` points at."""

    def __init__(self, code: str, token: str, client: httpx.AsyncClient) -> None:
        self.code = code
        self._auth = {"Authorization": f"Bearer {token}"}
        self.client = client

    def __repr__(self) -> str:
        return f"PartyClient(code={self.code!r}, node={str(self.client.base_url)!r})"

    async def submit(self, data: bytes) -> Submitted:
        headers = {**self._auth, "Content-Type": "application/xml"}
        response = await self.client.post("/v1/berichten", content=data, headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return Submitted(response.status_code, body if isinstance(body, dict) else {})

    async def lease(self, max_messages: int = 20, lease_seconds: int = 60) -> list[Leased]:
        params = {"max": max_messages, "lease_seconds": lease_seconds}
        response = await self.client.get("/v1/mailbox", params=params, headers=self._auth)
        response.raise_for_status()
        return [
            Leased(
                item["leaseId"],
                item["trackingId"],
                item.get("conversationId", ""),
                dict(item.get("headers", {})),
                base64.b64decode(item["body"]),
            )
            for item in response.json()["messages"]
        ]

    async def ack(self, lease_id: str) -> bool:
        response = await self.client.post(f"/v1/mailbox/{lease_id}/ack", headers=self._auth)
        return response.status_code == 204
