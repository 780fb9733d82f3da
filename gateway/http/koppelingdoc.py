"""VECOZO's REST operations in the provider node's OpenAPI document, with the specs' schemas and answers.

Each operation is described as VECOZO's specification describes it (REST Push 1.0.3, REST Pull 1.0.1,
Berichtstatus V3 3.0.0): its parameters (``limit`` 1-250, ``traceerId``/``conversatieId`` as UUIDs), its
request body, its answers with their status codes and schemas (``ValidationProblemDetails`` as
``application/json`` for 400 and 422, a bare 404 on pull), plus what the node adds as every operation does:
the security (client certificate or credential) and the 401, 429 and 503 problem answers, and an example of
every body. The schemas come from the models the interface validates with (:mod:`gateway.koppeling.metadata`),
in the spec's form: nothing nullable, the spec's formats. The same operations are served under ``/tst`` and
``/acc`` when the node runs those environments.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any, Final

from gateway.http.contract import PARTY, json_answer, problem
from gateway.koppeling.metadata import BerichtstatusGegevens, PulledMetadata, PushMetadata

PUSH: Final = "/berichtenservice/berichten/rest-push/v1"
PULL: Final = "/berichtenservice/berichten/rest-pull/v1"
STATUS: Final = "/berichtenservice/berichtstatus/rest-pull/v3"
REF: Final = "#/components/schemas/{model}"
TAG: Final = "VECOZO REST (VSP-Koppeling)"

VALIDATION_PROBLEM_DETAILS: Final[dict[str, Any]] = {
    "type": "object",
    "description": "RFC 7807 problem details as VECOZO answers them; a refused message (422) also carries "
    "`code` (its BRS code), `meldingen` (the code, then each error with its rule code and place) and the "
    "`traceerId`.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "format": "int32"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "additionalProperties": {},
}

_ZOEKPAD_TYPES: Final = ("ZoekpadOpBerichtstroom", "ZoekpadOpConversatieId", "ZoekpadOpAlsAntwoordOp")
_STRING_60: Final = {"type": "string", "minLength": 1, "maxLength": 60}
_STRING_100: Final = {"type": "string", "minLength": 1, "maxLength": 100}
_VERSIE: Final = {"type": "integer", "minimum": 0, "maximum": 999}
_UUID: Final = {"type": "string", "format": "uuid"}


def _zoekpad(description: str, required: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "allOf": [{"$ref": REF.format(model="Zoekpad")}],
        "required": [required],
        "properties": properties,
        "additionalProperties": False,
    }


ZOEKPADEN: Final[dict[str, dict[str, Any]]] = {
    "Zoekpad": {
        "type": "object",
        "required": ["zoekpadType"],
        "properties": {"zoekpadType": {"type": "string"}},
        "discriminator": {
            "propertyName": "zoekpadType",
            "mapping": {name: REF.format(model=name) for name in _ZOEKPAD_TYPES},
        },
        "additionalProperties": False,
    },
    "ZoekpadOpBerichtstroom": _zoekpad(
        "Berichten o.b.v. de berichtstroom en evt. de geadresseerde.",
        "berichttype",
        {
            "berichttype": _STRING_60,
            "berichtsubtype": _STRING_60,
            "berichtversie": _VERSIE,
            "berichtsubversie": _VERSIE,
            "actie": _STRING_60,
            "geadresseerdeRol": _STRING_100,
            "geadresseerdeCode": _STRING_100,
        },
    ),
    "ZoekpadOpConversatieId": _zoekpad(
        "Berichten o.b.v. het Conversatie ID.", "conversatieId", {"conversatieId": _UUID}
    ),
    "ZoekpadOpAlsAntwoordOp": _zoekpad(
        "Berichten die een bericht beantwoorden (het Traceer ID van het heenbericht).",
        "alsAntwoordOp",
        {"alsAntwoordOp": _UUID},
    ),
}


def spec_form(schema: Any) -> Any:
    """A pydantic JSON schema in the specs' form: an optional field is absent, never ``null``; no titles and
    no ``default: null``."""
    if isinstance(schema, list):
        return [spec_form(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" or (key == "default" and value is None):
            continue
        if key == "anyOf" and isinstance(value, list) and {"type": "null"} in value:
            rest = [v for v in value if v != {"type": "null"}]
            if len(rest) == 1:
                out.update(spec_form(rest[0]))
                continue
            value = rest
        out[key] = spec_form(value)
    return out


def components() -> dict[str, dict[str, Any]]:
    """The schemas the operations refer to, by name."""
    found: dict[str, dict[str, Any]] = {}
    for model in (PushMetadata, PulledMetadata, BerichtstatusGegevens):
        schema = model.model_json_schema(ref_template=REF)
        for name, definition in schema.pop("$defs", {}).items():
            found[name] = spec_form(definition)
        found[model.__name__] = spec_form(schema)
    found.update(deepcopy(ZOEKPADEN))
    found["ValidationProblemDetails"] = deepcopy(VALIDATION_PROBLEM_DETAILS)
    return found


# --- examples -------------------------------------------------------------------------------------------

_TRACEER, _CONVERSATIE, _ANTWOORD = (
    "5c0a3f7e-2d1b-4f7a-9e3c-1a2b3c4d5e6f",
    "8f14e45f-ceea-467f-a0e6-0b1c2d3e4f50",
    "e1efb57c-9e95-478f-976a-3a80cf797129",
)
_AANBIEDER, _GEMEENTE = ("Zorgaanbieder", "42420001"), ("Gemeente", "0384")


def _routering(
    afzender: tuple[str, str], geadresseerde: tuple[str, str], berichttype: str, actie: str
) -> Any:
    """The routeringgegevens of an example message (iWmo 3.2) between two parties, each (rol, code)."""
    return {
        "afzender": dict(zip(("rol", "code"), afzender, strict=True)),
        "geadresseerden": [dict(zip(("rol", "code"), geadresseerde, strict=True))],
        "berichtstroom": {
            "berichttype": berichttype,
            "berichtversie": 3,
            "berichtsubversie": 2,
            "actie": actie,
        },
    }


_PUSHED: Final = _routering(_AANBIEDER, _GEMEENTE, "WMO315", "Indienen")
PUSH_METADATA: Final = {
    "routeringgegevens": _PUSHED,
    "referentiegegevens": {"conversatieId": _CONVERSATIE, "traceerId": _TRACEER},
}
PULLED: Final = {
    "basisgegevens": {
        "ontvangenOp": "2026-12-07T09:15:02.118000+00:00",
        "payload": {
            "url": f"https://gateway.example{PULL}/berichten/{_ANTWOORD}/payload",
            "grootte": 3721,
            "checksum": {
                "algoritme": "SHA256",
                "waarde": "572872fa7358008060ae2d0f91b4ee2df8cf1c26f521413f5036fb6ad913ce69",
            },
        },
    },
    "routeringgegevens": _routering(_GEMEENTE, _AANBIEDER, "WMO316", "Verzenden"),
    "referentiegegevens": {"conversatieId": _CONVERSATIE, "traceerId": _ANTWOORD, "alsAntwoordOp": _TRACEER},
}
STATUSSEN: Final = [
    {
        "referentiegegevens": {"conversatieId": _CONVERSATIE, "traceerId": _TRACEER},
        "berichtstroom": _PUSHED["berichtstroom"],
        "berichtstatus": "Bezorgd",
        "berichtstatusGewijzigdOp": "2026-12-07T09:14:58.402000+00:00",
        "berichtOntvangenOp": "2026-12-07T09:14:57.930000+00:00",
    },
    {
        "referentiegegevens": {
            "conversatieId": _CONVERSATIE,
            "traceerId": "0b7e2c1d-3a4f-4e5d-8c9b-7a6f5e4d3c2b",
        },
        "berichtstroom": _PUSHED["berichtstroom"],
        "berichtstatus": "AfgekeurdDoorDienst",
        "berichtstatusGewijzigdOp": "2026-12-07T09:16:12.010000+00:00",
        "berichtOntvangenOp": "2026-12-07T09:16:12.004000+00:00",
        "meldingen": [
            {"code": "BRS28", "omschrijving": "Het bericht is afgekeurd op basis van XSLT-controles"},
            {
                "code": "CS002",
                "omschrijving": "BSN voldoet niet aan de elfproef",
                "toelichting": "regel 14 /Bericht/Client/Bsn retourcode 8001",
            },
        ],
    },
]
BAD_REQUEST: Final = {
    "type": "urn:gegevensknooppunt:vecozo:bad-request",
    "title": "Het verzoek voldoet niet aan de specificatie",
    "status": 400,
    "detail": "berichtMetadata does not follow the specification",
    "instance": f"{PUSH}/berichten",
    "errors": {"berichtMetadata.referentiegegevens.traceerId": ["Field required"]},
}
REFUSED: Final = {
    "type": "urn:gegevensknooppunt:vecozo:BRS13",
    "title": "Berichtinhoud voldoet niet aan XSD",
    "status": 422,
    "detail": "the message does not conform to its schema",
    "instance": f"{PUSH}/berichten",
    "errors": {
        "payload": ["BRS13: Berichtinhoud voldoet niet aan XSD (regel 12 /Bericht/Client/Geboortedatum)"]
    },
    "code": "BRS13",
    "meldingen": [
        {"code": "BRS13", "omschrijving": "Berichtinhoud voldoet niet aan XSD"},
        {
            "code": "BRS13",
            "omschrijving": "Element Datum: not a valid date",
            "toelichting": "regel 12 /Bericht/Client/Geboortedatum",
        },
    ],
    "traceerId": _TRACEER,
}
UNAVAILABLE: Final = {
    "type": "urn:gegevensknooppunt:vecozo:unavailable",
    "title": "Service temporarily unavailable, retry later",
    "status": 503,
    "detail": "the broker did not confirm the message",
    "instance": f"{PUSH}/berichten",
}
LIMIT_FAULT: Final = {
    "type": "urn:gegevensknooppunt:vecozo:bad-request",
    "title": "Het verzoek voldoet niet aan de specificatie",
    "status": 400,
    "detail": "limit is out of range",
    "instance": f"{PULL}/berichten",
    "errors": {"limit": ["must be a whole number from 1 to 250"]},
}


# --- operations -----------------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _problems(example: dict[str, Any], description: str) -> dict[str, Any]:
    return json_answer(description, _ref("ValidationProblemDetails"), example)


def _node(*statuses: int) -> dict[str, Any]:
    """What the node answers beside the spec, as every operation of the node (problem+json); a 503 after
    the caller is known comes as the interface's own problem details."""
    out = {str(status): problem(status) for status in statuses}
    if "503" in out:
        out["503"] = deepcopy(out["503"])
        out["503"]["content"]["application/json"] = {
            "schema": _ref("ValidationProblemDetails"),
            "example": UNAVAILABLE,
        }
    return out


_LIMIT: Final = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "Maximaal kunnen er 250 berichten worden teruggegeven. Wanneer limit niet wordt "
    "meegegeven dan default 250 berichten.",
    "schema": {"type": "integer", "minimum": 1, "maximum": 250, "default": 250},
    "example": 50,
}
_TRACEER_PATH: Final = {
    "name": "traceerId",
    "in": "path",
    "required": True,
    "schema": _UUID,
    "example": _ANTWOORD,
}
_PULL_LIST: Final = json_answer(
    "Success: the oldest messages ready (at most `limit`), each with where to fetch its payload",
    {"type": "array", "items": _ref("PulledMetadata")},
    [PULLED],
)


def operations() -> dict[str, dict[str, dict[str, Any]]]:
    """Each VECOZO REST operation of the node, by path and method."""
    common = {"tags": [TAG], "security": PARTY}
    return {
        f"{PUSH}/berichten": {
            "post": {
                **common,
                "operationId": "PostBericht",
                "summary": "Verstuur een bericht naar de ontvanger.",
                "description": "The payload goes through the node's one ingest pipeline; the metadata must "
                "agree with it. 204 once the broker confirmed the message; a refusal is 422 with the BRS "
                "code (do not send the same request again).",
                "requestBody": {
                    "required": True,
                    "description": "Bericht, bestaande uit metadata en payload.",
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["berichtMetadata", "payload"],
                                "properties": {
                                    "berichtMetadata": _ref("PushMetadata"),
                                    "payload": {"type": "string", "format": "binary"},
                                },
                            },
                            "encoding": {
                                "berichtMetadata": {"contentType": "application/json"},
                                "payload": {"contentType": "application/octet-stream"},
                            },
                            "example": {"berichtMetadata": PUSH_METADATA, "payload": "<Bericht ...>"},
                        }
                    },
                },
                "responses": {
                    "204": {"description": "Success"},
                    "400": _problems(BAD_REQUEST, "Bad request: a part missing, metadata not as the spec"),
                    "422": _problems(
                        REFUSED,
                        "Unprocessable Content. De ontvangst faalt, indiener probeert hetzelfde request niet "
                        "opnieuw (BRS code in `code`, `meldingen`).",
                    ),
                    **_node(401, 429, 503),
                },
            }
        },
        f"{PULL}/berichten": {
            "get": {
                **common,
                "operationId": "GetBerichten",
                "summary": "Haal gereedstaande berichten op.",
                "parameters": [_LIMIT],
                "responses": {
                    "200": _PULL_LIST,
                    "400": _problems(LIMIT_FAULT, "Bad request: `limit` out of range"),
                    **_node(401, 429, 503),
                },
            }
        },
        f"{PULL}/berichten/zoeken": {
            "post": {
                **common,
                "operationId": "ZoekBerichten",
                "summary": "Haal gereedstaande berichten op o.b.v. zoekfilters.",
                "parameters": [_LIMIT],
                "requestBody": {
                    "required": True,
                    "description": "Zoekpad",
                    "content": {
                        "application/json": {
                            "schema": _ref("Zoekpad"),
                            "example": {"zoekpadType": "ZoekpadOpAlsAntwoordOp", "alsAntwoordOp": _TRACEER},
                        }
                    },
                },
                "responses": {
                    "200": _PULL_LIST,
                    "400": _problems(
                        LIMIT_FAULT, "Bad request: `limit` out of range or a search path not as the spec"
                    ),
                    **_node(401, 429, 503),
                },
            }
        },
        f"{PULL}/berichten/{{traceerId}}/payload": {
            "get": {
                **common,
                "operationId": "GetPayload",
                "summary": "Haal de payload van een bericht op.",
                "parameters": [_TRACEER_PATH],
                "responses": {
                    "200": {
                        "description": "Success",
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"},
                                "example": "<Bericht ...>",
                            }
                        },
                    },
                    "404": {"description": "Bericht is onbekend of niet (meer) beschikbaar ter pull."},
                    **_node(401, 429, 503),
                },
            }
        },
        f"{PULL}/berichten/{{traceerId}}": {
            "delete": {
                **common,
                "operationId": "BevestigOntvangst",
                "summary": "Bevestig de ontvangst van het bericht.",
                "parameters": [_TRACEER_PATH],
                "responses": {
                    "202": {"description": "Success"},
                    "404": {
                        "description": "Het bericht is niet gevonden of u bent hiervoor niet geautoriseerd."
                    },
                    **_node(401, 429, 503),
                },
            }
        },
        f"{STATUS}/berichtstatussen": {
            "get": {
                **common,
                "operationId": "ZoekBerichtstatussen",
                "summary": "Zoek de berichtstatus van berichten op basis van Traceer ID of Conversatie ID. "
                "Gebruik 1 van de parameters.",
                "description": "Only messages the caller sent, submitted or received: another party's "
                "traceerId gives an empty list. The status follows the message's way: Ontvangen, "
                "WordtVerwerkt, VerwerkingVoltooid (the broker confirmed it), WordtAangeboden (crossed the "
                "link, in the addressee's mailbox, fetched), Bezorgd (the addressee confirmed receipt: HTTP "
                "ack, REST DELETE), AanbiedenMislukt (dead-lettered), BezorgingAfgebroken, or "
                "AfgekeurdDoorDienst with its meldingen. Limit: an addressee that reads its mailbox over AMQP "
                "acknowledges to the broker only, so its messages stay WordtAangeboden unless the node "
                "traces AMQP deliveries (GATEWAY_TRACE_AMQP_DELIVERIES): then such a read is Bezorgd.",
                "parameters": [
                    {
                        "name": "traceerId",
                        "in": "query",
                        "description": "De berichtstatus van berichten met dit Traceer ID (als Traceer ID of "
                        "AlsAntwoordOp) wordt teruggegeven.",
                        "schema": _UUID,
                        "example": _TRACEER,
                    },
                    {
                        "name": "conversatieId",
                        "in": "query",
                        "description": "De berichtstatus van alle berichten onder de conversatie met dit "
                        "Conversatie ID wordt teruggegeven.",
                        "schema": _UUID,
                    },
                ],
                "responses": {
                    "200": json_answer(
                        "Success",
                        {"type": "array", "maxItems": 250, "items": _ref("BerichtstatusGegevens")},
                        STATUSSEN,
                    ),
                    "400": _problems(
                        {
                            **BAD_REQUEST,
                            "detail": "give one of traceerId and conversatieId",
                            "instance": f"{STATUS}/berichtstatussen",
                            "errors": {"traceerId": ["use exactly one of traceerId and conversatieId"]},
                        },
                        "Bad Request: neither or both ids, or an id that is not a UUID",
                    ),
                    **_node(401, 429, 503),
                },
            }
        },
    }


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """Put the operations and their schemas into the node's OpenAPI document ``doc`` (in place)."""
    paths = doc.setdefault("paths", {})
    for path, methods in operations().items():
        paths[path] = methods
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(components())
    return doc
