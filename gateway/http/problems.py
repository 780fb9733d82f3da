"""One handler that turns any :class:`GatewayError` into problem+json (RFC 9457) with the chain's code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from gateway.errors import GatewayError, NodeRole, Unavailable

PROBLEM_TYPE = "urn:gegevensknooppunt:problem:"
MEDIA_TYPE = "application/problem+json"


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


def problem_response(exc: GatewayError, node: NodeRole) -> JSONResponse:
    headers = {}
    if isinstance(exc, Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(
        problem_body(exc, node), status_code=exc.status, media_type=MEDIA_TYPE, headers=headers
    )


# told of every error the handler answers: (HTTP method, path, error)
RefusalHook = Callable[[str, str, GatewayError], None]


def install(app: Any, node: NodeRole, on_error: RefusalHook | None = None) -> None:
    """Register the handler on a FastAPI app serving ``node``; ``on_error`` hears of each error answered."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GatewayError)
        if on_error is not None:
            on_error(request.method, request.url.path, exc)
        return problem_response(exc, node)

    app.add_exception_handler(GatewayError, handler)
