"""The rule lists of the releases as ../shared/istandaarden documents them (read-only; tests skip without
them): every TR rule by folder, and every CD/CS/RS rule per message and data element."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "istandaarden"
STANDARDS = {"ijw": "JW", "iwmo": "WMO"}
TR_FOLDERS = {
    "xslt": "schematron",
    "berichtoverstijgend": "berichtoverstijgend",
    "externe-bron": "externe-bron",
}


@dataclass(frozen=True, slots=True)
class Documented:
    """One rule code as the release documents it, and the message numbers it is used in ("301", ...)."""

    code: str
    folder: str  # xslt, berichtoverstijgend, externe-bron, or "element" (the CD/CS/RS table)
    messages: frozenset[str]
    retourcode: str | None


def regels(standard: str) -> Path:
    return SHARED / f"{standard}-3.2" / "regels"


def technical_rules(standard: str) -> list[Documented]:
    """Every TR rule of the release by its folder, with the messages its text says it is used in."""
    found: list[Documented] = []
    for folder in TR_FOLDERS:
        for path in sorted((regels(standard) / "technische-regels" / folder).iterdir()):
            text = path.read_text(encoding="utf-8")
            used = re.search(r"## Gebruik in berichten\s+(.*?)(?:\n---|\Z)", text, re.S)
            numbers = frozenset(re.findall(r"(?:JW|WMO)(\d{3})", used.group(1))) if used else frozenset()
            retour = re.search(r"\| Retourcode \| (\S+) \|", text)
            found.append(
                Documented(path.name.split(".")[0], folder, numbers, retour.group(1) if retour else None)
            )
    return found


def element_rules(standard: str) -> list[tuple[str, str, str]]:
    """(message number or "retour", element path as the table gives it, rule code) of every CD/CS/RS row."""
    folder = regels(standard) / "condities-constraints"
    rows: list[tuple[str, str, str]] = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():  # the table form (iWmo)
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 11 and re.fullmatch(r"(?:JW|WMO)(?:\d{3}| Retour)", cells[0]):
                element = ".".join(c for c in cells[1:5] if c)
                rows.append((_number(cells[0]), element, cells[7]))
        for block in text.split("\n# Regel ")[1:]:  # the one-block-per-rule form (iJw)
            pairs = re.findall(r"^- (\w[\w -]*?): (.*)$", block, re.M)
            meta = dict(pairs)
            if "Regelcode" in meta and "Bericht" in meta:
                parts = [meta.get("Berichtklasse", ""), meta.get("Element", "")]
                parts += [value for key, value in pairs if key == "CDT-element"]
                element = ".".join(parts)
                rows.append((_number(meta["Bericht"]), element, meta["Regelcode"]))
    return rows


def _number(bericht: str) -> str:
    return "retour" if bericht.endswith("Retour") else bericht[-3:]
