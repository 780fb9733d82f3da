"""The message catalogue as data: which messages make up a release, their codes, direction and conversation.

Read from ``schemas/catalog.toml``. A release installed later (``gateway schemas add``) that the catalogue
does not list borrows the entry of the same message name from another release of that standard (who sends
what does not change between releases), with the BerichtCode taken from that release's own XSD.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

Sender = Literal["gemeente", "aanbieder"]

NAMESPACE_BASE: Final = "http://www.istandaarden.nl"
_NAMESPACE = re.compile(r"^http://www\.istandaarden\.nl/([a-z]+)/(\d+)_(\d+)/([a-z]+[0-9]*)/schema$")


class CatalogError(ValueError):
    """The catalogue file is malformed; the text names the entry."""


def namespace_for(standard: str, release: str, name: str) -> str:
    """``http://www.istandaarden.nl/ijw/3_2/jw301/schema`` for (``ijw``, ``3.2``, ``JW301``)."""
    return f"{NAMESPACE_BASE}/{standard}/{release.replace('.', '_')}/{name.lower()}/schema"


def split_namespace(namespace: str) -> tuple[str, str, str] | None:
    """(standard, release, lower-case message name) of an iStandaarden namespace, or None."""
    match = _NAMESPACE.match(namespace)
    if match is None:
        return None
    standard, major, minor, name = match.groups()
    return standard, f"{major}.{minor}", name


@dataclass(frozen=True, slots=True)
class MessageType:
    """One message of one release: ``JW301`` (code ``436``) of iJw 3.2, sent by a gemeente."""

    standard: str
    release: str
    name: str
    code: str
    title: str
    sender: Sender
    answers: str | None = None
    retour: bool = False
    follows: tuple[str, ...] = ()

    @property
    def namespace(self) -> str:
        return namespace_for(self.standard, self.release, self.name)

    @property
    def receiver(self) -> Sender:
        return "aanbieder" if self.sender == "gemeente" else "gemeente"

    @property
    def versie(self) -> str:
        """BerichtVersie: the release's major number."""
        return self.release.split(".")[0]

    @property
    def subversie(self) -> str:
        """BerichtSubversie: the release's minor number."""
        return self.release.split(".")[1]

    def __str__(self) -> str:
        return f"{self.standard} {self.release} {self.name}"


@dataclass(frozen=True, slots=True)
class Release:
    standard: str
    release: str
    prefix: str
    title: str


def _message(standard: str, release: str, raw: Mapping[str, Any]) -> MessageType:
    where = f"{standard} {release} message {raw.get('name', '?')}"
    try:
        sender = raw["sender"]
        if sender not in ("gemeente", "aanbieder"):
            raise CatalogError(f"{where}: sender must be 'gemeente' or 'aanbieder'")
        return MessageType(
            standard=standard,
            release=release,
            name=str(raw["name"]),
            code=str(raw["code"]),
            title=str(raw["title"]),
            sender=sender,
            answers=raw.get("answers"),
            retour=bool(raw.get("retour", False)),
            follows=tuple(raw.get("follows", ())),
        )
    except KeyError as exc:
        raise CatalogError(f"{where}: missing key {exc.args[0]!r}") from None


@dataclass(frozen=True, slots=True)
class Catalog:
    """All catalogued messages, looked up by (standard, release, name), by namespace or by code."""

    releases: tuple[Release, ...]
    messages: tuple[MessageType, ...]
    _by_key: dict[tuple[str, str, str], MessageType] = field(init=False, repr=False, compare=False)
    _by_ns: dict[str, MessageType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {(m.standard, m.release, m.name): m for m in self.messages})
        object.__setattr__(self, "_by_ns", {m.namespace: m for m in self.messages})

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Read a catalogue TOML file; a malformed entry raises :class:`CatalogError` naming it."""
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Catalog:
        releases: list[Release] = []
        messages: list[MessageType] = []
        for raw in data.get("release", ()):
            try:
                rel = Release(
                    str(raw["standard"]), str(raw["release"]), str(raw["prefix"]), str(raw["title"])
                )
            except KeyError as exc:
                raise CatalogError(f"release entry: missing key {exc.args[0]!r}") from None
            releases.append(rel)
            messages.extend(_message(rel.standard, rel.release, m) for m in raw.get("message", ()))
        return cls(tuple(releases), tuple(messages))

    def __iter__(self) -> Iterator[MessageType]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def standards(self) -> frozenset[str]:
        return frozenset(m.standard for m in self.messages)

    def get(self, standard: str, release: str, name: str) -> MessageType | None:
        """The catalogued entry of exactly this release, or None."""
        return self._by_key.get((standard, release, name))

    def by_namespace(self, namespace: str) -> MessageType | None:
        """The catalogued entry whose namespace this is, or None."""
        return self._by_ns.get(namespace)

    def resolve(self, standard: str, release: str, name: str, code: str | None = None) -> MessageType | None:
        """This release's entry; for an uncatalogued release the same message of another release of the
        standard (newest first) with its release replaced and, when given, the code from its own XSD."""
        exact = self.get(standard, release, name)
        if exact is not None:
            return exact
        others = sorted(
            (m for m in self.messages if m.standard == standard and m.name == name),
            key=lambda m: tuple(int(p) for p in m.release.split(".") if p.isdigit()),
            reverse=True,
        )
        if not others:
            return None
        return replace(others[0], release=release, code=code if code is not None else others[0].code)
