"""Build the FastAPI app of one node around its wired services."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

from gateway import __version__
from gateway.http import berichten, health, mailbox, problems
from gateway.http.deps import NodeServices

TITLES = {
    "ggk": "Gegevensknooppunt: municipal node (GGk role)",
    "vecozo": "Gegevensknooppunt: provider node (VECOZO role)",
}


def create_app(
    services: NodeServices,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]] | None = None,
    extra_routers: tuple[Any, ...] = (),
) -> FastAPI:
    """One node's HTTP interface: REST ingest, mailbox, track & trace, health, admin (when wired)."""
    app = FastAPI(
        title=TITLES[services.node],
        version=__version__,
        description="Routes only iJw and iWmo standard messages; refusals carry the chain's own error codes.",
        lifespan=lifespan,
    )
    app.state.services = services
    problems.install(app, services.node)
    for router in (berichten.router, mailbox.router, health.router, *extra_routers):
        app.include_router(router)
    return app
