"""``gateway serve``: both nodes in one process (default) or one node (``--node``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Generator

import typer
import uvicorn

from gateway.config import Settings
from gateway.runtime import Runtime


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`run` (several servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def run(settings: Settings, banner: bool = False) -> None:
    """Start the runtime and serve every node until SIGINT/SIGTERM; in-flight requests finish first."""
    runtime = await Runtime.start(settings)
    servers = []
    for node, app in runtime.apps.items():
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port(node),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=30,
        )
        servers.append(_Server(config))
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    if banner:
        _banner(settings)
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        await runtime.close()


def _banner(settings: Settings) -> None:
    names = {"ggk": "municipal node (GGk role)", "vecozo": "provider node (VECOZO role)"}
    for node in settings.nodes:
        url = f"http://{settings.host}:{settings.port(node)}"
        typer.echo(f"{names[node]:<30} {url}   (OpenAPI: {url}/docs)")
    typer.echo("First message: see 'A first exchange' in README.md (tokens in var/demo-tokens.json).")


def serve(
    node: str = typer.Option("", "--node", help="ggk or vecozo; default both in one process"),
    banner: bool = typer.Option(False, "--banner", help="print where the nodes listen"),
) -> None:
    """Serve the gateway nodes."""
    env = dict(os.environ)
    if node:
        env["GATEWAY_NODES"] = node
    settings = Settings.from_env(env)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(run(settings, banner))
    else:
        uvloop.run(run(settings, banner))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
