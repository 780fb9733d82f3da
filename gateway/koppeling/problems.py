"""How a verdict reaches a VECOZO REST client: BRS codes, ``meldingen`` and ``ValidationProblemDetails``.

The BRS codes and their descriptions are those of VECOZO's Foutcodelijst (``Foutcodelijst_Vecozo.md`` in the
iStandaarden reference): BRS01 sender unknown, BRS03 not authorised for the sender, BRS04 addressee not
connected, BRS06 payload too large, BRS13 not XSD-conform, BRS14 not well-formed XML, BRS18 real persons on a
test environment, BRS20 Identificatie not unique per message type, BRS28 content rules (XSLT), BRS33 cannot be
delivered as addressed, BRS114 traceerId not unique. A refusal of the message answers ``422`` (the spec:
"de indiener probeert hetzelfde request niet opnieuw"); a request that does not follow the spec ``400``.
Texts name codes, rules and element paths, never a value from the message. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import ErrorItem, GatewayError, NodeRole, Rejection, Unavailable

PROBLEM_TYPE: Final = "urn:gegevensknooppunt:vecozo:"

OMSCHRIJVING: Final = {
    "BRS01": "Afzender is niet bekend bij VECOZO",
    "BRS02": "Indiener beschikt niet over de juiste rol om voor dit berichttype berichten in te dienen",
    "BRS03": "Indiener is niet gemachtigd om namens de afzender het bericht in te dienen",
    "BRS04": "Geadresseerde partij is niet aangesloten bij VECOZO",
    "BRS05": "Geadresseerde partij beschikt niet over de juiste rol om voor dit berichttype berichten te ontvangen",
    "BRS06": "Payload is groter dan toegestaan",
    "BRS13": "Berichtinhoud voldoet niet aan XSD",
    "BRS14": "Payload bevat geen well-formed XML",
    "BRS18": "Bericht bevat persoonsgegevens die niet zijn toegestaan op deze omgeving",
    "BRS20": "Identificatie moet per berichtsoort uniek zijn voor de verzendende partij",
    "BRS28": "Het bericht is afgekeurd op basis van XSLT-controles",
    "BRS33": "Bericht kan niet afgeleverd worden",
    "BRS114": "TraceerID is niet uniek",
}

# a refusal of the pipeline (its stable reason slug) -> VECOZO's code
BY_REASON: Final = {
    "too-large": "BRS06",
    "zip-bomb": "BRS06",
    "encoding": "BRS14",
    "xml-version": "BRS14",
    "unsafe-xml": "BRS14",
    "not-well-formed": "BRS14",
    "too-deep": "BRS14",
    "not-standard-message": "BRS13",
    "release-not-supported": "BRS13",
    "schema": "BRS13",
    "code-mismatch": "BRS13",
    "content-rules": "BRS28",
    "not-authorised": "BRS03",
    "unknown-sender": "BRS01",
    "unknown-receiver": "BRS04",
    "wrong-direction": "BRS02",
    "no-route": "BRS33",
    "envelope-mismatch": "BRS33",
    "metadata-mismatch": "BRS33",
    "not-unique": "BRS20",
    "traceer-id-not-unique": "BRS114",
    "not-fictitious": "BRS18",
}

# the rule codes of the iStandaarden beyond the XSD (TR technical rules, CD conditions, CS constraints, RS)
_RULE = re.compile(r"^(TR|CD|CS|RS)\d+$")


class BadRequest(Rejection):
    """The request does not follow the interface's specification: ``400`` with the faults per field."""

    code, vecozo_code, status, reason = "GW400", "GW400", 400, "bad-request"
    title = "Het verzoek voldoet niet aan de specificatie"

    def __init__(self, detail: str, fields: Mapping[str, Sequence[str]]) -> None:
        super().__init__(detail)
        self.fields = {name: list(texts) for name, texts in fields.items()}


class KoppelingNotFound(GatewayError):
    """Unknown, not (or no longer) available, or another party's: the spec's ``404``."""

    code, vecozo_code, status, reason = "GW404", "GW404", 404, "not-found"
    title = "Bericht is onbekend of niet (meer) beschikbaar"


class MetadataMismatch(Rejection):
    """``berichtMetadata`` says something else than the message it carries (sender, addressee, type)."""

    code, vecozo_code, status, reason = "BRS33", "BRS33", 422, "metadata-mismatch"
    title = "berichtMetadata komt niet overeen met de payload"


class TraceerIdNotUnique(Rejection):
    code, vecozo_code, status, reason = "BRS114", "BRS114", 422, "traceer-id-not-unique"
    title = "TraceerID is niet uniek"


class NotFictitious(Rejection):
    code, vecozo_code, status, reason = "BRS18", "BRS18", 422, "not-fictitious"
    title = "Bericht bevat persoonsgegevens die niet zijn toegestaan op deze omgeving"


class RefusedBefore(Rejection):
    """The same push again (same ``traceerId``, same payload) after it was refused: the first refusal, its
    code and its ``meldingen``, again."""

    code, vecozo_code, status, reason = "GW422", "GW422", 422, "refused-before"
    title = "Bericht is eerder afgekeurd"

    def __init__(self, stored: Sequence[Meld]) -> None:
        first = stored[0] if stored else Meld("BRS114", OMSCHRIJVING["BRS114"])
        rest = [ErrorItem(m.code, m.omschrijving, path=m.toelichting) for m in stored[1:]]
        super().__init__(first.toelichting or first.omschrijving, errors=rest)
        self.brs = first.code

    def code_for(self, node: NodeRole) -> str:
        return self.brs


@dataclass(frozen=True, slots=True)
class Meld:
    """One melding of a refused message (the status spec's ``Melding``)."""

    code: str
    omschrijving: str
    toelichting: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"code": self.code, "omschrijving": self.omschrijving}
        if self.toelichting:
            out["toelichting"] = self.toelichting
        return out


def brs_code(exc: GatewayError, node: NodeRole = "vecozo") -> str:
    """VECOZO's code for a refusal: by its reason, BRS28 when its items are content rules, else its own."""
    if exc.reason in BY_REASON:
        return BY_REASON[exc.reason]
    if any(_RULE.match(item.rule or item.code) for item in exc.errors):
        return "BRS28"
    return exc.code_for(node)


def _where(item: ErrorItem) -> str:
    return " ".join(p for p in (f"regel {item.line}" if item.line else "", item.path or "") if p)


def meldingen(exc: GatewayError, node: NodeRole = "vecozo", limit: int = 100) -> tuple[Meld, ...]:
    """The refusal as ``meldingen``: its BRS code first, then each error with its rule code (or the BRS code
    for a schema fault), where it is and what is wrong; at most ``limit``."""
    brs = brs_code(exc, node)
    out = [Meld(brs, OMSCHRIJVING.get(brs, exc.title), exc.detail or None)]
    for item in exc.errors:
        if item.text == exc.detail and item.line is None and item.path is None:
            continue
        code = item.rule or (  # a broken content rule names itself (CS002, TR018, ...)
            item.code if _RULE.match(item.code) or item.code.startswith("BRS") else brs
        )
        where = _where(item)
        if item.retourcode:  # the retourcode the standard attaches to a broken content rule
            where = f"{where} retourcode {item.retourcode}".strip()
        out.append(Meld(code, item.text or exc.title, where or None))
        if len(out) == limit:
            break
    return tuple(out)


def problem(
    exc: GatewayError, instance: str, node: NodeRole = "vecozo", traceer_id: str | None = None
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and ``ValidationProblemDetails`` body of a refusal on a REST interface."""
    if isinstance(exc, BadRequest):
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE + exc.reason,
            "title": exc.title,
            "status": 400,
            "detail": exc.detail,
            "instance": instance,
            "errors": exc.fields,
        }
        return 400, body
    if isinstance(exc, Rejection):
        status = 422
        brs = brs_code(exc, node)
        found = meldingen(exc, node)
        body = {
            "type": PROBLEM_TYPE + brs,
            "title": OMSCHRIJVING.get(brs, exc.title),
            "status": status,
            "detail": exc.detail,
            "instance": instance,
            "errors": _fields(exc, found),
            "code": brs,
            "meldingen": [m.as_dict() for m in found],
        }
    else:
        status = exc.status
        body = {
            "type": PROBLEM_TYPE + exc.reason,
            "title": exc.title,
            "status": status,
            "detail": exc.detail,
            "instance": instance,
        }
    if traceer_id is not None:
        body["traceerId"] = traceer_id
    if exc.tracking_id is not None:
        body["trackingId"] = exc.tracking_id
    return status, body


def _fields(exc: GatewayError, found: Sequence[Meld]) -> dict[str, list[str]]:
    """``errors`` of the problem: metadata faults by their field, everything else under ``payload``."""
    out: dict[str, list[str]] = {}
    for item in exc.errors:
        if item.path and item.path.startswith("berichtMetadata."):
            out.setdefault(item.path, []).append(item.text)
    for melding in found:
        if melding.toelichting and melding.toelichting.startswith("berichtMetadata."):
            continue
        text = f"{melding.code}: {melding.omschrijving}"
        if melding.toelichting:
            text += f" ({melding.toelichting})"
        out.setdefault("payload" if not isinstance(exc, MetadataMismatch) else "berichtMetadata", []).append(
            text
        )
    return out


def retry_after(exc: GatewayError) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else {}
