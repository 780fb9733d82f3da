"""The chain's short Dutch descriptions of its error codes, as an answer's ``omschrijving`` carries them.

Texts name the fault, never a value from the message. A code not listed here falls back to the refusal's
own title.
"""

from __future__ import annotations

from typing import Final

from gateway.errors import GatewayError, NodeRole

OMSCHRIJVING: Final = {
    "StUF055": "Het bericht is niet conform het XSD-schema.",
    "IB002": "De verzendende organisatie is niet geautoriseerd.",
    "IB007": "Het bericht is groter dan de maximaal toegestane 25 MB.",
    "IB009": "Het referentienummer is geen UUID versie 4.",
    "IB102": "Geen route voor de combinatie van organisatie en berichttype.",
    "IB103": "Tijdelijk niet beschikbaar; bied het bericht later opnieuw aan.",
    "IB210": "Ontvangende organisatie onbekend of niet actief.",
    "IB213": "Verzendende organisatie onbekend of niet actief.",
    "IB216": "Combinatie van zender en referentienummer is niet uniek.",
    "IB234": "De functie is niet toegestaan voor deze organisatie.",
    "IB240": "Berichtcode en functie komen niet overeen.",
    "CC02": "Het bericht voldoet niet aan de XSD.",
    "CC03": "Het bericht is groter dan toegestaan (max 25 MB).",
    "CC04": "De UUID is geen versie 4.",
    "CC08": "De UUID is niet uniek.",
    "BRS28": "Het bericht is afgekeurd op basis van XSLT-controles.",
    "IB901": "Geen geldig ZIP-bestand aangeleverd.",
    "IB902": "ZIP-bestand bevat meer bestanden dan toegestaan.",
    "IB903": "ZIP-bestand bevat wachtwoordbeveiliging.",
    "IB905": "ZIP-bestand bevat geen bestanden.",
}


# refusals that share a code with others but deserve their own description
BY_REASON: Final = {
    "envelope-mismatch": "De envelop of routering komt niet overeen met het bericht.",
    "content-rules": "Het bericht voldoet niet aan de regels van de standaard (TR, CD, CS).",
    "not-an-envelope": "De envelop is onjuist of onvolledig.",
    "zip-bomb": "ZIP-bestand pakt verder uit dan toegestaan.",
    "wrong-node": "Dit koppelvlak wordt door het andere knooppunt aangeboden.",
}


_OWN_TEXT: Final = frozenset({"BRS28"})


def omschrijving(exc: GatewayError, node: NodeRole) -> str:
    """The description of ``exc`` as it is answered on ``node`` (at most 200 characters)."""
    code = exc.code_for(node)
    # VECOZO's own BRS28 text for content rules; elsewhere a shared code's reason-specific text first
    own = None if code in _OWN_TEXT else BY_REASON.get(exc.reason)
    text = own or OMSCHRIJVING.get(code, exc.title)
    return text[:200]


def plek(exc: GatewayError) -> str:
    """``server`` for a fault on our side that a retry may cure, ``client`` for a refused message."""
    return "server" if exc.transient or exc.status >= 500 else "client"


def details(exc: GatewayError, node: NodeRole, limit: int = 1000) -> str:
    """The refusal's own detail and every error item (code, line, element path, masked text), capped."""
    parts = [exc.detail]
    for item in exc.errors:
        if item.text == exc.detail and item.line is None and item.path is None:
            continue
        code = exc.code_for(node) if item.code == exc.code else item.code
        where = " ".join(p for p in (f"regel {item.line}" if item.line else "", item.path or "") if p)
        if item.rule:  # a broken content rule: its code and retourcode before the place
            code = f"{code} {item.rule}" + (f" (retourcode {item.retourcode})" if item.retourcode else "")
        parts.append(f"{code} {where}: {item.text}" if where else f"{code}: {item.text}")
    if exc.tracking_id is not None:
        parts.append(f"trackingId {exc.tracking_id}")
    text = "; ".join(dict.fromkeys(parts))
    return text if len(text) <= limit else text[: limit - 1] + "…"
