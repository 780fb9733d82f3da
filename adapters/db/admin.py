"""Registry management: values, errors and the protocol that both registry implementations offer.

Not part of :mod:`gateway.ports`: the core only reads the registry; operators (CLI, admin API, seed) write it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from gateway.ports import NODES, Participant, PartyKind

_CODE = {"gemeente": re.compile(r"[0-9]{4}"), "aanbieder": re.compile(r"[0-9]{8}")}
MAX_NAME = 200
MAX_LABEL = 100


class RegistryError(ValueError):
    """A management request the registry cannot carry out; the text names codes only."""


class UnknownParticipant(RegistryError):
    def __init__(self, code: str) -> None:
        super().__init__(f"participant {code} is not registered")
        self.code = code


class DuplicateParticipant(RegistryError):
    def __init__(self, code: str) -> None:
        super().__init__(f"participant {code} is already registered")
        self.code = code


class InvalidParticipant(RegistryError):
    """A participant or submitter relation that breaks a registry rule."""


@dataclass(frozen=True, slots=True)
class Submitter:
    """``submitter`` may send messages on behalf of ``party`` from ``active_from`` through ``active_until``."""

    submitter: str
    party: str
    active_from: date
    active_until: date | None = None

    def active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_until is None or day <= self.active_until)


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A freshly issued API credential. ``token`` exists only here, once: the registry keeps a hash."""

    key_id: str
    participant: str
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """What the registry knows about a credential (never the token or its hash)."""

    key_id: str
    participant: str
    created_at: datetime
    revoked: bool
    label: str | None = None


def validate_participant(p: Participant) -> None:
    """Raise :class:`InvalidParticipant` when ``p`` breaks a registry rule."""
    if p.kind not in _CODE:
        raise InvalidParticipant(f"participant {p.code}: kind must be gemeente or aanbieder")
    if not _CODE[p.kind].fullmatch(p.code):
        digits = 4 if p.kind == "gemeente" else 8
        raise InvalidParticipant(f"participant {p.code!r}: a {p.kind} code has {digits} digits")
    if p.home_node not in NODES:
        raise InvalidParticipant(f"participant {p.code}: home_node must be one of {', '.join(NODES)}")
    if p.delivery_format not in ("xml", "stuf"):
        raise InvalidParticipant(f"participant {p.code}: delivery_format must be xml or stuf")
    if not p.name.strip() or len(p.name) > MAX_NAME:
        raise InvalidParticipant(f"participant {p.code}: name must have 1 to {MAX_NAME} characters")
    if p.active_until is not None and p.active_until < p.active_from - timedelta(days=1):
        raise InvalidParticipant(f"participant {p.code}: active_until lies before active_from")


def validate_submitter(s: Submitter) -> None:
    if s.submitter == s.party:
        raise InvalidParticipant(f"{s.submitter} cannot be a submitter for itself")
    if s.active_until is not None and s.active_until < s.active_from:
        raise InvalidParticipant(f"submitter {s.submitter} for {s.party}: active_until before active_from")


def retired(p: Participant, last_day: date) -> Participant:
    """``p`` ending its registration after ``last_day``; retiring never extends an earlier end."""
    until = max(last_day, p.active_from - timedelta(days=1))
    if p.active_until is not None:
        until = min(until, p.active_until)
    return dataclasses.replace(p, active_until=until)


class RegistryAdmin(Protocol):
    """Management of the participant registry (CLI, admin API, seed)."""

    async def participant(self, code: str) -> Participant | None: ...

    async def add_participant(self, participant: Participant) -> None:
        """Register a new participant; raises DuplicateParticipant or InvalidParticipant."""
        ...

    async def update_participant(self, participant: Participant) -> None:
        """Replace a registered participant's data; raises UnknownParticipant or InvalidParticipant."""
        ...

    async def retire(self, code: str, last_day: date) -> Participant:
        """End a registration after ``last_day`` (never extends an earlier end); raises UnknownParticipant."""
        ...

    async def participants(
        self, kind: PartyKind | None = None, active_on: date | None = None
    ) -> list[Participant]: ...

    async def add_submitter(self, submitter: Submitter) -> None:
        """Register (or change the range of) a submitter relation; both parties must be registered."""
        ...

    async def remove_submitter(self, submitter: str, party: str) -> bool: ...

    async def submitters(self, party: str | None = None) -> list[Submitter]: ...

    async def issue_credential(self, code: str, label: str | None = None) -> IssuedCredential: ...

    async def revoke_credential(self, key_id: str) -> bool: ...

    async def credentials(self, code: str | None = None) -> list[CredentialInfo]: ...

    async def authenticate(self, credential: str) -> str | None: ...
