"""Requests as the chain's own software sends them: StUF-GGk envelopes, SOAP 1.1, VSP with a ZIP."""

from __future__ import annotations

import base64
import io
import uuid
import zipfile
from collections.abc import Iterable, Sequence

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
VSP_NS = "urn:gegevensknooppunt:vsp:1"
GGK_DI01 = "http://www.stufstandaarden.nl/koppelvlak/ggk0210/ggk_Di01"


def ref() -> str:
    """A fresh referentienummer (lowercase UUID v4)."""
    return str(uuid.uuid4())


def stuf(
    payload: bytes,
    zender: str,
    ontvanger: str,
    functie: str,
    kind: str = "Di01",
    referentienummer: str | None = None,
    cross_refnummer: str | None = None,
    tijdstip: str = "20260302091500",
    content: str | None = None,
) -> bytes:
    """A ggk0210 Di01/Du01 envelope carrying ``payload`` (``content`` replaces the base64 text)."""
    root = "envelopHeenbericht-ggk_Di01" if kind == "Di01" else "envelopRetourbericht-ggk_Du01"
    cross = f"<StUF:crossRefnummer>{cross_refnummer}</StUF:crossRefnummer>" if kind == "Du01" else ""
    encoded = content if content is not None else base64.b64encode(payload).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<GGK:{root} xmlns:StUF="http://www.egem.nl/StUF/StUF0301" xmlns:GGK="http://www.stufstandaarden.nl/koppelvlak/ggk0210">
  <GGK:stuurgegevens>
    <StUF:berichtcode>{kind}</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>{zender}</StUF:organisatie><StUF:applicatie>Jw Applicatie</StUF:applicatie></StUF:zender>
    <StUF:ontvanger><StUF:organisatie>{ontvanger}</StUF:organisatie><StUF:applicatie>GGk</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>{referentienummer or ref()}</StUF:referentienummer>
    <StUF:tijdstipBericht>{tijdstip}</StUF:tijdstipBericht>
    {cross}
    <StUF:functie>{functie}</StUF:functie>
  </GGK:stuurgegevens>
  <GGK:parameters>
    <GGK:applicatieVersie>0001</GGK:applicatieVersie>
    <GGK:applicatieSubversie>0000</GGK:applicatieSubversie>
    <GGK:functieVersie>0003</GGK:functieVersie>
    <GGK:functieSubversie>0002</GGK:functieSubversie>
    <GGK:bericht><GGK:xmlBestand>{encoded}</GGK:xmlBestand></GGK:bericht>
  </GGK:parameters>
</GGK:{root}>
""".encode()


def in_soap(body: bytes, headers: str = "") -> bytes:
    """``body`` (an XML document, its declaration dropped) as the Body of a SOAP 1.1 envelope."""
    text = body.decode()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    header = f"<soap:Header>{headers}</soap:Header>" if headers else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="{SOAP11}">'
        f"{header}<soap:Body>{text}</soap:Body></soap:Envelope>"
    ).encode()


def zip_of(files: Iterable[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def routering(
    agb: str,
    geadresseerden: Sequence[str],
    subtypes: Sequence[str],
    berichttype: str = "JW",
    versie: str = "3",
    subversie: str = "2",
    conversatie_id: str | None = None,
    traceer_id: str | None = None,
    rol: str = "Zorgaanbieder",
) -> str:
    """The vsp:Routering SOAP header block."""
    addressees = "".join(f"<vsp:Geadresseerde>{g}</vsp:Geadresseerde>" for g in geadresseerden)
    types = "".join(f"<vsp:Berichtsubtype>{t}</vsp:Berichtsubtype>" for t in subtypes)
    return (
        f'<vsp:Routering xmlns:vsp="{VSP_NS}">'
        f"<vsp:Afzender><vsp:Rol>{rol}</vsp:Rol><vsp:AgbCode>{agb}</vsp:AgbCode></vsp:Afzender>"
        f"<vsp:Geadresseerden>{addressees}</vsp:Geadresseerden>"
        f"<vsp:Berichttype>{berichttype}</vsp:Berichttype>{types}"
        f"<vsp:Versie>{versie}</vsp:Versie><vsp:Subversie>{subversie}</vsp:Subversie>"
        f"<vsp:ConversatieId>{conversatie_id or ref()}</vsp:ConversatieId>"
        f"<vsp:TraceerId>{traceer_id or ref()}</vsp:TraceerId>"
        "</vsp:Routering>"
    )


def indienen(archive: bytes, header: str, content: str | None = None) -> bytes:
    """A SOAP 1.1 IndienenBericht with ``header`` and the archive (or ``content``) in vsp:Bestand."""
    encoded = content if content is not None else base64.b64encode(archive).decode()
    body = f'<vsp:IndienenBericht xmlns:vsp="{VSP_NS}"><vsp:Bestand>{encoded}</vsp:Bestand></vsp:IndienenBericht>'
    return in_soap(body.encode(), header)
