"""``berichtMetadata`` of the push interface and the bodies of pull and status, field for field as the specs.

The models follow VECOZO's OpenAPI specifications (REST Push 1.0.3, REST Pull 1.0.1, Berichtstatus V3 3.0.0):
names, required fields, lengths, ranges, ``format: uuid`` and ``additionalProperties: false``. A value the
spec does not allow (also an explicit ``null``) is a fault of the request (400). The bytes are read by
pydantic-core's own JSON parser, every rule checked there (no Python validator per object): an explicit
``null`` is looked for afterwards, only in a body that holds the word. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import SchemaValidator

from gateway.koppeling.problems import BadRequest

_M = TypeVar("_M", bound=BaseModel)
Code100 = Annotated[StrictStr, Field(min_length=1, max_length=100)]
Text60 = Annotated[StrictStr, Field(min_length=1, max_length=60)]
Versie = Annotated[StrictInt, Field(ge=0, le=999, json_schema_extra={"format": "int32"})]
# ``format: uuid``: the hyphenated form, kept in lower case (its canonical form)
Uuid = Annotated[
    StrictStr,
    Field(
        pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
        json_schema_extra={"format": "uuid"},
    ),
    AfterValidator(str.lower),
]


class _Strict(BaseModel):
    """No unknown fields; ``null`` for a field the spec does not make nullable is found by :func:`_nulls`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _nulls(model: BaseModel, path: str) -> list[str]:
    """The fields given as an explicit ``null`` (none of the specs' fields is nullable), by their path."""
    found: list[str] = []
    for name in model.model_fields_set:
        value = getattr(model, name)
        if value is None:
            found.append(f"{path}.{name}")
        elif isinstance(value, BaseModel):
            found += _nulls(value, f"{path}.{name}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += _nulls(item, f"{path}.{name}.{i}")
    return found


def _read(model: type[_M], raw: bytes, root: str, what: str) -> _M:
    """``raw`` as ``model``, else :class:`BadRequest` naming the fields (``root.field.subfield``)."""
    try:
        found = model.model_validate_json(raw)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors(include_url=False)):
            raise BadRequest(f"{what} is not JSON", {root: ["is not valid JSON"]}) from None
        raise BadRequest(f"{what} does not follow the specification", _errors(exc, root)) from None
    if b"null" in raw:  # a null can only be where the word is
        nulls = _nulls(found, root)
        if nulls:
            raise BadRequest(
                f"{what} does not follow the specification", {path: ["may not be null"] for path in nulls}
            )
    return found


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
    conversatieId: Uuid
    traceerId: Uuid
    alsAntwoordOp: Uuid | None = None
    referentieId: Annotated[StrictStr, Field(min_length=1, max_length=150)] | None = None


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
    return _read(PushMetadata, raw, "berichtMetadata", "berichtMetadata")


def _as_dicts(schema: Any) -> Any:
    """A model's core schema as one that validates the same JSON into dicts: each model a typed dict of its
    fields (the same field schemas, so the same checks and values; unknown fields refused as the models'
    ``extra="forbid"``), an optional field left out when absent (no default filled in)."""
    if isinstance(schema, list):
        return [_as_dicts(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") != "model":
        return {
            key: value if key in ("metadata", "cls", "config") else _as_dicts(value)
            for key, value in schema.items()
        }
    fields: dict[str, Any] = {}
    for name, field in schema["schema"]["fields"].items():
        inner = field["schema"]
        required = inner["type"] != "default"
        fields[name] = {
            "type": "typed-dict-field",
            "schema": _as_dicts(inner if required else inner["schema"]),
            "required": required,
        }
    found = {"type": "typed-dict", "fields": fields, "extra_behavior": "forbid"}
    if "ref" in schema:
        found["ref"] = schema["ref"]
    return found


# ``PushMetadata`` read into dicts: the six models' instances are two thirds of what reading it costs
_PUSH_DICTS: Final = SchemaValidator(_as_dicts(PushMetadata.__pydantic_core_schema__))


def read_stated(raw: bytes) -> dict[str, Any]:
    """:func:`read_metadata` as JSON, as ``model_dump(exclude_none=True)`` of what it reads gives it (every
    model's fields in their order, an optional one only when given): the same metadata accepted with the same
    values, any other refused with the same :class:`BadRequest`. Metadata without an explicit ``null`` is read
    by the models' own field checks into dicts, without building the six models (two thirds of the cost)."""
    if b"null" not in raw:
        try:
            found: dict[str, Any] = _PUSH_DICTS.validate_json(raw)
        except ValidationError:
            pass  # refused: read_metadata names the faults
        else:
            return found
    return read_metadata(raw).model_dump(exclude_none=True)


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
    grootte: Annotated[int, Field(ge=1, json_schema_extra={"format": "int64"})]
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
    conversatieId: Uuid | None = None
    alsAntwoordOp: Uuid | None = None

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
    return _read(Zoekpad, raw, "zoekpad", "the search path")
