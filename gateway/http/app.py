"""Build the FastAPI app of one node around its wired services."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway import __version__
from gateway.errors import NodeRole, Unavailable
from gateway.http import berichten, contract, docs, problems
from gateway.http.deps import NodeServices
from gateway.interfaces.errors import WrongNode
from gateway.ops.observe import count_edge_refusal
from gateway.ports import NODES

TITLES = {
    "ggk": "Gegevensknooppunt: municipal node (GGk role)",
    "vecozo": "Gegevensknooppunt: provider node (VECOZO role)",
}


Take = Callable[[Request], Awaitable[Response]]

# requests one process serves through the fast path at once; more are answered 503 before their body is read
MOST_IN_FLIGHT = 256


class Overloaded(Unavailable):
    """The process already serves as many submissions as it takes at once: retry after ``retry_after``."""

    reason = "overloaded"
    title = "The node is serving as many messages as it can; retry after the Retry-After seconds"
    retry_after = 1


# how a plain response sends itself (its start and its one body message): what ``whole`` does at once
_RESPONDS = Response.__call__


def _route_path(scope: Scope) -> str:
    """The request's path inside this app (an app mounted under a prefix sees the rest)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


class NodeApp(FastAPI):
    """A node's FastAPI app that serves its hottest operation, ``POST /v1/berichten``, without the
    framework's layers: the route stays in the app (its OpenAPI entry, and the same code behind it), but a
    request for it goes straight to :func:`gateway.http.berichten.take`, and what that raises is answered
    as the app's handlers answer it (:func:`gateway.http.problems.answerer`). Measured under load at
    concurrency 64 the middleware, routing, dependency injection and response classes took a fifth of a
    node's CPU per message."""

    fast: dict[tuple[str, str], Take]
    answer: problems.Answer
    most_in_flight = MOST_IN_FLIGHT  # beyond it a submission is refused at once (the work held is bounded)
    in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            take = self.fast.get((scope["method"], _route_path(scope)))
            if take is not None:
                scope["app"] = self
                if self.in_flight >= self.most_in_flight:  # before the body is read: cheap
                    busy = Overloaded(f"over {self.most_in_flight} submissions in progress in this process")
                    await self.answer(scope["method"], scope["path"], busy)(scope, receive, send)
                    return
                self.in_flight += 1
                try:
                    try:
                        response = await take(Request(scope, receive, send))
                    except Exception as exc:
                        response = self.answer(scope["method"], scope["path"], exc)
                    whole = getattr(send, "whole", None)  # the node's protocol: the answer in one write
                    if (
                        whole is None
                        or response.background is not None
                        or type(response).__call__ is not _RESPONDS
                        or not whole(response.status_code, response.raw_headers, response.body)
                    ):
                        await response(scope, receive, send)
                finally:
                    self.in_flight -= 1
                return
        await super().__call__(scope, receive, send)


def create_app(
    services: NodeServices,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]] | None = None,
    extra_routers: tuple[Any, ...] = (),
) -> FastAPI:
    """One node's HTTP interface: REST ingest, mailbox, track & trace, health, admin (when wired)."""
    app = NodeApp(
        title=TITLES[services.node],
        version=__version__,
        description="Routes only iJw and iWmo standard messages; refusals carry the chain's own error codes.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by gateway.http.docs: no CDN
        redoc_url=None,
    )
    app.state.services = services
    hook = None
    if (
        services.ops is not None
    ):  # operations: count refusals made before the pipeline (size, type, credential)
        hook = functools.partial(count_edge_refusal, services.ops.metrics, services.node)
    app.answer = problems.install(app, services.node, hook)
    app.fast = {("POST", "/v1/berichten"): berichten.take}
    docs.install(app)
    first, *rest = (*_routers(services.node), *extra_routers)
    app.include_router(first)  # POST /v1/berichten: matched before any other route
    if services.koppeling is not None:  # VECOZO's REST interfaces, on the provider node (push next)
        from gateway.http import koppeling

        koppeling.install(app)
        app.fast[("POST", koppeling.PUSH_PATH)] = koppeling.post_bericht  # VECOZO's push, the same way
    for router in rest:
        app.include_router(router)
    _elsewhere(app, services.node)
    contract.install(app)
    if services.koppeling is not None:  # described as VECOZO's specifications describe them
        koppeling.document(app)
    return app


# Each module listed here exposes `router` (a FastAPI APIRouter), mounted on the nodes named beside it: an
# interface of one node does not exist on the other (404), and each node's OpenAPI lists only its own.
ROUTER_MODULES: dict[str, tuple[NodeRole, ...]] = {
    "gateway.http.berichten": NODES,
    "gateway.http.mailbox": NODES,
    "gateway.http.health": NODES,
    "gateway.http.admin": NODES,
    "gateway.http.stuf": ("ggk",),  # StUF-GGk ggk0210: the municipal node
    "gateway.http.vsp": ("vecozo",),  # VECOZO IndienenBericht: the provider node
    "gateway.http.metrics": NODES,
    "gateway.http.dashboard": NODES,
    "gateway.http.validaties": NODES,
}


def _routers(node: NodeRole) -> list[Any]:
    return [importlib.import_module(name).router for name, nodes in ROUTER_MODULES.items() if node in nodes]


def _elsewhere(app: FastAPI, node: NodeRole) -> None:
    """The other node's own interfaces answer 404 problem+json with IB102 here (not in this node's OpenAPI)."""
    for name, nodes in ROUTER_MODULES.items():
        if node in nodes:
            continue
        served_by = " and ".join(TITLES[n].split(": ")[1].split(" (")[0] for n in nodes)
        for route in importlib.import_module(name).router.routes:
            path = getattr(route, "path", "")
            app.add_api_route(
                path,
                _refusal(f"{path} is served by the {served_by}, not by this one"),
                methods=sorted(route.methods),
                include_in_schema=False,
            )


def _refusal(detail: str) -> Callable[[], Awaitable[None]]:
    async def refuse() -> None:
        raise WrongNode(detail)

    return refuse
