"""The rule cases: per rule and message, an edit of the official example that breaks exactly that rule
(``also``: the rules the same fault necessarily breaks as well) and a near miss that touches the same
elements and keeps every rule. Both stay XSD-valid; they are built in the test from ../shared's examples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from lxml import etree

from tests.rules.edits import Doc, day, years_before
from tests.rules.oracle import SHARED

Edit = Callable[[Doc], None]


@dataclass(frozen=True, slots=True)
class Case:
    rule: str
    message: str  # the message number: "301", "323", ...
    label: str
    breaks: Edit
    keeps: Edit
    also: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ("JW", "WMO")  # TR377/TR409 and the JW301 contact set-up: iJw only

    def names(self) -> list[str]:
        return [f"{p}{self.message}" for p in self.prefixes]


CASES: list[Case] = []


def case(
    rule: str, messages: str, label: str, *, also: tuple[str, ...] = (), jw_only: bool = False
) -> Callable[[Callable[[Doc, bool], None]], Callable[[Doc, bool], None]]:
    """Register the decorated ``(doc, near: bool)`` edit as a case for each message number."""

    def register(edit: Callable[[Doc, bool], None]) -> Callable[[Doc, bool], None]:
        for number in messages.split():
            CASES.append(
                Case(
                    rule,
                    number,
                    label,
                    lambda d, e=edit: e(d, False),
                    lambda d, e=edit: e(d, True),
                    frozenset(also),
                    ("JW",) if jw_only else ("JW", "WMO"),
                )
            )
        return edit

    return register


# --- where things are ------------------------------------------------------------------------------------

ITEM = {
    "301": "Client/ToegewezenProducten/ToegewezenProduct",
    "315": "Client/AangevraagdeProducten/AangevraagdProduct",
    "317": "Client/Verzoek/NieuweProducten/NieuwProduct",
}
START = {"301": "Ingangsdatum", "315": "ToewijzingIngangsdatum", "317": "GewensteIngangsdatum"}
END = {"301": "Einddatum", "315": "ToewijzingEinddatum", "317": "Einddatum"}
ORDER = {  # the product classes' elements in schema order (to put a new one in its place)
    "301": [
        "ToewijzingNummer",
        "ReferentieAanbieder",
        "Product",
        "Toewijzingsdatum",
        "Toewijzingstijd",
        "Ingangsdatum",
        "Einddatum",
        "RedenWijziging",
        "Omvang",
        "Budget",
        "Commentaar",
    ],
    "315": [
        "ReferentieAanbieder",
        "BeschikkingNummer",
        "Product",
        "BeschikkingIngangsdatum",
        "ToewijzingIngangsdatum",
        "ToewijzingEinddatum",
        "Omvang",
        "Budget",
        "Verwijzer",
        "Raamcontract",
        "Commentaar",
    ],
    "317": ["Product", "GewensteIngangsdatum", "Einddatum", "Omvang", "Budget"],
}
BSN = {
    "323": "Declaratie/Clienten/Client[1]/Bsn",
    "325": "DeclaratieAntwoord/Clienten/Client[1]/Bsn",
}
PRESTATIE = {
    "323": "Declaratie/Clienten/Client[1]/Prestaties/Prestatie",
    "325": "DeclaratieAntwoord/Clienten/Client[1]/Prestaties/Prestatie",
}


def number_of(d: Doc) -> str:
    return d.name[-3:]


def put_in_item(d: Doc, name: str, value: str, path: str | None = None) -> None:
    n = number_of(d)
    order = ORDER[n]
    d.put(path or f"{ITEM[n]}[1]", name, value, after=tuple(order[: order.index(name)]))


def one_product(d: Doc) -> str:
    """Keep only the first product of the message; its path."""
    n = number_of(d)
    d.only(ITEM[n])
    return f"{ITEM[n]}[1]"


# --- every message with a client ---------------------------------------------------------------------------


@case("CS002", "301 305 307 315 317 323 325", "BSN fails / passes the eleven-test")
def _cs002(d: Doc, near: bool) -> None:
    d.set(BSN.get(number_of(d), "Client/Bsn"), "123456782" if near else "123456789")


@case("CS139", "301 305 307 315", "DatumGebruik 1 (day unknown) with a day other than 01 / with day 01")
def _cs139(d: Doc, near: bool) -> None:
    datum = d.text("Client/Geboortedatum/Datum")
    if near:
        d.set("Client/Geboortedatum/Datum", datum[:8] + "01")
    d.put("Client/Geboortedatum", "DatumGebruik", "1", after=("Datum",))


@case("TR002", "301 305 307 315", "born 120 years and a day / exactly 120 years before the Dagtekening")
def _tr002(d: Doc, near: bool) -> None:
    d.drop("Client/Geboortedatum/DatumGebruik")
    born = years_before(d.dagtekening, 120)
    d.set("Client/Geboortedatum/Datum", day(born, 0 if near else -1))


@case("TR134", "301 305 307 315", "born the day after / on the Dagtekening")
def _tr134(d: Doc, near: bool) -> None:
    d.drop("Client/Geboortedatum/DatumGebruik")
    d.set("Client/Geboortedatum/Datum", day(d.dagtekening, 0 if near else 1))


@case("TR134", "301", "Toewijzingsdatum after / on the Dagtekening")
def _tr134_toewijzing(d: Doc, near: bool) -> None:
    d.set(f"{one_product(d)}/Toewijzingsdatum", day(d.dagtekening, 0 if near else 1))


@case("TR134", "305", "StartProduct Begindatum after / on the Dagtekening")
def _tr134_start(d: Doc, near: bool) -> None:
    d.set("Client/StartProducten/StartProduct[1]/Begindatum", day(d.dagtekening, 0 if near else 1))


@case("TR134", "307", "StopProduct Einddatum after / on the Dagtekening")
def _tr134_stop(d: Doc, near: bool) -> None:
    d.set("Client/StopProducten/StopProduct[1]/Einddatum", day(d.dagtekening, 0 if near else 1))


@case(
    "TR134",
    "323 325",
    "a ProductPeriode on the day after (so also ending after) / on the Dagtekening",
    also=("TR137",),
)
def _tr134_periode(d: Doc, near: bool) -> None:
    periode = f"{PRESTATIE[number_of(d)]}[1]/ProductPeriode"
    when = day(d.dagtekening, 0 if near else 1)
    d.set(f"{periode}/Begindatum", when)
    d.set(f"{periode}/Einddatum", when)


def _last_day(first: str) -> str:
    start = date.fromisoformat(first)
    following = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return day(following, -1)


# --- products (301 ToegewezenProduct, 315 AangevraagdProduct, 317 NieuwProduct) ---------------------------


@case("CD041", "301 315 317", "Code filled without / Omvang dropped with the Code")
def _cd041(d: Doc, near: bool) -> None:
    item = one_product(d)
    d.drop(f"{item}/Omvang")
    if near:
        d.drop(f"{item}/Product/Code")


@case("CD075", "301 315 317", "Budget without / with an end date")
def _cd075(d: Doc, near: bool) -> None:
    n = number_of(d)
    item = one_product(d)
    d.drop(f"{item}/Omvang")
    d.drop(f"{item}/Product/Code")
    put_in_item(d, "Budget", "150000")
    if not near:
        d.drop(f"{item}/{END[n]}")


@case("CD076", "301 315 317", "Frequentie 2 (per week) without an end date / Frequentie 4 without one")
def _cd076(d: Doc, near: bool) -> None:
    n = number_of(d)
    item = one_product(d)
    d.set(f"{item}/Omvang/Frequentie", "4" if near else "2")
    d.drop(f"{item}/{END[n]}")


@case("CD077", "301 315 317", "Budget next to Omvang / instead of it", also=("CD078",))
def _cd077(d: Doc, near: bool) -> None:
    item = one_product(d)
    put_in_item(d, "Budget", "150000")
    if near:
        d.drop(f"{item}/Omvang")
        d.drop(f"{item}/Product/Code")


@case("CD078", "301 315 317", "Omvang next to Budget / instead of it", also=("CD077",))
def _cd078(d: Doc, near: bool) -> None:
    item = one_product(d)
    put_in_item(d, "Budget", "150000")
    if near:
        d.drop(f"{item}/Budget")


@case("CD079", "301 315 317", "neither Budget nor Product / Budget without Product")
def _cd079(d: Doc, near: bool) -> None:
    item = one_product(d)
    d.drop(f"{item}/Product")
    d.drop(f"{item}/Omvang")
    if near:
        put_in_item(d, "Budget", "150000")


@case("CD080", "301", "Omvang without a product Code (end after 2020) / neither")
@case("CD095", "315", "Omvang without a product Code (end after 2020) / neither")
@case("CD096", "317", "Omvang without a product Code (end after 2020) / neither")
def _cd080(d: Doc, near: bool) -> None:
    item = one_product(d)
    d.drop(f"{item}/Product/Code")
    if near:
        d.drop(f"{item}/Omvang")


@case("CS338", "301 317", "Eenheid 14 with Frequentie 1 / with Frequentie 6")
@case("CS343", "315", "Eenheid 14 with Frequentie 1 / with Frequentie 6")
def _cs338(d: Doc, near: bool) -> None:
    item = one_product(d)
    d.set(f"{item}/Omvang/Eenheid", "14")
    d.set(f"{item}/Omvang/Frequentie", "6" if near else "1")


@case("CS003", "301 315 317", "end date the day before / on the start date")
def _cs003(d: Doc, near: bool) -> None:
    n = number_of(d)
    item = one_product(d)
    d.set(f"{item}/{END[n]}", day(d.text(f"{item}/{START[n]}"), 0 if near else -1))


@case("CS335", "301", "RedenWijziging 13 with an end date after / equal to the Ingangsdatum")
def _cs335(d: Doc, near: bool) -> None:
    item = one_product(d)
    put_in_item(d, "RedenWijziging", "13")
    start = d.text(f"{item}/Ingangsdatum")
    d.set(f"{item}/Einddatum", start if near else day(start, 1))


@case("CS336", "301", "RedenWijziging 01 / 02")
def _cs336(d: Doc, near: bool) -> None:
    one_product(d)
    put_in_item(d, "RedenWijziging", "02" if near else "01")


def _second_product(d: Doc, overlap: bool) -> str:
    """A copy of the only product as a second one: overlapping it, or starting the day after it ends."""
    n = number_of(d)
    first = one_product(d)
    twin = d.copy(first)
    path = f"{ITEM[n]}[2]"
    del twin
    if not overlap:
        begin = day(d.text(f"{first}/{END[n]}"), 1)
        d.set(f"{path}/{START[n]}", begin)
        d.set(f"{path}/{END[n]}", day(begin, 30))
    return path


@case("TR302", "301", "the same product twice, periods overlapping / one after the other")
def _tr302(d: Doc, near: bool) -> None:
    second = _second_product(d, overlap=not near)
    d.set(f"{second}/ToewijzingNummer", "424242")


@case(
    "TR302",
    "301",
    "overlapping a removed assignment (RedenWijziging 13, one day) / a live one",
)
def _tr302_removed(d: Doc, near: bool) -> None:
    second = _second_product(d, overlap=True)
    d.set(f"{second}/ToewijzingNummer", "424242")
    if near:
        put_in_item(d, "RedenWijziging", "13", path=second)
        d.set(f"{second}/Einddatum", d.text(f"{second}/Ingangsdatum"))


@case("TR386", "315", "the same product requested twice, periods overlapping / one after the other")
def _tr386(d: Doc, near: bool) -> None:
    second = _second_product(d, overlap=not near)
    d.set(f"{second}/ReferentieAanbieder", "REF-SECOND")


@case("TR410", "317", "the same new product twice, periods overlapping / one after the other")
def _tr410(d: Doc, near: bool) -> None:
    second = _second_product(d, overlap=not near)
    if not near:  # another start (TR101's key) that still overlaps
        d.set(f"{second}/GewensteIngangsdatum", day(d.text(f"{second}/GewensteIngangsdatum"), 1))


@case("TR380", "317", "GewensteIngangsdatum on / the day after the Dagtekening")
def _tr380(d: Doc, near: bool) -> None:
    item = one_product(d)
    d.set(f"{item}/GewensteIngangsdatum", day(d.dagtekening, 1 if near else 0))
    d.set(f"{item}/Einddatum", day(d.dagtekening, 60))


@case("TR383", "315", "two requested products with one ReferentieAanbieder / with two", also=("TR101",))
def _tr383(d: Doc, near: bool) -> None:
    item = ITEM["315"]
    d.set(f"{item}[2]/ReferentieAanbieder", "REF-OTHER" if near else d.text(f"{item}[1]/ReferentieAanbieder"))


@case("CD043", "315", "BeschikkingNummer without / neither with BeschikkingIngangsdatum")
def _cd043(d: Doc, near: bool) -> None:
    item = one_product(d)
    d.drop(f"{item}/BeschikkingIngangsdatum")
    if near:
        d.drop(f"{item}/BeschikkingNummer")


def _verwijzer(d: Doc, type_: str, naam: bool, zorgverlener: bool) -> None:
    item = one_product(d)
    path = f"{item}/Verwijzer"
    d.drop(f"{path}/Naam")
    d.drop(f"{path}/ZorgverlenerCode")
    d.set(f"{path}/Type", type_)
    if naam:
        d.put(path, "Naam", "Huisartsenpraktijk", after=("Type",))
    if zorgverlener:
        d.put(path, "ZorgverlenerCode", "12345678", after=("Type", "Naam"))


@case("CD066", "315", "Type 02 with ZorgverlenerCode and a Naam / without the Naam")
def _cd066(d: Doc, near: bool) -> None:
    _verwijzer(d, "02", naam=not near, zorgverlener=True)


@case("CD067", "315", "Type 03 with neither ZorgverlenerCode nor Naam / with the Naam")
def _cd067(d: Doc, near: bool) -> None:
    _verwijzer(d, "03", naam=near, zorgverlener=False)


@case("CD068", "315", "Type 01 with a ZorgverlenerCode / with a Naam only")
def _cd068(d: Doc, near: bool) -> None:
    _verwijzer(d, "01", naam=near, zorgverlener=not near)


# --- 317 verzoek om wijziging -------------------------------------------------------------------------------


@case("TR352", "317", "only new products / an unchanged one left")
def _tr352(d: Doc, near: bool) -> None:
    d.drop("Client/Verzoek/TeWijzigenProducten")
    if not near:
        d.drop("Client/Verzoek/OngewijzigdeProducten")


@case("TR353", "317", "only unchanged products / a new one left")
def _tr353(d: Doc, near: bool) -> None:
    d.drop("Client/Verzoek/TeWijzigenProducten")
    if not near:
        d.drop("Client/Verzoek/NieuweProducten")


# --- 319 antwoord ------------------------------------------------------------------------------------------


@case("CD085", "319", "VerzoekAntwoord 1 without a reason / 2 without one")
def _cd085(d: Doc, near: bool) -> None:
    d.drop("Antwoord/RedenAfwijzingVerzoek")
    d.drop("Antwoord/Woonplaatsbeginsel")
    if near:
        d.set("Antwoord/VerzoekAntwoord", "2")


@case("CD086", "319", "VerzoekAntwoord 2 with a reason / without one")
def _cd086(d: Doc, near: bool) -> None:
    d.set("Antwoord/VerzoekAntwoord", "2")
    if near:
        d.drop("Antwoord/RedenAfwijzingVerzoek")
        d.drop("Antwoord/Woonplaatsbeginsel")


@case("TR377", "319", "reason 8 without Woonplaatsbeginsel / reason 7 without it", jw_only=True)
def _tr377(d: Doc, near: bool) -> None:
    d.drop("Antwoord/Woonplaatsbeginsel")
    d.set("Antwoord/RedenAfwijzingVerzoek", "7" if near else "8")


@case("TR409", "319", "Woonplaatsbeginsel with reason 7 / with reason 8", jw_only=True)
def _tr409(d: Doc, near: bool) -> None:
    d.set("Antwoord/RedenAfwijzingVerzoek", "8" if near else "7")


# --- 301 client and contacts (the iJw example has the contacts these need) --------------------------------

C1 = "Client/Contactgegevens/Contact[1]"  # Soort 03, Dutch address, telephone
C2 = "Client/Contactgegevens/Contact[2]"  # Soort 04 (temporary), Dutch address, telephone, Periode


def contacts(d: Doc) -> None:
    """The two client contacts the cases below start from, as the iJw example has them; the iWmo example
    (one contact abroad) is given them: its contact made Dutch with a telephone, and a temporary copy."""
    if d.has(C2):
        return
    d.set(f"{C1}/Soort", "03")
    d.put(f"{C1}/Adres", "Postcode", "9999XX", after=("Huis",))
    d.set(f"{C1}/Adres/LandCode", "NL")
    phone = d.put(C1, "Telefoon", after=("Soort", "Adres", "Organisatie"))
    number = etree.SubElement(phone, f"{{{d.b}}}Telefoon01")
    etree.SubElement(number, f"{{{d.b}}}Telefoonnummer").text = "0201234567"
    etree.SubElement(number, f"{{{d.b}}}Landnummer").text = "0031"
    d.copy(C1)
    d.set(f"{C2}/Soort", "04")
    periode = d.put(C2, "Periode", after=("Soort", "Adres", "Organisatie", "Telefoon", "Emailadres"))
    etree.SubElement(periode, f"{{{d.b}}}Begindatum").text = "2018-02-03"


@case("CD005", "301", "Postcode without LandCode / neither")
def _cd005(d: Doc, near: bool) -> None:
    contacts(d)
    d.drop(f"{C2}/Adres/LandCode")
    if near:
        d.drop(f"{C2}/Adres/Postcode")


@case("CD007", "301", "Vorm 1 (tolk) without Taal / Vorm 2 without Taal")
def _cd007(d: Doc, near: bool) -> None:
    d.drop("Client/Communicatie/Taal")
    if near:
        d.set("Client/Communicatie/Vorm", "2")


@case("CD009", "301", "a Periode on a contact of Soort 02 / no Periode there")
def _cd009(d: Doc, near: bool) -> None:
    contacts(d)
    d.set(f"{C2}/Soort", "02")
    if near:
        d.drop(f"{C2}/Periode")


@case("CD025", "301", "LandCode NL without Huis / LandCode DE without Huis")
def _cd025(d: Doc, near: bool) -> None:
    contacts(d)
    d.drop(f"{C2}/Adres/Huis")
    if near:
        d.set(f"{C2}/Adres/LandCode", "DE")


@case("CD034", "301", "Soort 03 without Postcode / Soort 02 without Postcode")
def _cd034(d: Doc, near: bool) -> None:
    contacts(d)
    d.drop(f"{C1}/Adres/Postcode")
    d.drop(f"{C1}/Adres/LandCode")
    if near:
        d.set(f"{C1}/Soort", "02")


@case("CS089", "301", "LandCode NL with a postcode not Dutch in form / Dutch in form")
def _cs089(d: Doc, near: bool) -> None:
    contacts(d)
    d.set(f"{C1}/Adres/Postcode", "1234AB" if near else "1234A")


@case("CS003", "301", "contact Periode ending the day before / on its Begindatum")
def _cs003_periode(d: Doc, near: bool) -> None:
    contacts(d)
    begin = d.text(f"{C2}/Periode/Begindatum")
    d.put(f"{C2}/Periode", "Einddatum", day(begin, 0 if near else -1), after=("Begindatum",))


@case("TR006", "301", "contact without Telefoon and Postcode / without Telefoon only")
def _tr006(d: Doc, near: bool) -> None:
    contacts(d)
    d.drop(f"{C2}/Telefoon")
    if not near:
        d.drop(f"{C2}/Adres/Postcode")
        d.drop(f"{C2}/Adres/LandCode")


@case("TR061", "301", "no contact of Soort 01/02/03 left / Soort 03 becomes 02")
def _tr061(d: Doc, near: bool) -> None:
    contacts(d)
    if near:
        d.set(f"{C1}/Soort", "02")
    else:
        d.drop(C1)


@case("CS050", "301", "NaamGebruik 6 with a Partnernaam / 4 with it")
def _cs050(d: Doc, near: bool) -> None:
    d.set("Client/Relaties/Relatie[1]/Naam/NaamGebruik", "4" if near else "6")


@case("CS318", "301", "the client's NaamGebruik 6 / 1 (no Partnernaam)")
def _cs318(d: Doc, near: bool) -> None:
    d.drop("Client/Naam/Partnernaam")
    d.set("Client/Naam/NaamGebruik", "1" if near else "6")


# --- TR101: no duplicate lines (the logical key of each class, with the keys above it) ------------------


@case("TR101", "301", "two products with one ToewijzingNummer / with two")
def _tr101_301(d: Doc, near: bool) -> None:
    second = _second_product(d, overlap=False)
    d.set(f"{second}/ToewijzingNummer", "424242" if near else d.text(f"{ITEM['301']}[1]/ToewijzingNummer"))


@case("TR101", "301", "two contacts of one Soort / of two")
def _tr101_contact(d: Doc, near: bool) -> None:
    contacts(d)
    d.drop(f"{C2}/Periode")
    d.set(f"{C2}/Soort", "02" if near else d.text(f"{C1}/Soort"))


@case("TR101", "301", "two relations with one Nummer / with two")
def _tr101_relatie(d: Doc, near: bool) -> None:
    d.set("Client/Relaties/Relatie[2]/Nummer", "7" if near else d.text("Client/Relaties/Relatie[1]/Nummer"))


@case("TR101", "305", "the same StartProduct twice / once a day earlier")
def _tr101_305(d: Doc, near: bool) -> None:
    twin = "Client/StartProducten/StartProduct[2]"
    d.only("Client/StartProducten/StartProduct")
    d.copy("Client/StartProducten/StartProduct[1]")
    if near:
        d.set(f"{twin}/Begindatum", day(d.text(f"{twin}/Begindatum"), -1))


@case("TR101", "307", "the same StopProduct twice / with another RedenBeeindiging")
def _tr101_307(d: Doc, near: bool) -> None:
    twin = "Client/StopProducten/StopProduct[2]"
    d.only("Client/StopProducten/StopProduct")
    d.copy("Client/StopProducten/StopProduct[1]")
    if near:
        other = "02" if d.text(f"{twin}/RedenBeeindiging") != "02" else "20"
        d.set(f"{twin}/RedenBeeindiging", other)


@case("TR101", "317", "the same OngewijzigdProduct twice / two different ones")
def _tr101_317(d: Doc, near: bool) -> None:
    path = "Client/Verzoek/OngewijzigdeProducten/OngewijzigdProduct"
    twin = d.copy(f"{path}[1]")
    del twin
    if near:
        d.set(f"{path}[2]/ToewijzingNummer", "424242")


@case("TR101", "323 325", "two Prestaties of a client with one ReferentieNummer / with two")
def _tr101_prestatie(d: Doc, near: bool) -> None:
    p = PRESTATIE[number_of(d)]
    for key in ("ReferentieNummer", "VorigReferentieNummer"):  # the key: both (the second when present)
        ref = f"ProductReferentie/{key}"
        if d.has(f"{p}[1]/{ref}") and d.has(f"{p}[2]/{ref}"):
            d.set(f"{p}[2]/{ref}", f"{key[:2]}-OTHER" if near else d.text(f"{p}[1]/{ref}"))


@case("TR101", "323 325", "two clients with one BSN / with two")
def _tr101_client(d: Doc, near: bool) -> None:
    clients = "Declaratie/Clienten/Client" if number_of(d) == "323" else "DeclaratieAntwoord/Clienten/Client"
    d.set(f"{clients}[2]/Bsn", "123456782" if near else d.text(f"{clients}[1]/Bsn"))


# --- 305 / 307 ------------------------------------------------------------------------------------------


@case("CS058", "305", "StatusAanlevering 2 / 3")
def _cs058_305(d: Doc, near: bool) -> None:
    d.set("Client/StartProducten/StartProduct[1]/StatusAanlevering", "3" if near else "2")


@case("CS058", "307", "StatusAanlevering 2 / 3")
def _cs058_307(d: Doc, near: bool) -> None:
    d.set("Client/StopProducten/StopProduct[1]/StatusAanlevering", "3" if near else "2")


@case("TR018", "307", "Einddatum the day before / on the Begindatum")
def _tr018(d: Doc, near: bool) -> None:
    stop = "Client/StopProducten/StopProduct[1]"
    d.set(f"{stop}/Einddatum", day(d.text(f"{stop}/Begindatum"), 0 if near else -1))


# --- 323 declaratie ------------------------------------------------------------------------------------


def signed(d: Doc, path: str, total: bool = True) -> int:
    amount = int(d.text(f"{path}/{'TotaalBedrag' if total else 'Bedrag'}"))
    return -amount if d.text(f"{path}/DebetCredit") == "C" else amount


def set_signed(d: Doc, path: str, value: int) -> None:
    d.set(f"{path}/TotaalBedrag", str(abs(value)))
    d.set(f"{path}/DebetCredit", "C" if value < 0 else "D")


def prestaties_sum(d: Doc) -> int:
    root = "Declaratie" if number_of(d) == "323" else "DeclaratieAntwoord"
    amounts = d.all(f"{root}/Clienten/Client/Prestaties/Prestatie/IngediendBedrag")
    return sum(-int(a[0].text or 0) if (a[1].text or "") == "C" else int(a[0].text or 0) for a in amounts)


def balance(d: Doc) -> None:
    """Totals that agree with the Prestaties again: TR358 (323), TR342 (325, keeping what was granted)."""
    if number_of(d) == "323":
        set_signed(d, "Declaratie/TotaalIngediendBedrag", prestaties_sum(d))
    else:
        granted = signed(d, "DeclaratieAntwoord/TotaalToegekendBedrag")
        set_signed(d, "DeclaratieAntwoord/TotaalIngediendBedrag", granted + prestaties_sum(d))


def credit(d: Doc, prestatie: str, vorig: str) -> None:
    """Make a Prestatie a credit line for an earlier one."""
    d.set(f"{prestatie}/IngediendBedrag/DebetCredit", "C")
    d.put(f"{prestatie}/ProductReferentie", "VorigReferentieNummer", vorig, after=("ReferentieNummer",))


P1 = "Declaratie/Clienten/Client[1]/Prestaties/Prestatie[1]"
P2 = "Declaratie/Clienten/Client[1]/Prestaties/Prestatie[2]"


@case("CS100", "323", "a ProductPeriode in December 2020 / in January 2021")
def _cs100(d: Doc, near: bool) -> None:
    d.set("Declaratie/DeclaratieDagtekening", "2025-12-15")  # keeps TR335 (5 years) out of it
    begin = "2021-01-01" if near else "2020-12-01"
    d.set(f"{P1}/ProductPeriode/Begindatum", begin)
    d.set(f"{P1}/ProductPeriode/Einddatum", _last_day(begin))


@case("CS340", "323", "a DeclaratiePeriode of 28 days in a month of 30 or 31 / the whole of February")
def _cs340(d: Doc, near: bool) -> None:
    begin = d.text("Declaratie/DeclaratiePeriode/Begindatum")
    if near:
        d.set("Declaratie/DeclaratiePeriode/Begindatum", begin[:5] + "02-01")
        d.set("Declaratie/DeclaratiePeriode/Einddatum", _last_day(begin[:5] + "02-01"))
    else:
        d.set("Declaratie/DeclaratiePeriode/Einddatum", day(begin, 27))


@case("CS337", "323", "a ProductPeriode into the next month / ending on the 29th")
def _cs337(d: Doc, near: bool) -> None:
    begin = d.text(f"{P1}/ProductPeriode/Begindatum")
    d.set(f"{P1}/ProductPeriode/Einddatum", begin[:8] + "29" if near else day(_last_day(begin[:8] + "01"), 1))


@case("TR137", "323 325", "a ProductPeriode ending the day before it begins / on that day")
def _tr137(d: Doc, near: bool) -> None:
    periode = f"{PRESTATIE[number_of(d)]}[1]/ProductPeriode"
    middle = d.text(f"{periode}/Begindatum")[:8] + "15"
    d.set(f"{periode}/Begindatum", middle)
    d.set(f"{periode}/Einddatum", middle if near else day(middle, -1))


@case("CD060", "323", "a debit line with a VorigReferentieNummer / a credit line with one")
def _cd060_323(d: Doc, near: bool) -> None:
    d.put(f"{P1}/ProductReferentie", "VorigReferentieNummer", "RT-EARLIER", after=("ReferentieNummer",))
    if near:
        d.set(f"{P1}/IngediendBedrag/DebetCredit", "C")
        balance(d)


@case("CD060", "325", "a credit line without a VorigReferentieNummer / a debit line without one")
def _cd060_325(d: Doc, near: bool) -> None:
    line = f"{PRESTATIE['325']}[1]"
    d.drop(f"{line}/ProductReferentie/VorigReferentieNummer")
    if near:
        d.set(f"{line}/IngediendBedrag/DebetCredit", "D")
        balance(d)


@case("CD087", "323", "Eenheid 04 without ProductTarief / Eenheid 83 without it")
def _cd087(d: Doc, near: bool) -> None:
    d.drop(f"{P1}/ProductTarief")
    if near:
        d.set(f"{P1}/Eenheid", "83")
        d.set(f"{P1}/GeleverdVolume", d.text(f"{P1}/IngediendBedrag/Bedrag"))


@case("CS339", "323", "Eenheid 83 with GeleverdVolume other than / equal to the amount")
def _cs339(d: Doc, near: bool) -> None:
    d.drop(f"{P1}/ProductTarief")
    d.set(f"{P1}/Eenheid", "83")
    amount = int(d.text(f"{P1}/IngediendBedrag/Bedrag"))
    d.set(f"{P1}/GeleverdVolume", str(amount if near else amount + 1))


@case("CS325", "323", "amount 0 as credit / as debit")
def _cs325_323(d: Doc, near: bool) -> None:
    d.set(f"{P1}/IngediendBedrag/Bedrag", "0")
    if not near:
        credit(d, P1, "RT-EARLIER")
    balance(d)


@case("CS325", "325", "a credit line of 0 / a debit line of 0")
def _cs325_325(d: Doc, near: bool) -> None:
    line = f"{PRESTATIE['325']}[1]"
    d.set(f"{line}/IngediendBedrag/Bedrag", "0")
    if near:
        d.drop(f"{line}/ProductReferentie/VorigReferentieNummer")
        d.set(f"{line}/IngediendBedrag/DebetCredit", "D")
    balance(d)


@case("TR315", "323", "two credit lines for one earlier line / for two")
def _tr315(d: Doc, near: bool) -> None:
    credit(d, P1, "RT-EARLIER")
    credit(d, P2, "RT-OTHER" if near else "RT-EARLIER")
    balance(d)


@case("TR316", "323", "crediting a debit line of the same message / an earlier one")
def _tr316(d: Doc, near: bool) -> None:
    credit(d, P2, "RT-EARLIER" if near else d.text(f"{P1}/ProductReferentie/ReferentieNummer"))
    balance(d)


@case("TR335", "323", "declared 5 years and a day / exactly 5 years after the ProductPeriode ended")
def _tr335(d: Doc, near: bool) -> None:
    ends = d.all("Declaratie/Clienten/Client/Prestaties/Prestatie/ProductPeriode/Einddatum")
    ended = min(date.fromisoformat(e.text or "") for e in ends)  # the line that ended first
    later = ended.replace(year=ended.year + 5)
    d.set("Declaratie/DeclaratieDagtekening", day(later, 0 if near else 1))


@case("TR358", "323", "a total one cent off / a line and the total both a euro more")
def _tr358(d: Doc, near: bool) -> None:
    if near:
        amount = d.one(f"{P1}/IngediendBedrag/Bedrag")
        amount.text = str(int(amount.text or 0) + 100)
        balance(d)
    else:
        total = d.one("Declaratie/TotaalIngediendBedrag/TotaalBedrag")
        total.text = str(int(total.text or 0) + 1)


@case("TR416", "323", "a second debit line for the same product and period / a credit line")
def _tr416(d: Doc, near: bool) -> None:
    twin = d.copy(P1)
    twin_path = P2
    del twin
    d.set(f"{twin_path}/ProductReferentie/ReferentieNummer", "RN-TWIN")
    if near:
        credit(d, twin_path, "RT-EARLIER")
    balance(d)


# --- 325 declaratie-antwoord ---------------------------------------------------------------------------


@case("TR342", "325", "TotaalToegekendBedrag a euro more / both totals a euro more")
def _tr342(d: Doc, near: bool) -> None:
    granted = "DeclaratieAntwoord/TotaalToegekendBedrag"
    set_signed(d, granted, signed(d, granted) + 100)
    if near:
        asked = "DeclaratieAntwoord/TotaalIngediendBedrag"
        set_signed(d, asked, signed(d, asked) + 100)


def judged_messages() -> list[bytes]:
    """Every official example and every rule case, breaking and near miss: the messages the rules judge."""
    found = [p.read_bytes() for p in sorted(SHARED.glob("i*-3.2/examples/*.xml"))]
    for case in CASES:
        for name in case.names():
            for near in (False, True):
                doc = Doc(name)
                (case.keeps if near else case.breaks)(doc)
                found.append(doc.data())
    return found
