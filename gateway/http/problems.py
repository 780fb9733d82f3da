"""Every refusal of a node as problem+json (RFC 9457) with the chain's code, whatever raised it.

One handler for :class:`GatewayError`; FastAPI's request-parameter errors, Starlette's own 404/405 and any
unexpected exception are turned into the same shape, so a client never has to parse two kinds of error.
A 401 carries ``WWW-Authenticate`` (a bearer token or a client certificate over mutual TLS are accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gateway.errors import ErrorItem, GatewayError, NodeRole, Unavailable

log = structlog.get_logger("gateway.http.problems")

PROBLEM_TYPE = "urn:gegevensknooppunt:problem:"
MEDIA_TYPE = "application/problem+json"
REALM = "gegevensknooppunt"


class RequestInvalid(GatewayError):
    """A query, path or header parameter or a JSON body that does not meet the operation's contract."""

    code, vecozo_code, status, reason = "GW400", "GW400", 400, "request-invalid"
    title = "Request parameters not valid"


class HttpRefusal(GatewayError):
    """Starlette's own refusals (no such route, method not allowed), with their status."""

    code, vecozo_code, reason = "GW400", "GW400", "http"

    def __init__(self, status: int, detail: str) -> None:
        self.status = status  # type: ignore[misc]  # per refusal, not per class
        self.code = self.vecozo_code = f"GW{status}"  # type: ignore[misc]
        self.reason = {404: "not-found", 405: "method-not-allowed"}.get(status, "http")  # type: ignore[misc]
        self.title = detail  # type: ignore[misc]
        super().__init__(detail)


class Internal(GatewayError):
    """An unexpected fault: logged with its type, answered without its text."""

    title = "Internal error; the fault was logged"


def problem_body(exc: GatewayError, node: NodeRole) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + exc.reason,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "code": exc.code_for(node),
        "errors": [_item(e.as_dict(), exc, node) for e in exc.errors],
    }
    if exc.tracking_id is not None:
        body["trackingId"] = exc.tracking_id
    return body


def _item(item: dict[str, Any], exc: GatewayError, node: NodeRole) -> dict[str, Any]:
    # items carry the GGk-side code; on the provider node schema/size/uuid/uniqueness faults use the CC codes
    if node == "vecozo" and item["code"] == exc.code:
        item = {**item, "code": exc.vecozo_code}
    return item


def challenge(detail: str) -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750); mutual TLS is named in the description."""
    text = (detail + "; send 'Authorization: Bearer <token>' or a client certificate (mutual TLS)").replace(
        '"', "'"
    )
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{text}"'


def refusal_headers(exc: GatewayError) -> dict[str, str]:
    """The headers a refusal carries on any interface: Retry-After (503, 429), WWW-Authenticate (401)."""
    headers: dict[str, str] = {}
    if isinstance(exc, Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = challenge(exc.detail)
    return headers


def problem_response(exc: GatewayError, node: NodeRole) -> JSONResponse:
    return JSONResponse(
        problem_body(exc, node), status_code=exc.status, media_type=MEDIA_TYPE, headers=refusal_headers(exc)
    )


# told of every error the handler answers: (HTTP method, path, error)
RefusalHook = Callable[[str, str, GatewayError], None]


def invalid_request(exc: RequestValidationError) -> RequestInvalid:
    """FastAPI's validation errors as one refusal with an item per parameter (where, what is wrong)."""
    items = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        items.append(ErrorItem(RequestInvalid.code, str(error.get("msg", "not valid")), path=where or None))
    names = ", ".join(item.path or "?" for item in items) or "the request"
    return RequestInvalid(f"not valid: {names}", items)


# answers an error raised while serving (HTTP method, path, error): the refusal, or the internal fault
Answer = Callable[[str, str, Exception], JSONResponse]


def answerer(node: NodeRole, on_error: RefusalHook | None = None) -> Answer:
    """The answer to what serving a request raised, as the handlers below give it: a :class:`GatewayError`
    as its problem (``on_error`` told), anything else logged by type and answered as :class:`Internal`. For
    routes served outside the framework's handlers (``gateway.http.app.NodeApp``)."""

    def answer(method: str, path: str, exc: Exception) -> JSONResponse:
        if isinstance(exc, GatewayError):
            if on_error is not None:
                on_error(method, path, exc)
            return problem_response(exc, node)
        log.error("http.unexpected", error=type(exc).__name__, path=path)
        return problem_response(Internal(), node)

    return answer


def install(app: Any, node: NodeRole, on_error: RefusalHook | None = None) -> Answer:
    """Register the handlers on a FastAPI app serving ``node``; ``on_error`` hears of each error answered.
    Returns the same answers for routes served outside the handlers (:func:`answerer`)."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GatewayError)
        if on_error is not None:
            on_error(request.method, request.url.path, exc)
        return problem_response(exc, node)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        refusal = invalid_request(exc)
        if on_error is not None:
            on_error(request.method, request.url.path, refusal)
        return problem_response(refusal, node)

    async def http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        response = problem_response(HttpRefusal(exc.status_code, str(exc.detail)), node)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("http.unexpected", error=type(exc).__name__, path=request.url.path)
        return problem_response(Internal(), node)

    app.add_exception_handler(GatewayError, handler)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, unexpected)
    return answerer(node, on_error)
