"""VECOZO's REST interfaces of the VSP-Koppeling on the provider node, path for path as VECOZO serves them.

- ``POST {env}/berichtenservice/berichten/rest-push/v1/berichten`` (multipart: ``berichtMetadata`` JSON +
  ``payload``): 204, or 400/422 ``ValidationProblemDetails``;
- ``{env}/berichtenservice/berichten/rest-pull/v1``: ``GET /berichten?limit=``, ``POST /berichten/zoeken``,
  ``GET /berichten/{traceerId}/payload``, ``DELETE /berichten/{traceerId}`` (202);
- ``GET {env}/berichtenservice/berichtstatus/rest-pull/v3/berichtstatussen?traceerId=|conversatieId=``.

``env`` is empty for production; ``/tst`` and ``/acc`` serve the test and acceptance environments when the
node runs them (see ``gateway.koppeling``). The party is the client certificate (or an API credential).
Refusals are ``application/json`` problem details with VECOZO's codes (:mod:`gateway.koppeling.problems`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from gateway.errors import GatewayError, TooLarge
from gateway.http.deps import NodeServices, bounded_body, caller, header
from gateway.http.koppelingdoc import PULL, PUSH, STATUS, describe
from gateway.koppeling.metadata import read_stated, read_zoekpad
from gateway.koppeling.multipart import boundary_of, read_parts
from gateway.koppeling.problems import BadRequest, KoppelingNotFound, problem, retry_after
from gateway.koppeling.service import Koppeling
from gateway.koppeling.store import Filter, Inboxed

PUSH_PATH: Final = f"{PUSH}/berichten"  # served by the node's app without the framework (NodeApp.fast)
METADATA_ROOM: Final = 1024 * 1024  # room for the metadata and the multipart framing beside the payload
MAX_LIMIT: Final = 250


def _koppeling(request: Request) -> tuple[NodeServices, Koppeling]:
    svc: NodeServices = request.app.state.services
    koppeling: Koppeling | None = svc.koppeling
    if koppeling is None:
        raise KoppelingNotFound("this node does not serve the VECOZO REST interfaces")
    return svc, koppeling


def _answer(exc: GatewayError, request: Request, traceer_id: str | None = None) -> JSONResponse:
    status, body = problem(exc, request.url.path, traceer_id=traceer_id)
    return JSONResponse(body, status_code=status, headers=retry_after(exc))


async def _serve(request: Request, answer: Callable[[Koppeling, str], Awaitable[Response]]) -> Response:
    """The pull and status operations: find the interfaces and the calling party, then ``answer``;
    a refusal becomes VECOZO's problem details."""
    svc, koppeling = _koppeling(request)
    party = await caller(request, svc)
    try:
        return await answer(koppeling, party)
    except GatewayError as exc:
        return _answer(exc, request)


def _too_large(max_bytes: int) -> Callable[[str], GatewayError]:
    """BRS06 for a request too large to hold a payload within the limit (and its metadata)."""

    def refuse(_detail: str) -> GatewayError:
        return TooLarge(f"the payload exceeds the limit of {max_bytes} bytes")

    return refuse


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return MAX_LIMIT
    # an integer as the spec writes one: ASCII digits only (``int`` would also take " 5", "+5", "5_0", "٥")
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(
            "limit is out of range", {"limit": [f"must be a whole number from 1 to {MAX_LIMIT}"]}
        )
    return value


def _uuid(raw: str | None) -> str | None:
    if raw is None or len(raw) != 36:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _listed(item: Inboxed, base: str) -> dict[str, Any]:
    return {
        "basisgegevens": {
            "ontvangenOp": item.ontvangen_op.isoformat(),
            "payload": {
                "url": f"{base}{PULL}/berichten/{item.traceer_id}/payload",
                "grootte": item.size,
                "checksum": {"algoritme": "SHA256", "waarde": item.sha256},
            },
        },
        **item.metadata,
    }


def _base(request: Request) -> str:
    """Where this app is served: a test environment's app is mounted under its prefix, its root path
    (``/tst``, ``/acc``), which Starlette's ``base_url`` leaves out (it gives the top-level app's)."""
    root: str = request.scope.get("root_path", "")
    return str(request.url.replace(path=root, query="", fragment="")).rstrip("/")


# the OpenAPI document describes these operations from gateway.http.koppelingdoc (see document below)
router = APIRouter()


@router.post(PUSH_PATH, status_code=204, operation_id="PostBericht")
async def post_bericht(request: Request) -> Response:
    svc, koppeling = _koppeling(request)
    party = await caller(request, svc)
    parts: dict[str, bytes] = {}
    try:
        body = await bounded_body(request, svc.max_bytes + METADATA_ROOM, _too_large(svc.max_bytes))
        boundary = boundary_of(header(request.scope, b"content-type") or "")  # without Starlette's Headers
        parts = read_parts(body, boundary, ("berichtMetadata", "payload"))
        del body
        result = await koppeling.push.push(party, parts.get("berichtMetadata"), parts.get("payload"))
    except GatewayError as exc:
        return _answer(exc, request, _traceer_id(parts.get("berichtMetadata")))
    return _Pushed(result.traceer_id)


class _Pushed(Response):
    """The push's 204 as ``Response(status_code=204, headers={"X-Traceer-Id": ...})`` makes it (no body, no
    content-length, no content-type), without working its headers out again for every push."""

    def __init__(self, traceer_id: str) -> None:
        self.status_code = 204
        self.background = None
        self.body = b""
        self.raw_headers = [(b"x-traceer-id", traceer_id.encode("latin-1"))]


def _traceer_id(metadata: bytes | None) -> str | None:
    """The traceerId of a refused push, for its problem details: None when its metadata cannot be read
    (read once more here, on the refusal's path only)."""
    if metadata is None:
        return None
    try:
        found: str = read_stated(metadata)["referentiegegevens"]["traceerId"]
        return found
    except BadRequest:
        return None


@router.get(f"{PULL}/berichten", operation_id="GetBerichten")
async def get_berichten(request: Request) -> Response:
    async def listed(koppeling: Koppeling, party: str) -> Response:
        items = await koppeling.pull.ready(party, _limit(request))
        return JSONResponse([_listed(i, _base(request)) for i in items])

    return await _serve(request, listed)


@router.post(f"{PULL}/berichten/zoeken", operation_id="ZoekBerichten")
async def zoek_berichten(request: Request) -> Response:
    async def found(koppeling: Koppeling, party: str) -> Response:
        limit = _limit(request)
        zoekpad = read_zoekpad(await bounded_body(request, METADATA_ROOM))
        where = Filter(
            berichttype=zoekpad.berichttype,
            berichtsubtype=zoekpad.berichtsubtype,
            berichtversie=zoekpad.berichtversie,
            berichtsubversie=zoekpad.berichtsubversie,
            actie=zoekpad.actie,
            geadresseerde_rol=zoekpad.geadresseerdeRol,
            geadresseerde_code=zoekpad.geadresseerdeCode,
            conversatie_id=zoekpad.conversatieId,
            als_antwoord_op=zoekpad.alsAntwoordOp,
        )
        items = await koppeling.pull.ready(party, limit, where)
        return JSONResponse([_listed(i, _base(request)) for i in items])

    return await _serve(request, found)


@router.get(f"{PULL}/berichten/{{traceerId}}/payload", operation_id="GetPayload")
async def get_payload(traceerId: str, request: Request) -> Response:
    traceer_id = _uuid(traceerId)

    async def payload(koppeling: Koppeling, party: str) -> Response:
        item = None if traceer_id is None else await koppeling.pull.payload(party, traceer_id)
        if item is None or item.payload is None:
            return Response(status_code=404)
        return Response(item.payload, media_type="application/octet-stream")

    return await _serve(request, payload)


@router.delete(f"{PULL}/berichten/{{traceerId}}", status_code=202, operation_id="BevestigOntvangst")
async def bevestig_ontvangst(traceerId: str, request: Request) -> Response:
    traceer_id = _uuid(traceerId)

    async def confirm(koppeling: Koppeling, party: str) -> Response:
        confirmed = traceer_id is not None and await koppeling.pull.confirm(party, traceer_id)
        return Response(status_code=202 if confirmed else 404)

    return await _serve(request, confirm)


@router.get(f"{STATUS}/berichtstatussen", operation_id="ZoekBerichtstatussen")
async def zoek_berichtstatussen(request: Request) -> Response:
    async def statuses(koppeling: Koppeling, party: str) -> Response:
        return JSONResponse([s.as_dict() for s in await _statuses(koppeling, party, request)])

    return await _serve(request, statuses)


async def _statuses(koppeling: Koppeling, party: str, request: Request) -> list[Any]:
    given = {k: request.query_params.get(k) for k in ("traceerId", "conversatieId")}
    present = {k: v for k, v in given.items() if v is not None}
    if len(present) != 1:
        raise BadRequest(
            "give one of traceerId and conversatieId",
            {k: ["use exactly one of traceerId and conversatieId"] for k in (present or given)},
        )
    ((key, raw),) = present.items()
    value = _uuid(raw)
    if value is None:
        raise BadRequest(f"{key} is not a UUID", {key: ["is not a UUID"]})
    if key == "traceerId":
        return await koppeling.statuses.by_traceer(party, value)
    return await koppeling.statuses.by_conversatie(party, value)


def install(app: FastAPI) -> None:
    """Add the interfaces to the provider node's app."""
    app.include_router(router)


def document(app: FastAPI) -> None:
    """Describe the interfaces in the app's OpenAPI document as VECOZO's specs do
    (:mod:`gateway.http.koppelingdoc`); after the node's own ``openapi()`` is installed."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        app.openapi_schema = describe(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
