"""The project's own message templates for the simulated counterparts: every iJw and iWmo 3.2 message.

One template per message number serves both standards (their structures agree; only namespaces, BerichtCodes
and a few code lists differ). Values are made up by :mod:`gateway.simulate.cases` (test BSNs, fictional
names); nothing here is read from elsewhere at run time but the project's own ``schemas/catalog.toml``.

A retour (302, 306, 308, 316, 318, 320) follows the standard's retour rule: it repeats the header of the
message it answers, adds its own IdentificatieRetour and DagtekeningRetour, and when the answered message
holds no errors it is header-only with RetourCode 0200; a message refused on content gets 0001.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from gateway.config import DEFAULT_SCHEMA_DIR
from gateway.standard.catalog import Catalog, MessageType

ACCEPTED = "0200"  # no remark
REJECTED = "0001"  # refused for technical reasons (content)

_XSD_VERSIONS = (
    "      <b:BasisschemaXsdVersie>1.0.0</b:BasisschemaXsdVersie>\n"
    "      <b:BerichtXsdVersie>1.0.0</b:BerichtXsdVersie>\n"
)
_PRODUCT = {  # (categorie, code) per standard: a youth-care and a Wmo support product
    "ijw": ("45", "45A48"),
    "iwmo": ("02", "02A01"),
}


@dataclass(frozen=True, slots=True)
class Client:
    """A made-up client: a BSN that passes the eleven-test, a birth date, a fictional name."""

    bsn: str
    geboortedatum: date
    geslacht: str
    achternaam: str

    def __repr__(self) -> str:
        return "Client(<test data>)"


@dataclass(frozen=True, slots=True)
class Head:
    """The header values of a heen-message."""

    afzender: str
    ontvanger: str
    identificatie: str
    dagtekening: date


@dataclass(frozen=True, slots=True)
class Prestatie:
    """One line of a declaration."""

    referentienummer: str
    toewijzingnummer: int
    begin: date
    end: date
    volume: int
    bedrag: int  # euro cents


@dataclass(frozen=True, slots=True)
class Declared:
    """What a 325 needs of the 323 it answers."""

    identificatie: str
    dagtekening: date
    nummer: str
    totaal: int
    debet_credit: str = "D"


@cache
def catalog() -> Catalog:
    return Catalog.load(DEFAULT_SCHEMA_DIR / "catalog.toml")


def message_type(standard: str, number: str) -> MessageType:
    """The catalogue entry of ``number`` (``"315"``) in ``standard`` (``ijw``/``iwmo``) release 3.2."""
    prefix = "JW" if standard == "ijw" else "WMO"
    found = catalog().get(standard, "3.2", f"{prefix}{number}")
    if found is None:
        raise KeyError(f"{prefix}{number} is not in the catalogue")
    return found


def _header(kind: MessageType, head: Head, extra: str = "") -> str:
    return f"""  <m:Header>
    <m:BerichtCode>{kind.code}</m:BerichtCode>
    <m:BerichtVersie>{kind.versie}</m:BerichtVersie>
    <m:BerichtSubversie>{kind.subversie}</m:BerichtSubversie>
    <m:Afzender>{head.afzender}</m:Afzender>
    <m:Ontvanger>{head.ontvanger}</m:Ontvanger>
{_identificatie("BerichtIdentificatie", head.identificatie, head.dagtekening)}{_xsd_versie("XsdVersie")}{extra}  </m:Header>
"""


def _identificatie(tag: str, identificatie: str, dagtekening: date) -> str:
    """An identification in the header: ``BerichtIdentificatie``, or the ``DeclaratieIdentificatie`` a 325
    answers."""
    return (
        f"    <m:{tag}>\n      <b:Identificatie>{identificatie}</b:Identificatie>\n"
        f"      <b:Dagtekening>{dagtekening.isoformat()}</b:Dagtekening>\n    </m:{tag}>\n"
    )


def _xsd_versie(tag: str) -> str:
    """The XSD versions in the header: the message's own (``XsdVersie``), or those of the message a retour
    (``XsdVersieRetour``) or a 325 (``XsdVersieDeclaratie``) answers."""
    return f"    <m:{tag}>\n{_XSD_VERSIONS}    </m:{tag}>\n"


def _retour_codes(code: str) -> str:
    """The header's one RetourCode (a retour's, or a 325's on the whole declaration)."""
    return f"    <m:RetourCodes>\n      <m:RetourCode>{code}</m:RetourCode>\n    </m:RetourCodes>\n"


def _document(kind: MessageType, header: str, body: str = "") -> bytes:
    basis = kind.namespace.rsplit("/", 2)[0] + "/basisschema/schema"
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<m:Bericht xmlns:m="{kind.namespace}" xmlns:b="{basis}">\n{header}{body}</m:Bericht>\n'
    )
    return text.encode("utf-8")


def _message(standard: str, number: str, head: Head, body: str = "", extra: str = "") -> bytes:
    """Message ``number`` of ``standard``: the header for ``head`` (with ``extra`` fields), then ``body``."""
    kind = message_type(standard, number)
    return _document(kind, _header(kind, head, extra), body)


def _client(c: Client, inner: str, full_name: bool = False) -> str:
    """The client part; ``full_name`` for the 301, whose name also states how it is used (NaamGebruik)."""
    naam_gebruik = "      <b:NaamGebruik>1</b:NaamGebruik>\n" if full_name else ""
    return f"""  <m:Client>
    <m:Bsn>{c.bsn}</m:Bsn>
    <m:Geboortedatum>
      <b:Datum>{c.geboortedatum.isoformat()}</b:Datum>
    </m:Geboortedatum>
    <m:Geslacht>{c.geslacht}</m:Geslacht>
    <m:Naam>
      <b:Geslachtsnaam>
        <b:Achternaam>{c.achternaam}</b:Achternaam>
      </b:Geslachtsnaam>
{naam_gebruik}    </m:Naam>
{inner}  </m:Client>
"""


def _product(standard: str, indent: str) -> str:
    categorie, code = _PRODUCT[standard]
    return (
        f"{indent}<m:Product>\n{indent}  <b:Categorie>{categorie}</b:Categorie>\n"
        f"{indent}  <b:Code>{code}</b:Code>\n{indent}</m:Product>\n"
    )


def _products(group: str, item: str, fields: str, indent: str = "    ") -> str:
    """A list (``group``) of one product (``item``) with these ``fields``, indented two steps deeper."""
    return f"{indent}<m:{group}>\n{indent}  <m:{item}>\n{fields}{indent}  </m:{item}>\n{indent}</m:{group}>\n"


def _client_message(
    standard: str,
    number: str,
    head: Head,
    client: Client,
    names: tuple[str, str],
    fields: str,
    *,
    before: str = "",
    full_name: bool = False,
) -> bytes:
    """Message ``number`` about one client with one product: ``names`` are the list's and the product's
    element (``StartProducten``, ``StartProduct``), ``fields`` the product's; ``before`` comes first."""
    return _message(standard, number, head, _client(client, before + _products(*names, fields), full_name))


def _omvang(indent: str) -> str:
    return (
        f"{indent}<m:Omvang>\n{indent}  <b:Volume>4</b:Volume>\n{indent}  <b:Eenheid>04</b:Eenheid>\n"
        f"{indent}  <b:Frequentie>4</b:Frequentie>\n{indent}</m:Omvang>\n"
    )


# --- heen-messages ----------------------------------------------------------------------------------------


def toewijzing(
    standard: str, head: Head, client: Client, toewijzingnummer: int, start: date, referentie: str | None
) -> bytes:
    """301: the municipality assigns a product to the provider (answering a 315 through ReferentieAanbieder)."""
    ref = f"        <m:ReferentieAanbieder>{referentie}</m:ReferentieAanbieder>\n" if referentie else ""
    inner = """    <m:Contactgegevens>
      <m:Contact>
        <m:Soort>01</m:Soort>
        <m:Adres>
          <b:Huis>
            <b:Huisnummer>12</b:Huisnummer>
          </b:Huis>
          <b:Postcode>1111AA</b:Postcode>
          <b:Straatnaam>Teststraat</b:Straatnaam>
          <b:Plaatsnaam>Testdorp</b:Plaatsnaam>
          <b:LandCode>NL</b:LandCode>
        </m:Adres>
      </m:Contact>
    </m:Contactgegevens>
"""
    product = f"""        <m:ToewijzingNummer>{toewijzingnummer}</m:ToewijzingNummer>
{ref}{_product(standard, "        ")}        <m:Toewijzingsdatum>{head.dagtekening.isoformat()}</m:Toewijzingsdatum>
        <m:Toewijzingstijd>09:30:00</m:Toewijzingstijd>
        <m:Ingangsdatum>{start.isoformat()}</m:Ingangsdatum>
{_omvang("        ")}"""
    lists = ("ToegewezenProducten", "ToegewezenProduct")
    return _client_message(standard, "301", head, client, lists, product, before=inner, full_name=True)


def start_zorg(standard: str, head: Head, client: Client, toewijzingnummer: int, start: date) -> bytes:
    """305: the provider reports the start of care."""
    product = f"""        <m:ToewijzingNummer>{toewijzingnummer}</m:ToewijzingNummer>
{_product(standard, "        ")}        <m:Begindatum>{start.isoformat()}</m:Begindatum>
        <m:StatusAanlevering>1</m:StatusAanlevering>
"""
    return _client_message(standard, "305", head, client, ("StartProducten", "StartProduct"), product)


def stop_zorg(
    standard: str, head: Head, client: Client, toewijzingnummer: int, start: date, end: date
) -> bytes:
    """307: the provider reports the end of care."""
    product = f"""        <m:ToewijzingNummer>{toewijzingnummer}</m:ToewijzingNummer>
{_product(standard, "        ")}        <m:Begindatum>{start.isoformat()}</m:Begindatum>
        <m:RedenBeeindiging>02</m:RedenBeeindiging>
        <m:Einddatum>{end.isoformat()}</m:Einddatum>
        <m:StatusAanlevering>1</m:StatusAanlevering>
"""
    return _client_message(standard, "307", head, client, ("StopProducten", "StopProduct"), product)


def verzoek_toewijzing(standard: str, head: Head, client: Client, referentie: str, start: date) -> bytes:
    """315: the provider asks the municipality for an assignment."""
    product = f"""        <m:ReferentieAanbieder>{referentie}</m:ReferentieAanbieder>
{_product(standard, "        ")}        <m:ToewijzingIngangsdatum>{start.isoformat()}</m:ToewijzingIngangsdatum>
{_omvang("        ")}        <m:Verwijzer>
          <b:Type>01</b:Type>
        </m:Verwijzer>
"""
    lists = ("AangevraagdeProducten", "AangevraagdProduct")
    return _client_message(standard, "315", head, client, lists, product)


def verzoek_wijziging(
    standard: str, head: Head, client: Client, referentie: str, toewijzingnummer: int, start: date
) -> bytes:
    """317: the provider asks to change an assignment."""
    product = f"""          <m:ToewijzingNummer>{toewijzingnummer}</m:ToewijzingNummer>
          <m:GewensteIngangsdatum>{start.isoformat()}</m:GewensteIngangsdatum>
{_omvang("          ")}"""
    body = f"""  <m:Client>
    <m:Bsn>{client.bsn}</m:Bsn>
    <m:Verzoek>
      <m:ReferentieAanbieder>{referentie}</m:ReferentieAanbieder>
      <m:RedenVerzoek>1</m:RedenVerzoek>
{_products("TeWijzigenProducten", "TeWijzigenProduct", product, "      ")}    </m:Verzoek>
  </m:Client>
"""
    return _message(standard, "317", head, body)


def antwoord(standard: str, head: Head, referentie: str, granted: bool) -> bytes:
    """319: the municipality answers a 315/317: VerzoekAntwoord 1 (verzoek afgewezen, with a reason, CD085) or
    2 (aanvraag in onderzoek, without one, CD086); a granted request is assigned by a 301 instead."""
    reason = "" if granted else "    <m:RedenAfwijzingVerzoek>1</m:RedenAfwijzingVerzoek>\n"
    body = f"""  <m:Antwoord>
    <m:ReferentieAanbieder>{referentie}</m:ReferentieAanbieder>
    <m:VerzoekAntwoord>{2 if granted else 1}</m:VerzoekAntwoord>
{reason}  </m:Antwoord>
"""
    return _message(standard, "319", head, body)


def declaratie(standard: str, head: Head, client: Client, nummer: str, lines: tuple[Prestatie, ...]) -> bytes:
    """323: the provider declares delivered care for one period: the whole calendar month of its first line
    (CS340), each line within one month (CS337)."""
    categorie, code = _PRODUCT[standard]
    begin = min(p.begin for p in lines).replace(day=1)
    end = (begin.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    prestaties = "".join(
        f"""          <m:Prestatie>
            <m:ProductReferentie>
              <b:ReferentieNummer>{p.referentienummer}</b:ReferentieNummer>
            </m:ProductReferentie>
            <m:ToewijzingNummer>{p.toewijzingnummer}</m:ToewijzingNummer>
            <m:ProductCategorie>{categorie}</m:ProductCategorie>
            <m:ProductCode>{code}</m:ProductCode>
            <m:ProductPeriode>
              <b:Begindatum>{p.begin.isoformat()}</b:Begindatum>
              <b:Einddatum>{p.end.isoformat()}</b:Einddatum>
            </m:ProductPeriode>
            <m:GeleverdVolume>{p.volume}</m:GeleverdVolume>
            <m:Eenheid>04</m:Eenheid>
            <m:ProductTarief>{p.bedrag // max(p.volume, 1)}</m:ProductTarief>
            <m:IngediendBedrag>
              <b:Bedrag>{p.bedrag}</b:Bedrag>
              <b:DebetCredit>D</b:DebetCredit>
            </m:IngediendBedrag>
          </m:Prestatie>
"""
        for p in lines
    )
    body = f"""  <m:Declaratie>
    <m:DeclaratieNummer>{nummer}</m:DeclaratieNummer>
    <m:DeclaratiePeriode>
      <b:Begindatum>{begin.isoformat()}</b:Begindatum>
      <b:Einddatum>{end.isoformat()}</b:Einddatum>
    </m:DeclaratiePeriode>
    <m:DeclaratieDagtekening>{head.dagtekening.isoformat()}</m:DeclaratieDagtekening>
    <m:TotaalIngediendBedrag>
      <b:TotaalBedrag>{sum(p.bedrag for p in lines)}</b:TotaalBedrag>
      <b:DebetCredit>D</b:DebetCredit>
    </m:TotaalIngediendBedrag>
    <m:Clienten>
      <m:Client>
        <m:Bsn>{client.bsn}</m:Bsn>
        <m:Prestaties>
{prestaties}        </m:Prestaties>
      </m:Client>
    </m:Clienten>
  </m:Declaratie>
"""
    return _message(standard, "323", head, body)


def declaratie_antwoord(standard: str, head: Head, declared: Declared, code: str = ACCEPTED) -> bytes:
    """325: the municipality answers a 323; accepted in full, or refused whole (no DeclaratieAntwoord part)."""
    extra = (
        _identificatie("DeclaratieIdentificatie", declared.identificatie, declared.dagtekening)
        + _xsd_versie("XsdVersieDeclaratie")
        + _retour_codes(code)
    )
    body = ""
    if code == ACCEPTED:
        total = f"""      <b:TotaalBedrag>{declared.totaal}</b:TotaalBedrag>
      <b:DebetCredit>{declared.debet_credit}</b:DebetCredit>
"""
        body = f"""  <m:DeclaratieAntwoord>
    <m:DeclaratieNummer>{declared.nummer}</m:DeclaratieNummer>
    <m:TotaalIngediendBedrag>
{total}    </m:TotaalIngediendBedrag>
    <m:TotaalToegekendBedrag>
{total}    </m:TotaalToegekendBedrag>
    <m:RetourCodes>
      <m:RetourCode>{ACCEPTED}</m:RetourCode>
    </m:RetourCodes>
  </m:DeclaratieAntwoord>
"""
    return _message(standard, "325", head, body, extra=extra)


# --- retours --------------------------------------------------------------------------------------------

RETOUR_OF = {"301": "302", "305": "306", "307": "308", "315": "316", "317": "318", "319": "320"}


def retour(
    standard: str, answered: Head, number: str, identificatie_retour: str, dagtekening: date, code: str
) -> bytes:
    """A header-only retour: the answered message's header, the retour's own id and date, one RetourCode."""
    extra = f"""    <m:IdentificatieRetour>{identificatie_retour}</m:IdentificatieRetour>
    <m:DagtekeningRetour>{dagtekening.isoformat()}</m:DagtekeningRetour>
{_xsd_versie("XsdVersieRetour")}{_retour_codes(code)}"""
    return _message(standard, number, answered, extra=extra)
