"""The OpenAPI contract of a node: security schemes, the problem+json schema and each refusal an operation
can give, so that a node's document lists every answer it really gives (checked by a schemathesis test).

Routes declare what they can answer with :func:`answers` (statuses, security, success example); the app's
``openapi()`` (:func:`document`) adds the shared components and replaces FastAPI's own ``422
HTTPValidationError`` by the problem+json ``400`` the node really sends (:mod:`gateway.http.problems`).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.http.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from gateway.http.problems import PROBLEM_TYPE

PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "description": "RFC 9457 problem details with the chain's error code (StUF055, IB213, CC02, ...).",
    "required": ["type", "title", "status", "detail", "code", "errors"],
    "properties": {
        "type": {"type": "string", "description": f"`{PROBLEM_TYPE}` + a stable reason"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "chain code on this node's side"},
        "trackingId": {"type": "string", "description": "when the refusal was recorded in track & trace"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "text"],
                "properties": {
                    "code": {"type": "string"},
                    "text": {"type": "string"},
                    "line": {"type": ["integer", "null"]},
                    "path": {"type": ["string", "null"], "description": "element path or parameter"},
                },
            },
        },
    },
}

SECURITY_SCHEMES: Final[dict[str, Any]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A participant's API credential (`gateway participants credential`), or the operator "
        "credential for operator routes.",
    },
    "mutualTLS": {
        "type": "mutualTLS",
        "description": "A client certificate of the node's CA; the party is read from the certificate.",
    },
    "operatorSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "gk_operator",
        "description": "The dashboard session cookie set by `POST /dashboard/login`.",
    },
}

Security = list[dict[str, list[str]]]
PARTY: Final[Security] = [{"bearer": []}, {"mutualTLS": []}]
OPERATOR: Final[Security] = [{"bearer": []}]
DASHBOARD: Final[Security] = [{"bearer": []}, {"operatorSession": []}]
PUBLIC: Final[Security] = []

WHY: Final = {
    400: "Request not valid: unsafe or malformed input, or a parameter out of range (GW400)",
    401: "No valid credential (IB002); `WWW-Authenticate: Bearer`, a client certificate is accepted too",
    403: "Not authorised (IB002, IB234), or a cross-site request",
    404: "Not found (GW404)",
    409: "Conflict: reference or registration already used (IB216/CC08)",
    410: "Gone: the lease ended and its message went back to the mailbox (GW410)",
    413: "Too large (IB007/CC03)",
    415: "Unsupported content type",
    422: "Not a standard message, not schema-conform, unknown party or no route (chain code)",
    429: "Too many requests from this party (IB103); retry after `Retry-After` seconds",
    501: "Not available in this deployment (GW501)",
    503: "Temporarily unavailable (IB103); retry after `Retry-After` seconds",
}
_HEADERS: Final = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge (RFC 6750)"}},
    429: {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}},
    503: {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}},
}


def problem(status: int, description: str | None = None) -> dict[str, Any]:
    """One refusal as an OpenAPI response: problem+json with the shared schema."""
    out: dict[str, Any] = {
        "description": description or WHY[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
    }
    if status in _HEADERS:
        out["headers"] = _HEADERS[status]
    return out


def answers(
    *refusals: int,
    security: Security = PUBLIC,
    ok: dict[int, dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for a route decorator: the success answers ``ok``, a problem+json answer per
    refusal status, the security requirement and (``body``) an explicit request body."""
    responses: dict[int | str, dict[str, Any]] = {status: answer for status, answer in (ok or {}).items()}
    for status in refusals:
        responses[status] = problem(status)
    extra: dict[str, Any] = {"security": security}
    if body is not None:
        extra["requestBody"] = body
    return {"responses": responses, "openapi_extra": extra}


def form_body(properties: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """A required ``application/x-www-form-urlencoded`` request body with these fields."""
    schema = {"type": "object", "properties": properties}
    return {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": schema, "example": example}},
    }


def strings(*names: str) -> dict[str, Any]:
    """The schema of a JSON object whose fields ``names`` are all required strings."""
    return {"type": "object", "required": list(names), "properties": {n: {"type": "string"} for n in names}}


def json_answer(description: str, schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema, "example": example}},
    }


def document(app: FastAPI) -> dict[str, Any]:
    """The node's OpenAPI document (built once): its own routes, the shared schemes and schemas."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=None
    )
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            _problem_instead_of_validation(operation)
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    if not components["schemas"]:
        components.pop("schemas")
    app.openapi_schema = doc
    return doc


def _problem_instead_of_validation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    generated = responses.get("422", {})
    schema = generated.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
        responses.setdefault("400", problem(400))


def install(app: FastAPI) -> None:
    """Let ``app`` describe itself with :func:`document`."""

    def openapi() -> dict[str, Any]:
        return document(app)

    app.openapi = openapi  # type: ignore[method-assign]
