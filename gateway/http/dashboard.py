"""``/dashboard``: the operator dashboard, track & trace and the dead-letter workbench.

Behind the operator credential (``GATEWAY_OPERATOR_TOKEN``): a browser signs in once with a form and gets
a signed, HttpOnly, SameSite=Strict session cookie (12 hours); scripts send the credential as a bearer
token to the same routes (the JSON ones under ``/dashboard/api``). Server-rendered with Jinja2; the live
figures are fetched by a small script (``static/dashboard.js``, plain SVG, no build step, no CDN).
Dead letters are shown by their metadata only, never their body; every redrive or discard needs a reason,
which goes into the audit trail with the operator's name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.errors import GatewayError, NodeRole, NotAuthenticated
from gateway.http.deps import NodeServices, Services, credentials, same_secret
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
    found = session.verify(svc.operator_token, request.cookies.get(session.COOKIE))
    return None if found is None else found.operator


async def api_operator(request: Request, svc: Services) -> str:
    name = operator_name(request, svc)
    if name is None:
        raise NotAuthenticated("this operation needs the operator credential")
    return name


ApiOperator = Annotated[str, Depends(api_operator)]


def _same_origin(request: Request) -> bool:
    """A form post comes from our own pages (SameSite=Strict already keeps other sites' posts cookieless)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _form(request: Request) -> dict[str, list[str]]:
    body = (await request.body())[:65536].decode("utf-8", "replace")
    return parse_qs(body, keep_blank_values=True)


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/dashboard/login?next={quote(request.url.path)}", status_code=303)


def _node(svc: NodeServices, raw: str | None) -> NodeRole:
    for node in NODES:
        if raw == node:
            return node
    return svc.node


# --- sign in --------------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse, summary="Operator sign-in form")
async def login_form(svc: Services, next: str = "/dashboard", failed: int = 0) -> HTMLResponse:
    target = next if next.startswith("/dashboard") else "/dashboard"
    return _render(
        "login.html", node=svc.node, next=target, failed=bool(failed), configured=bool(svc.operator_token)
    )


@router.post("/login", summary="Sign in with the operator credential (sets the session cookie)")
async def login(request: Request, svc: Services) -> Response:
    form = await _form(request)
    token = (form.get("token") or [""])[0].strip()
    name = (form.get("operator") or ["operator"])[0].strip() or "operator"
    target = (form.get("next") or ["/dashboard"])[0]
    if not target.startswith("/dashboard") or target.startswith("/dashboard/login"):
        target = "/dashboard"
    try:
        name = check_operator(name)
    except InvalidAction:
        name = ""
    if not (svc.operator_token and same_secret(token, svc.operator_token) and name):
        return RedirectResponse(f"/dashboard/login?failed=1&next={quote(target)}", status_code=303)
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


@router.post("/logout", summary="Sign out")
async def logout() -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(session.COOKIE, path="/dashboard")
    return response


@router.get("/validatie", response_class=HTMLResponse, summary="Validate a message file in the browser")
async def validatie(svc: Services) -> HTMLResponse:
    """The validation page: open to anyone (it holds no data); the validation itself (POST /v1/validaties)
    needs a participant's credential or client certificate, or the operator credential."""
    return _render("validatie.html", node=svc.node, operator=None, page="validatie")


@router.get("/static/{name}", summary="The dashboard's script and style", include_in_schema=False)
async def static(name: str) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])


# --- pages ----------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse, summary="Overview: throughput, refusals, mailboxes, links, DLQ")
async def overview(request: Request, svc: Services) -> Response:
    name = operator_name(request, svc)
    if name is None:
        return _login_redirect(request)
    summary = await _ops(svc).summary()
    return _render("overview.html", node=svc.node, operator=name, s=summary, page="overview")


@router.get(
    "/trace", response_class=HTMLResponse, summary="Track & trace by tracking id or sender + Identificatie"
)
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


@router.get("/dead-letters", response_class=HTMLResponse, summary="Dead-letter workbench")
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


@router.post("/dead-letters/{node}/{action}", summary="Redrive or discard dead letters (form)")
async def dead_letters_form(node: str, action: str, request: Request, svc: Services) -> Response:
    name = operator_name(request, svc)
    if name is None:
        return _login_redirect(request)
    if not _same_origin(request):
        return Response("cross-site form post refused", status_code=403)
    where = _node(svc, node)
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


@router.get("/api/summary", summary="The overview's figures (JSON)")
async def api_summary(svc: Services, _: ApiOperator) -> dict[str, Any]:
    summary: dict[str, Any] = await _ops(svc).summary()
    return summary


@router.get("/api/trace/{tracking_id}", summary="One message's life and its conversation (JSON)")
async def api_trace(tracking_id: str, svc: Services, _: ApiOperator) -> Response:
    found = await _ops(svc).tracer.life(tracking_id) if _ID.match(tracking_id) else None
    if found is None:
        return JSONResponse({"detail": "no such message"}, status_code=404)
    return JSONResponse(found.as_dict())


@router.get("/api/dead-letters/{node}", summary="Dead letters of a node, metadata only (JSON)")
async def api_dead_letters(node: str, svc: Services, _: ApiOperator) -> Response:
    ops = _ops(svc)
    if ops.dead_letters is None:
        return JSONResponse(
            {"detail": "the dead-letter workbench needs the RabbitMQ broker"}, status_code=501
        )
    letters = await ops.dead_letters.list(_node(svc, node))
    return JSONResponse([d.as_dict() for d in letters])


@router.post("/api/dead-letters/{node}/{action}", summary="Redrive or discard: {trackingIds | all, reason}")
async def api_dead_letters_act(
    node: str, action: str, request: Request, svc: Services, name: ApiOperator
) -> Response:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("a JSON body {trackingIds: [...] | all: true, reason: ...} is expected") from None
    if not isinstance(body, dict):
        raise BadRequest("a JSON object is expected")
    ids = None if body.get("all") is True else [str(i) for i in body.get("trackingIds") or []]
    try:
        outcome = await _act(svc, action, _node(svc, node), ids, str(body.get("reason") or ""), name)
    except InvalidAction as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    return JSONResponse(outcome.as_dict())
