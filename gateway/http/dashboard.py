"""``/dashboard``: the operator dashboard, track & trace and the dead-letter workbench.

Behind the operator credential (``GATEWAY_OPERATOR_TOKEN``): a browser signs in once with a form and gets
a signed, HttpOnly, SameSite=Strict session cookie (12 hours); scripts send the credential as a bearer
token to the same routes (the JSON ones under ``/dashboard/api``). Server-rendered with Jinja2; the live
figures are fetched by a small script (``static/dashboard.js``, plain SVG, no build step, no CDN).
Dead letters are shown by their metadata only, never their body; every redrive or discard needs a reason,
which goes into the audit trail with the operator's name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.errors import GatewayError, NodeRole, NotAuthenticated
from gateway.http.contract import DASHBOARD, answers, form_body, json_answer
from gateway.http.deps import NodeServices, Services, bounded_body, credentials, same_secret
from gateway.ops import session
from gateway.ops.deadletters import InvalidAction, check_operator
from gateway.ports import NODES

router = APIRouter(prefix="/dashboard", tags=["operations"], include_in_schema=True)

HERE = Path(__file__).resolve().parent
STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css", "validatie.js": "text/javascript"}
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_PARTY = re.compile(r"^([0-9]{4}|[0-9]{8})$")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class NoOperations(GatewayError):
    code, vecozo_code, status, reason = "GW503", "GW503", 503, "no-operations"
    title = "The operator side is not wired in this process"


class BadRequest(GatewayError):
    code, vecozo_code, status, reason = "GW400", "GW400", 400, "bad-request"
    title = "Request not understood"


class BodyTooLarge(GatewayError):
    code, vecozo_code, status, reason = "GW413", "GW413", 413, "body-too-large"
    title = "Request body larger than this form or API takes"


class NotJson(GatewayError):
    code, vecozo_code, status, reason = "GW415", "GW415", 415, "media-type"
    title = "Content type must be application/json"


class CrossSite(GatewayError):
    code, vecozo_code, status, reason = "GW403", "GW403", 403, "cross-site"
    title = "Cross-site request refused"


class UnknownNode(GatewayError):
    code, vecozo_code, status, reason = "GW404", "GW404", 404, "unknown-node"
    title = "No such node"


class NoSuchMessage(GatewayError):
    code, vecozo_code, status, reason = "GW404", "GW404", 404, "not-found"
    title = "No such message"


class NoWorkbench(GatewayError):
    code, vecozo_code, status, reason = "GW501", "GW501", 501, "no-workbench"
    title = "The dead-letter workbench needs the RabbitMQ broker"


class Refused(GatewayError):
    code, vecozo_code, status, reason = "GW400", "GW400", 400, "action-refused"
    title = "Dead-letter action refused"


BODY_LIMIT = 64 * 1024  # the sign-in form, the dead-letter forms and the JSON API: small by nature


def _render(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context))


def _ops(svc: NodeServices) -> Any:
    if svc.ops is None:
        raise NoOperations()
    return svc.ops


def operator_name(request: Request, svc: NodeServices) -> str | None:
    """The signed-in operator (cookie) or ``operator`` for the bearer credential; None when neither."""
    if same_secret(credentials(request).bearer, svc.operator_token):
        return "operator"
    found = _session(request, svc)
    return None if found is None else found.operator


def _session(request: Request, svc: NodeServices) -> session.OperatorSession | None:
    """The request's dashboard session, unless absent, forged, expired or signed out."""
    found = session.verify(svc.operator_token, request.cookies.get(session.COOKIE))
    if found is None or (svc.ops is not None and svc.ops.sessions.revoked(found)):
        return None
    return found


async def api_operator(request: Request, svc: Services) -> str:
    name = operator_name(request, svc)
    if name is None:
        raise NotAuthenticated("this operation needs the operator credential")
    return name


ApiOperator = Annotated[str, Depends(api_operator)]


def _same_origin(request: Request) -> bool:
    """The request comes from our own pages: no foreign or opaque ``Origin``, no cross-site fetch metadata
    (SameSite=Strict already keeps other sites' requests cookieless; this holds without it too)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == request.headers.get("host", "")


async def _form(request: Request) -> dict[str, list[str]]:
    body = (await bounded_body(request, BODY_LIMIT, BodyTooLarge)).decode("utf-8", "replace")
    return parse_qs(body, keep_blank_values=True)


def _strict_node(raw: str) -> NodeRole:
    for node in NODES:
        if raw == node:
            return node
    raise UnknownNode(f"there is no node {raw[:40]!r}; the nodes are {', '.join(NODES)}")


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/dashboard/login?next={quote(request.url.path)}", status_code=303)


def _node(svc: NodeServices, raw: str | None) -> NodeRole:
    for node in NODES:
        if raw == node:
            return node
    return svc.node


# --- sign in --------------------------------------------------------------------------------------------


_HTML = {"content": {"text/html": {"schema": {"type": "string"}, "example": "<!doctype html>..."}}}
_TO_LOGIN = {
    "description": "Not signed in: to the sign-in form",
    "headers": {"Location": {"schema": {"type": "string"}, "example": "/dashboard/login?next=/dashboard"}},
}
_FORM_BODY = form_body(
    {
        "token": {"type": "string", "description": "the operator credential"},
        "operator": {"type": "string", "pattern": "^[A-Za-z0-9._@-]{1,60}$"},
        "next": {"type": "string", "example": "/dashboard"},
    },
    {"token": "…", "operator": "alice", "next": "/dashboard"},
)


def _api(
    summary: str, ok: dict[str, Any], *refusals: int, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An operator's JSON route: ``ok`` its 200 answer; 401 without the operator's credential and 503 while
    the operations side is not up, besides its own ``refusals``."""
    statuses = sorted({401, 503, *refusals})
    return {"summary": summary, **answers(*statuses, security=DASHBOARD, ok={200: ok}, body=body)}


def _page(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "response_class": HTMLResponse,
        **answers(400, security=DASHBOARD, ok={200: {"description": "The page", **_HTML}, 303: _TO_LOGIN}),
    }


@router.get(
    "/login",
    response_class=HTMLResponse,
    summary="Operator sign-in form",
    **answers(400, ok={200: {"description": "The form", **_HTML}}),
)
async def login_form(
    svc: Services, next: str = "/dashboard", failed: Literal["", "0", "1", "credential", "name"] = ""
) -> HTMLResponse:
    target = next if next.startswith("/dashboard") else "/dashboard"
    why = {"1": "credential", "credential": "credential", "name": "name"}.get(failed, "")
    return _render("login.html", node=svc.node, next=target, failed=why, configured=bool(svc.operator_token))


@router.post(
    "/login",
    status_code=303,
    summary="Sign in with the operator credential: 303 to the dashboard with the session cookie, or back "
    "to the form saying what was wrong",
    response_class=RedirectResponse,
    **answers(
        403,
        413,
        body=_FORM_BODY,
        ok={
            303: {
                "description": "Signed in (Set-Cookie gk_operator, to `next`), or back to the form with "
                "`failed=credential` or `failed=name`",
                "headers": {
                    "Location": {"schema": {"type": "string"}, "example": "/dashboard"},
                    "Set-Cookie": {
                        "schema": {"type": "string"},
                        "description": "the session, when signed in",
                    },
                },
            }
        },
    ),
)
async def login(request: Request, svc: Services) -> Response:
    if not _same_origin(request):
        raise CrossSite("a sign-in from another site is refused")
    form = await _form(request)
    token = (form.get("token") or [""])[0].strip()
    name = (form.get("operator") or ["operator"])[0].strip() or "operator"
    target = (form.get("next") or ["/dashboard"])[0]
    if not target.startswith("/dashboard") or target.startswith("/dashboard/login"):
        target = "/dashboard"
    if not (svc.operator_token and same_secret(token, svc.operator_token)):
        return RedirectResponse(f"/dashboard/login?failed=credential&next={quote(target)}", status_code=303)
    try:
        name = check_operator(name)
    except InvalidAction:
        return RedirectResponse(f"/dashboard/login?failed=name&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        session.COOKIE,
        session.issue(svc.operator_token, name),
        max_age=session.LIFETIME,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/dashboard",
    )
    return response


@router.post(
    "/logout",
    status_code=303,
    summary="Sign out: the session is revoked on the server and its cookie removed",
    response_class=RedirectResponse,
    **answers(
        ok={
            303: {
                "description": "Signed out, to the sign-in form",
                "headers": {"Location": {"schema": {"type": "string", "example": "/dashboard/login"}}},
            }
        }
    ),
)
async def logout(request: Request, svc: Services) -> Response:
    found = _session(request, svc)
    if found is not None and svc.ops is not None:
        svc.ops.sessions.revoke(found)
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(session.COOKIE, path="/dashboard")
    return response


@router.get(
    "/validatie",
    response_class=HTMLResponse,
    summary="Validate a message file in the browser",
    **answers(ok={200: {"description": "The page", **_HTML}}),
)
async def validatie(svc: Services) -> HTMLResponse:
    """The validation page: open to anyone (it holds no data); the validation itself (POST /v1/validaties)
    needs a participant's credential or client certificate, or the operator credential."""
    return _render("validatie.html", node=svc.node, operator=None, page="validatie")


@router.get("/static/{name}", summary="The dashboard's script and style", include_in_schema=False)
async def static(name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404, f"no dashboard asset {name[:60]}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])


# --- pages ----------------------------------------------------------------------------------------------


@router.get("", **_page("Overview: throughput, refusals, mailboxes, links, DLQ"))
async def overview(request: Request, svc: Services) -> Response:
    name = operator_name(request, svc)
    if name is None:
        return _login_redirect(request)
    summary = await _ops(svc).summary(node=svc.node)
    return _render("overview.html", node=svc.node, operator=name, s=summary, page="overview")


@router.get("/trace", **_page("Track & trace by tracking id or sender + Identificatie"))
async def trace_page(
    request: Request,
    svc: Services,
    tracking_id: str = Query("", alias="id"),
    sender: str = "",
    identificatie: str = "",
) -> Response:
    name = operator_name(request, svc)
    if name is None:
        return _login_redirect(request)
    ops = _ops(svc)
    life = None
    matches: list[dict[str, Any]] = []
    problem = ""
    tracking_id, sender, identificatie = tracking_id.strip(), sender.strip(), identificatie.strip()
    if tracking_id:
        if not _ID.match(tracking_id):
            problem = "A tracking id has letters, digits and dashes only."
        else:
            found = await ops.tracer.life(tracking_id)
            life = None if found is None else found.as_dict()
            problem = "" if found is not None else "No message with this tracking id."
    elif sender or identificatie:
        if not (_PARTY.match(sender) and 0 < len(identificatie) <= 12):
            problem = "Give the sender's code (4 or 8 digits) and the Identificatie (at most 12 characters)."
        else:
            from gateway.ops.trace import record_dict

            records = await ops.tracer.by_sender(sender, identificatie)
            matches = [record_dict(r) for r in records]
            if len(records) == 1:
                found = await ops.tracer.life(records[0].tracking_id)
                life = None if found is None else found.as_dict()
            problem = "" if records else "No accepted message from this sender with this Identificatie."
    return _render(
        "trace.html",
        node=svc.node,
        operator=name,
        page="trace",
        q={"id": tracking_id, "sender": sender, "identificatie": identificatie},
        life=life,
        matches=matches,
        problem=problem,
    )


@router.get("/dead-letters", **_page("Dead-letter workbench"))
async def dead_letters_page(
    request: Request, svc: Services, node: str | None = None, msg: str = ""
) -> Response:
    name = operator_name(request, svc)
    if name is None:
        return _login_redirect(request)
    ops = _ops(svc)
    where = _node(svc, node)
    letters: list[dict[str, Any]] = []
    problem = ""
    if ops.dead_letters is None:
        problem = "The dead-letter workbench needs the RabbitMQ broker."
    else:
        try:
            letters = [d.as_dict() for d in await ops.dead_letters.list(where)]
        except GatewayError as exc:
            problem = exc.detail
    return _render(
        "deadletters.html",
        node=svc.node,
        operator=name,
        page="dead-letters",
        where=where,
        nodes=NODES,
        letters=letters,
        msg=msg[:200],
        problem=problem,
    )


@router.post(
    "/dead-letters/{node}/{action}",
    status_code=303,
    summary="Redrive or discard dead letters (form); 303 back to the workbench with the outcome",
    response_class=RedirectResponse,
    **answers(
        400,
        403,
        404,
        413,
        security=DASHBOARD,
        body=form_body(
            {
                "reason": {"type": "string"},
                "tracking_id": {"type": "array", "items": {"type": "string"}},
                "all": {"type": "string", "enum": ["1"]},
            },
            {"reason": "recipient software repaired", "tracking_id": ["…"]},
        ),
        ok={303: {"description": "Done (or not, with why): back to the workbench, or to sign in"}},
    ),
)
async def dead_letters_form(
    node: str, action: Literal["redrive", "discard"], request: Request, svc: Services
) -> Response:
    name = operator_name(request, svc)
    if name is None:
        return _login_redirect(request)
    if not _same_origin(request):
        raise CrossSite("a cross-site form post is refused")
    where = _strict_node(node)
    form = await _form(request)
    reason = (form.get("reason") or [""])[0]
    ids = [i for i in form.get("tracking_id", []) if i]
    everything = (form.get("all") or [""])[0] == "1"
    try:
        outcome = await _act(svc, action, where, None if everything else ids, reason, name)
        text = (
            f"{outcome.action}: {len(outcome.done)} done, {len(outcome.failed)} failed, "
            f"{len(outcome.missing)} not found"
        )
    except InvalidAction as exc:
        text = f"not done: {exc}"
    return RedirectResponse(f"/dashboard/dead-letters?node={where}&msg={quote(text)}", status_code=303)


async def _act(
    svc: NodeServices, action: str, node: NodeRole, ids: list[str] | None, reason: str, name: str
) -> Any:
    ops = _ops(svc)
    if ops.dead_letters is None:
        raise InvalidAction("the dead-letter workbench needs the RabbitMQ broker")
    if action not in ("redrive", "discard"):
        raise InvalidAction("the action is redrive or discard")
    if ids is not None and not all(_ID.match(i) for i in ids):
        raise InvalidAction("a tracking id has letters, digits and dashes only")
    outcome = await ops.dead_letters.act(action, node, ids, reason=reason, operator=name)
    await ops.snapshot.fresh()
    return outcome


# --- JSON for the page's script and for scripts ---------------------------------------------------------


_SUMMARY = {
    "type": "object",
    "required": ["node", "scope", "window", "throughput", "topRefusals"],
    "properties": {
        "node": {"type": ["string", "null"], "description": "the node whose figures these are"},
        "scope": {"type": "string", "enum": ["node", "gateway"]},
        "window": {"type": "object"},
        "throughput": {"type": "object"},
        "topRefusals": {"type": "array", "items": {"type": "object"}},
        "latency": {"type": "object", "description": "per node: confirm, linkLag, mailbox (seconds)"},
        "mailboxes": {"type": "array", "items": {"type": "object"}},
        "certificates": {"type": "array", "items": {"type": "object"}},
    },
}
_SUMMARY_EXAMPLE = {
    "node": "ggk",
    "scope": "node",
    "window": {"seconds": 900, "accepted": 12, "refused": 1, "refusalRate": 0.077},
    "throughput": {"bucketSeconds": 30, "starts": [], "series": {"WMO315": []}},
    "topRefusals": [{"code": "StUF055", "reason": "schema", "count": 1}],
}
_LETTER = {"type": "object", "required": ["trackingId"], "properties": {"trackingId": {"type": "string"}}}
_OUTCOME = {
    "type": "object",
    "required": ["action", "done", "failed", "missing"],
    "properties": {
        "action": {"type": "string"},
        "done": {"type": "array", "items": {"type": "string"}},
        "failed": {"type": "array", "items": {"type": "string"}},
        "missing": {"type": "array", "items": {"type": "string"}},
    },
}
_ACTION_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "trackingIds": {"type": "array", "items": {"type": "string"}},
                    "all": {"type": "boolean"},
                    "reason": {"type": "string", "maxLength": 200},
                },
            },
            "example": {"trackingIds": ["2f9b3c1e-8a47-4d5e-9c1f-0b6a7e2d4c13"], "reason": "repaired"},
        }
    },
}


@router.get(
    "/api/summary",
    **_api(
        "The overview's figures of this node, or with scope=gateway of the whole gateway (JSON)",
        json_answer("The figures", _SUMMARY, _SUMMARY_EXAMPLE),
    ),
)
async def api_summary(
    svc: Services,
    _: ApiOperator,
    scope: Literal["node", "gateway"] = Query(
        "node", description="this node's figures, or the whole gateway's"
    ),
) -> dict[str, Any]:
    summary: dict[str, Any] = await _ops(svc).summary(node=svc.node if scope == "node" else None)
    return summary


@router.get(
    "/api/trace/{tracking_id}",
    **_api(
        "One message's life and its conversation (JSON)",
        json_answer(
            "Its life",
            {"type": "object", "required": ["trackingId", "stage", "events"]},
            {"trackingId": "2f9b3c1e-8a47-4d5e-9c1f-0b6a7e2d4c13", "stage": "in-mailbox", "events": []},
        ),
        404,
    ),
)
async def api_trace(tracking_id: str, svc: Services, _: ApiOperator) -> Response:
    found = await _ops(svc).tracer.life(tracking_id) if _ID.match(tracking_id) else None
    if found is None:
        raise NoSuchMessage(f"no message {tracking_id[:64]}")
    return JSONResponse(found.as_dict())


@router.get(
    "/api/dead-letters/{node}",
    **_api(
        "Dead letters of a node, metadata only (JSON)",
        json_answer("Its dead letters", {"type": "array", "items": _LETTER}, []),
        404,
        501,
    ),
)
async def api_dead_letters(node: str, svc: Services, _: ApiOperator) -> Response:
    where = _strict_node(node)
    ops = _ops(svc)
    if ops.dead_letters is None:
        raise NoWorkbench()
    letters = await ops.dead_letters.list(where)
    return JSONResponse([d.as_dict() for d in letters])


@router.post(
    "/api/dead-letters/{node}/{action}",
    **_api(
        "Redrive or discard: {trackingIds | all, reason}; JSON only, same origin (or the bearer credential)",
        json_answer(
            "The outcome", _OUTCOME, {"action": "redrive", "done": ["…"], "failed": [], "missing": []}
        ),
        400,
        403,
        404,
        413,
        415,
        501,
        body=_ACTION_BODY,
    ),
)
async def api_dead_letters_act(
    node: str, action: Literal["redrive", "discard"], request: Request, svc: Services, name: ApiOperator
) -> Response:
    where = _strict_node(node)
    if not same_secret(credentials(request).bearer, svc.operator_token) and not _same_origin(request):
        raise CrossSite("a cross-site request with the session cookie is refused; send the bearer credential")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise NotJson(f"content type {media or '(none)'} is not application/json")
    try:
        body = json.loads(await bounded_body(request, BODY_LIMIT, BodyTooLarge))
    except ValueError:
        raise BadRequest("a JSON body {trackingIds: [...] | all: true, reason: ...} is expected") from None
    if not isinstance(body, dict):
        raise BadRequest("a JSON object is expected")
    ids = None if body.get("all") is True else [str(i) for i in body.get("trackingIds") or []]
    if _ops(svc).dead_letters is None:
        raise NoWorkbench()
    try:
        outcome = await _act(svc, action, where, ids, str(body.get("reason") or ""), name)
    except InvalidAction as exc:
        raise Refused(str(exc)) from None
    return JSONResponse(outcome.as_dict())
