"""Identity: who is calling. One small interface, so mutual TLS can later bind the party more strongly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from gateway.errors import NotAuthenticated
from gateway.ports import Registry


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presents: a bearer credential and, over mutual TLS, the client certificate's party."""

    bearer: str | None = field(default=None, repr=False)
    certificate_party: str | None = None
    peer_certificate: bytes | None = field(default=None, repr=False)  # DER, from the TLS connection


class Identity(Protocol):
    async def party(self, credentials: Credentials) -> str:
        """The code of the party making the request; raises NotAuthenticated."""
        ...


class ApiKeyIdentity:
    """A per-participant API credential, stored hashed in the registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def party(self, credentials: Credentials) -> str:
        if not credentials.bearer:
            raise NotAuthenticated("send an API credential as 'Authorization: Bearer <token>'")
        code = await self.registry.authenticate(credentials.bearer)
        if code is None:
            raise NotAuthenticated("the API credential is unknown or revoked")
        return code
