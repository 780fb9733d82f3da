"""Installing a directory of official release files (``gateway schemas add DIR``).

The directory is indexed and every message schema in it compiled *before* anything is copied; it must
hold the message schemas of exactly one (standard, release), none of them already installed. Its content
rules (``regels.sch`` with its register ``regels.toml``, see :mod:`gateway.standard.rules`), when present,
are compiled too. The XSD and rule files are copied with their relative layout (imports stay resolvable)
to ``<schema dir>/<standard>/<major_minor>`` and the copy is indexed once more.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.standard.registry import MessageSchema, SchemaRegistry
from gateway.standard.rules import REGISTER_FILE, RULES_FILE, load_release
from gateway.standard.xsdindex import SchemaIndexError


class InstallError(ValueError):
    """The directory cannot be installed; the text says why."""


@dataclass(frozen=True, slots=True)
class Installed:
    """What :func:`install` installed: the release, where its files went, its message schemas and rules."""

    standard: str
    release: str
    target: Path
    messages: tuple[MessageSchema, ...]
    rules: int = 0  # rules compiled from the release's regels.sch (0: the release brings none)


# what an XSD may call its standard and release: they name the target folder, so never a path
_STANDARD = re.compile(r"[a-z][a-z0-9]{0,31}")
_RELEASE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){1,2}")


def _target(schema_dir: Path, standard: str, release: str) -> Path:
    """``<schema dir>/<standard>/<major_minor>`` for a well-formed standard and release that stays inside
    ``schema_dir``; InstallError otherwise."""
    if _STANDARD.fullmatch(standard) is None:
        raise InstallError(
            f"the XSDs name their standard {standard!r}: expected lower-case letters and digits"
        )
    if _RELEASE.fullmatch(release) is None:
        raise InstallError(f"the XSDs name their release {release!r}: expected digits and dots, e.g. 3.2")
    target = schema_dir / standard / release.replace(".", "_")
    if not target.resolve().is_relative_to(schema_dir.resolve()):
        raise InstallError(f"{target} is outside the schema directory {schema_dir}")
    return target


def install(source: Path, schema_dirs: Sequence[Path]) -> Installed:
    """Check ``source`` and copy its XSDs into the first of ``schema_dirs``."""
    if not schema_dirs:
        raise InstallError("no schema directory configured")
    try:
        incoming = SchemaRegistry.from_dirs([source])
    except SchemaIndexError as exc:
        raise InstallError(str(exc)) from None
    releases = sorted(incoming.releases)
    if len(releases) != 1:
        found = ", ".join(f"{s} {r}" for s, r in releases) or "no message schemas"
        raise InstallError(f"{source}: needs the message schemas of exactly one release, found {found}")
    standard, release = releases[0]
    rule_dirs = sorted(p.parent for p in source.rglob(RULES_FILE))
    try:
        compiled = [load_release(d, (m.namespace for m in incoming.messages)) for d in rule_dirs]
    except SchemaIndexError as exc:
        raise InstallError(str(exc)) from None
    existing = SchemaRegistry.from_dirs([d for d in schema_dirs if d.is_dir()], compile_now=False)
    clash = [m.name for m in incoming.messages if existing.message(m.namespace) is not None]
    if clash:
        raise InstallError(f"{standard} {release} is already installed ({', '.join(clash)})")
    target = _target(schema_dirs[0], standard, release)
    if target.exists():
        raise InstallError(f"{target} already exists")
    files = sorted(
        p
        for p in source.rglob("*")
        if p.is_file() and (p.suffix == ".xsd" or p.name in (RULES_FILE, REGISTER_FILE))
    )
    try:
        for path in files:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        installed = SchemaRegistry.from_dirs([target])
    except (OSError, SchemaIndexError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise InstallError(f"copy to {target} failed: {exc}") from None
    rules = sum(len(m) for r in compiled for m in r.messages.values())
    return Installed(standard, release, target, installed.messages, rules)
