"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) served from the node itself, for closed networks.

FastAPI's own pages load their scripts, styles, favicon and fonts from public CDNs; here they are the
documented self-hosting (``docs_url=None`` and ``get_swagger_ui_html`` with local URLs). The assets are the
ones the ``fastapi-offline`` package ships (Swagger UI 5 and ReDoc 2, MIT and Apache-2.0), read from the
installed package under ``/docs/assets/``. No page of a node names an outside URL: the one ReDoc's bundle
has (its logo, ``cdn.redoc.ly``) is served pointing at the local favicon.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from importlib.resources import files
from typing import Any, Final

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
ASSET_PREFIX: Final = "/docs/assets/"
_REDOC_LOGO: Final = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_SWAGGER_PARAMETERS: Final = {"validatorUrl": None}  # Swagger UI would ask validator.swagger.io otherwise


def asset_path(name: str) -> Any:
    """Where an asset of the installed ``fastapi-offline`` package lies."""
    return files("fastapi_offline") / "static" / name


@cache
def _redoc_bundle() -> bytes:
    """ReDoc's script with its logo taken from the node instead of the CDN (read once)."""
    data: bytes = asset_path("redoc.standalone.js").read_bytes()
    return data.replace(_REDOC_LOGO, (ASSET_PREFIX + "favicon.png").encode("ascii"))


def install(app: FastAPI) -> None:
    """Add the two documentation pages and their assets to ``app`` (made with ``docs_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    def page(path: str, tool: str, render: Callable[..., HTMLResponse], **urls: str) -> None:
        """The page of ``tool`` at ``path``: ``render`` with the spec and the tool's ``urls`` (an asset's name,
        or a path on the node) below the root path a proxy may put the node at."""

        async def endpoint(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            at = {
                key: root + (url if url.startswith("/") else ASSET_PREFIX + url) for key, url in urls.items()
            }
            return render(openapi_url=root + openapi_url, title=f"{app.title}: {tool}", **at)

        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)

    page(
        "/docs",
        "Swagger UI",
        partial(get_swagger_ui_html, swagger_ui_parameters=_SWAGGER_PARAMETERS),
        oauth2_redirect_url=redirect,
        swagger_js_url="swagger-ui-bundle.js",
        swagger_css_url="swagger-ui.css",
        swagger_favicon_url="favicon.png",
    )
    page(
        "/redoc",
        "ReDoc",
        partial(get_redoc_html, with_google_fonts=False),
        redoc_js_url="redoc.standalone.js",
        redoc_favicon_url="favicon.png",
    )

    @app.get(redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(ASSET_PREFIX + "{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404, f"no documentation asset {name[:60]}")
        headers = {"Cache-Control": "max-age=86400"}
        if name == "redoc.standalone.js":
            return Response(_redoc_bundle(), media_type=ASSETS[name], headers=headers)
        return FileResponse(str(asset_path(name)), media_type=ASSETS[name], headers=headers)
