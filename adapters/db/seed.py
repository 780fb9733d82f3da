"""A registry seed: participants and submitter relations in a TOML file, applied idempotently.

```toml
[[participant]]
code = "0363"
kind = "gemeente"            # gemeente | aanbieder
name = "Gemeente Amsterdam"
home_node = "ggk"            # default: ggk for a gemeente, vecozo for an aanbieder
active_from = 2015-01-01
active_until = 2022-12-31    # optional: the last day it may send or receive
delivery_format = "xml"      # optional: xml | stuf
simulated = true             # optional: the demo traffic (`gateway simulate --parties-from`) plays this party

[[submitter]]
submitter = "42420099"       # may send on behalf of
party = "42420001"
active_from = 2024-01-01
```

Applying a seed adds or updates what it lists and leaves everything else alone. Credentials are never in a
seed; :func:`demo_tokens` issues them for a demo and keeps them in a file.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from adapters.db.admin import (
    RegistryAdmin,
    RegistryError,
    Submitter,
    validate_participant,
    validate_submitter,
)
from gateway.ports import Participant

_HOME: dict[str, Any] = {"gemeente": "ggk", "aanbieder": "vecozo"}
_PARTICIPANT_KEYS = {
    "code",
    "kind",
    "name",
    "home_node",
    "active_from",
    "active_until",
    "delivery_format",
    "simulated",
}
_SUBMITTER_KEYS = {"submitter", "party", "active_from", "active_until"}


class SeedError(ValueError):
    """A seed file that cannot be used; the text names the file, the entry and the key."""


@dataclass(frozen=True, slots=True)
class Seed:
    participants: tuple[Participant, ...]
    submitters: tuple[Submitter, ...]
    simulated: frozenset[str] = frozenset()  # codes of the parties the demo traffic plays


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a seed changed."""

    added: int
    updated: int
    unchanged: int
    submitters: int


def load_seed(path: Path) -> Seed:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SeedError(f"{path}: {exc}") from None
    return parse_seed(data, str(path))


def parse_seed(data: Mapping[str, Any], source: str = "seed") -> Seed:
    unknown = set(data) - {"participant", "submitter"}
    if unknown:
        raise SeedError(f"{source}: unknown table(s) {', '.join(sorted(unknown))}")
    people = tuple(
        _participant(entry, f"{source}: participant[{i}]")
        for i, entry in enumerate(_tables(data, "participant", source))
    )
    simulated = frozenset(
        p.code
        for i, (p, entry) in enumerate(zip(people, _tables(data, "participant", source), strict=True))
        if _field(entry, "simulated", bool, f"{source}: participant[{i}]", required=False)
    )
    codes = [p.code for p in people]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise SeedError(f"{source}: participant(s) listed twice: {', '.join(duplicates)}")
    relations = tuple(
        _submitter(entry, f"{source}: submitter[{i}]")
        for i, entry in enumerate(_tables(data, "submitter", source))
    )
    return Seed(people, relations, simulated)


def _tables(data: Mapping[str, Any], name: str, source: str) -> list[Mapping[str, Any]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SeedError(f"{source}: {name} must be an array of tables ([[{name}]])")
    return value


def _field(entry: Mapping[str, Any], key: str, kind: type, where: str, required: bool = True) -> Any:
    if key not in entry:
        if required:
            raise SeedError(f"{where}: missing {key}")
        return None
    value = entry[key]
    # a TOML datetime is also a date: insist on a plain date
    if not isinstance(value, kind) or (kind is date and type(value) is not date):
        raise SeedError(f"{where}: {key} must be a {kind.__name__}")
    return value


def _participant(entry: Mapping[str, Any], where: str) -> Participant:
    unknown = set(entry) - _PARTICIPANT_KEYS
    if unknown:
        raise SeedError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kind = _field(entry, "kind", str, where)
    home = _field(entry, "home_node", str, where, required=False) or _HOME.get(kind, "?")
    participant = Participant(
        code=_field(entry, "code", str, where),
        kind=kind,
        name=_field(entry, "name", str, where),
        home_node=home,
        active_from=_field(entry, "active_from", date, where),
        active_until=_field(entry, "active_until", date, where, required=False),
        delivery_format=_field(entry, "delivery_format", str, where, required=False) or "xml",
    )
    try:
        validate_participant(participant)
    except RegistryError as exc:
        raise SeedError(f"{where}: {exc}") from None
    return participant


def _submitter(entry: Mapping[str, Any], where: str) -> Submitter:
    unknown = set(entry) - _SUBMITTER_KEYS
    if unknown:
        raise SeedError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    relation = Submitter(
        submitter=_field(entry, "submitter", str, where),
        party=_field(entry, "party", str, where),
        active_from=_field(entry, "active_from", date, where),
        active_until=_field(entry, "active_until", date, where, required=False),
    )
    try:
        validate_submitter(relation)
    except RegistryError as exc:
        raise SeedError(f"{where}: {exc}") from None
    return relation


def _keep_retirement(listed: Participant, current: Participant) -> Participant:
    """A seed never ends a registration later than the registry does: retiring is done on purpose."""
    if current.active_until is None or (
        listed.active_until is not None and listed.active_until <= current.active_until
    ):
        return listed
    return replace(listed, active_until=current.active_until)


async def apply_seed(registry: RegistryAdmin, seed: Seed) -> Applied:
    """Add or update every participant and submitter relation of ``seed``; running it again changes nothing.

    A participant retired in the registry stays retired (``update_participant`` reactivates on purpose).
    """
    added = updated = unchanged = 0
    for listed in seed.participants:
        current = await registry.participant(listed.code)
        if current is None:
            await registry.add_participant(listed)
            added += 1
            continue
        participant = _keep_retirement(listed, current)
        if current != participant:
            await registry.update_participant(participant)
            updated += 1
        else:
            unchanged += 1
    for relation in seed.submitters:
        await registry.add_submitter(relation)
    return Applied(added, updated, unchanged, len(seed.submitters))


async def demo_tokens(
    registry: RegistryAdmin, codes: Iterable[str], known: Mapping[str, str]
) -> dict[str, str]:
    """A working API token per participant: those in ``known`` that still authenticate, else new ones."""
    tokens: dict[str, str] = {}
    for code in codes:
        token = known.get(code)
        if token is None or await registry.authenticate(token) != code:
            token = (await registry.issue_credential(code, label="demo")).token
        tokens[code] = token
    return tokens


def read_tokens(path: Path) -> dict[str, str]:
    """The demo token file (JSON ``{code: token}``); empty when absent or unreadable."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(k): str(v) for k, v in loaded.items()}


def write_tokens(path: Path, tokens: Mapping[str, str]) -> None:
    """Write the demo token file atomically, readable by its owner only: it holds secrets in the clear."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(tokens), out, indent=2, sort_keys=True)
        out.write("\n")
    os.replace(partial, path)
