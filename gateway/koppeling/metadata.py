"""``berichtMetadata`` of the push interface and the bodies of pull and status, field for field as the specs.

The models follow VECOZO's OpenAPI specifications (REST Push 1.0.3, REST Pull 1.0.1, Berichtstatus V3 3.0.0):
names, required fields, lengths, ranges, ``format: uuid`` and ``additionalProperties: false``. A value the
spec does not allow (also an explicit ``null``) is a fault of the request (400). Pure: no I/O.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.koppeling.problems import BadRequest

Code100 = Annotated[StrictStr, Field(min_length=1, max_length=100)]
Text60 = Annotated[StrictStr, Field(min_length=1, max_length=60)]
Versie = Annotated[StrictInt, Field(ge=0, le=999)]


class _Strict(BaseModel):
    """No unknown fields, no ``null`` for a field the spec does not make nullable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            nulls = [key for key, value in data.items() if value is None]
            if nulls:
                raise ValueError(f"{', '.join(map(str, nulls))} may not be null")
        return data


def _uuid(value: Any) -> str:
    """A UUID in its canonical hyphenated form (``format: uuid``)."""
    if not isinstance(value, str) or len(value) != 36:
        raise ValueError("not a UUID")
    return str(uuid.UUID(value))


class Relatie(_Strict):
    rol: Code100
    code: Code100 | None = None


class Berichtstroom(_Strict):
    """Which exchange a message belongs to: for iJw/iWmo the message (``WMO315``), version and subversion."""

    berichttype: Text60
    berichtsubtype: Text60 | None = None
    berichtversie: Versie
    berichtsubversie: Versie
    actie: Text60


class Routeringgegevens(_Strict):
    afzender: Relatie
    geadresseerden: Annotated[list[Relatie], Field(max_length=100)]
    berichtstroom: Berichtstroom


class Referentiegegevens(_Strict):
    conversatieId: str
    traceerId: str
    alsAntwoordOp: str | None = None
    referentieId: Annotated[StrictStr, Field(min_length=1, max_length=150)] | None = None

    _ids = field_validator("conversatieId", "traceerId", "alsAntwoordOp", mode="before")(
        lambda value: _uuid(value)
    )


class SleutelWaardePaar(_Strict):
    sleutel: Code100
    waarde: Annotated[
        list[Annotated[StrictStr, Field(min_length=1, max_length=250)]], Field(min_length=1, max_length=100)
    ]


Verwerkingscontext = Annotated[list[SleutelWaardePaar], Field(min_length=1, max_length=100)]


class PushMetadata(_Strict):
    """``BerichtMetadata`` of REST Push: routing and references a sender states beside the payload."""

    routeringgegevens: Routeringgegevens
    referentiegegevens: Referentiegegevens
    verwerkingscontext: Verwerkingscontext | None = None


def read_metadata(raw: bytes) -> PushMetadata:
    """The ``berichtMetadata`` part: JSON that the spec's schema allows, else :class:`BadRequest`."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("berichtMetadata is not JSON", {"berichtMetadata": ["is not valid JSON"]}) from None
    try:
        return PushMetadata.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(
            "berichtMetadata does not follow the specification", _errors(exc, "berichtMetadata")
        ) from None


def _errors(exc: ValidationError, root: str) -> dict[str, list[str]]:
    """The validation errors by the path of the field (``berichtMetadata.referentiegegevens.traceerId``)."""
    out: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        path = ".".join([root, *(str(p) for p in error["loc"])])
        out.setdefault(path, []).append(str(error["msg"]))
    return out


# --- what pull and status answer -------------------------------------------------------------------------


class Checksum(_Strict):
    algoritme: Annotated[str, Field(min_length=1, max_length=10)]
    waarde: Annotated[str, Field(min_length=1, max_length=250)]


class HTTPSDownload(_Strict):
    url: str = Field(json_schema_extra={"format": "uri"})
    grootte: Annotated[int, Field(ge=1)]
    checksum: Checksum


class Basisgegevens(_Strict):
    ontvangenOp: datetime
    payload: HTTPSDownload


class PulledRouteringgegevens(_Strict):
    afzender: Relatie
    geadresseerden: Annotated[list[Relatie], Field(min_length=1, max_length=100)]
    berichtstroom: Berichtstroom


class PulledMetadata(_Strict):
    """``BerichtMetadata`` of REST Pull: one message ready for its addressee, with where to fetch it."""

    basisgegevens: Basisgegevens
    routeringgegevens: PulledRouteringgegevens
    referentiegegevens: Referentiegegevens
    verwerkingscontext: Verwerkingscontext | None = None


Berichtstatus = Literal[
    "Ontvangen",
    "DeelsOntvangen",
    "DeelberichtAanleveringAfgekeurd",
    "WordtVerwerkt",
    "AfgekeurdDoorDienst",
    "VerwerkingVoltooid",
    "WordtAangeboden",
    "Bezorgd",
    "AanbiedenMislukt",
    "BezorgingAfgebroken",
]


class Melding(_Strict):
    """A (fault) report on a refused message: VECOZO's code (BRS..) or the rule code, and its text."""

    code: Annotated[str, Field(min_length=1)]
    omschrijving: Annotated[str, Field(min_length=1)]
    toelichting: Annotated[str, Field(min_length=1)] | None = None


class BerichtstatusGegevens(_Strict):
    referentiegegevens: Referentiegegevens
    berichtstroom: Berichtstroom
    berichtstatus: Berichtstatus
    berichtstatusGewijzigdOp: datetime
    meldingen: Annotated[list[Melding], Field(min_length=1, max_length=100)] | None = None
    berichtOntvangenOp: datetime


ZoekpadType = Literal["ZoekpadOpBerichtstroom", "ZoekpadOpConversatieId", "ZoekpadOpAlsAntwoordOp"]


class Zoekpad(_Strict):
    """One of the three search paths of ``POST /berichten/zoeken`` (``zoekpadType`` says which)."""

    zoekpadType: ZoekpadType
    berichttype: Text60 | None = None
    berichtsubtype: Text60 | None = None
    berichtversie: Versie | None = None
    berichtsubversie: Versie | None = None
    actie: Text60 | None = None
    geadresseerdeRol: Code100 | None = None
    geadresseerdeCode: Code100 | None = None
    conversatieId: str | None = None
    alsAntwoordOp: str | None = None

    _ids = field_validator("conversatieId", "alsAntwoordOp", mode="before")(lambda value: _uuid(value))

    @model_validator(mode="after")
    def _complete(self) -> Zoekpad:
        needs = {
            "ZoekpadOpBerichtstroom": ("berichttype",),
            "ZoekpadOpConversatieId": ("conversatieId",),
            "ZoekpadOpAlsAntwoordOp": ("alsAntwoordOp",),
        }[self.zoekpadType]
        allowed = {
            "ZoekpadOpBerichtstroom": {
                "berichttype",
                "berichtsubtype",
                "berichtversie",
                "berichtsubversie",
                "actie",
                "geadresseerdeRol",
                "geadresseerdeCode",
            },
            "ZoekpadOpConversatieId": {"conversatieId"},
            "ZoekpadOpAlsAntwoordOp": {"alsAntwoordOp"},
        }[self.zoekpadType]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.zoekpadType} needs {', '.join(missing)}")
        extra = sorted(name for name in self.model_fields_set - {"zoekpadType"} if name not in allowed)
        if extra:
            raise ValueError(f"{self.zoekpadType} does not take {', '.join(extra)}")
        return self


def read_zoekpad(raw: bytes) -> Zoekpad:
    """The search path of ``POST /berichten/zoeken``, else :class:`BadRequest`."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the search path is not JSON", {"zoekpad": ["is not valid JSON"]}) from None
    try:
        return Zoekpad.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(
            "the search path does not follow the specification", _errors(exc, "zoekpad")
        ) from None
