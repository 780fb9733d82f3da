"""``POST /v1/validaties``: the chain's verdict on one message, and nothing else.

The message goes through the same engine as a submission (safe parse, classification, XSD, the release's
content rules TR/CD/CS) and the answer says what the node would do with it: accept it (``202``) or refuse it
with which chain code, listing every finding (XSD errors and broken rules: code, rule, text, retourcode,
element path, line). Nothing is routed, stored, claimed or counted as a submission; the log gets the
message type and the codes only. On a schema-invalid message the content rules are judged too, so a vendor
sees everything at once (the node itself stops at the XSD).

Authenticated like the other routes: a participant's credential or client certificate, or the operator
credential. The page ``/dashboard/validatie`` (vendors drop a file there) calls this route from the browser.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.errors import ContentRulesBroken, ErrorItem, GatewayError, NodeRole
from gateway.http.berichten import XML_BODY
from gateway.http.contract import PARTY, answers, json_answer
from gateway.http.deps import Services, caller, is_operator, xml_body
from gateway.standard.engine import Examined

log = structlog.get_logger("gateway.validation")
router = APIRouter(prefix="/v1/validaties", tags=["validation"])
IN_THREAD = 64 * 1024  # bodies larger than this are judged off the event loop


class NoValidator(GatewayError):
    code, vecozo_code, status, reason = "GW503", "GW503", 503, "no-validator"
    title = "This node has no engine wired for validation"


@router.post(
    "",
    summary="Validate one message: the node's verdict with every finding; nothing routed or stored",
    **answers(
        401,
        413,
        415,
        429,
        503,
        security=PARTY,
        body=XML_BODY,
        ok={
            200: json_answer(
                "The verdict (valid or not) with every XSD error and broken content rule",
                {
                    "type": "object",
                    "required": ["valid", "status", "errors"],
                    "properties": {
                        "valid": {"type": "boolean"},
                        "status": {"type": "integer", "description": "what a submission would get"},
                        "code": {"type": ["string", "null"]},
                        "reason": {"type": ["string", "null"]},
                        "detail": {"type": ["string", "null"]},
                        "standard": {"type": ["string", "null"]},
                        "release": {"type": ["string", "null"]},
                        "message": {"type": ["string", "null"]},
                        "errors": {"type": "array", "items": {"type": "object"}},
                    },
                },
                {
                    "valid": False,
                    "status": 422,
                    "code": "StUF055",
                    "reason": "schema",
                    "detail": "WMO315 does not conform to its XSD",
                    "standard": "iwmo",
                    "release": "3.2",
                    "message": "WMO315",
                    "errors": [
                        {"code": "StUF055", "kind": "xsd", "line": 12, "path": "/WMO315/...", "text": "..."}
                    ],
                },
            )
        },
    ),
)
async def validate(request: Request, svc: Services) -> JSONResponse:
    if not is_operator(request, svc):
        await caller(request, svc)
    if svc.engine is None:
        raise NoValidator()
    data = await xml_body(request, svc.max_bytes)
    examine = svc.engine.examine
    examined = await asyncio.to_thread(examine, data) if len(data) > IN_THREAD else examine(data)
    body = verdict_body(examined, svc.node)
    log.info(
        "message.validated",
        node=svc.node,
        message=body["message"],
        valid=body["valid"],
        codes=",".join(sorted({e["rule"] or e["code"] for e in body["errors"]})),
    )
    return JSONResponse(body)


def verdict_body(examined: Examined, node: NodeRole) -> dict[str, Any]:
    """The JSON answer: what the node would answer (status, chain code) and every finding."""
    message = examined.message
    rejection = examined.rejection
    own = "rule" if isinstance(rejection, ContentRulesBroken) else None
    errors = [_item(e, rejection.code if rejection else None, rejection, node, own) for e in examined.errors]
    chain = ContentRulesBroken.code
    errors += [_item(f, chain, ContentRulesBroken, node, kind="rule") for f in examined.findings]
    return {
        "valid": rejection is None and not examined.findings,
        "status": rejection.status if rejection is not None else 202,
        "code": rejection.code_for(node) if rejection is not None else None,
        "reason": rejection.reason if rejection is not None else None,
        "detail": rejection.detail if rejection is not None else None,
        "standard": message.standard if message else None,
        "release": message.release if message else None,
        "message": message.name if message else None,
        "errors": errors,
    }


def _item(
    item: ErrorItem,
    own_code: str | None,
    rejection: Any,
    node: NodeRole,
    kind: str | None = None,
) -> dict[str, Any]:
    out = item.as_dict()
    if rejection is not None and node == "vecozo" and item.code == own_code:
        out["code"] = rejection.vecozo_code  # as the provider node answers it (CC02, BRS28)
    # rule: a broken content rule; xsd: a schema error (its rule, when set, names the restriction it enforces)
    out["kind"] = kind or ("xsd" if item.path or item.line else "message")
    return out
