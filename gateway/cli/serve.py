"""``gateway serve``: both nodes in one process (default) or one node (``--node``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
from collections.abc import Generator

import typer
import uvicorn

from gateway import logs
from gateway.config import Settings
from gateway.http.serving import node_server_config, scheme, tls_context
from gateway.runtime import Runtime


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`run` (several servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT: several processes of one node share its port, the kernel spreads
    connections over them (one process per core; a process that dies leaves the others serving)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


# young objects collected once this many allocations outnumber deallocations (CPython's default: 700; a
# request allocates a few thousand short-lived objects, so the default collects several times per message),
# the middle generation once per this many young collections, the oldest (what start-up left unfrozen and
# what lived through the middle one) once per this many of those. A young collection walks every object made
# since the one before that still lives, at least the threshold's worth (the requests in flight: their
# coroutines, frames, tuples and futures), finds next to nothing to free, and every request of the process
# waits through it: at 20,000 each took 4-13 ms of CPU (p50) in `bench stages` at 300-500/s, 1-6 per process
# in 8 seconds; at 5,000 1.4-2.9 ms, 1-5 a second (docs/scaling.md). The middle one runs as often as before
# (every million net allocations): 200 young collections of 5,000 where it was 50 of 20,000.
GC_THRESHOLDS = (5_000, 200, 100)


def _settle_heap() -> None:
    """Move what start-up made (schemas, the ORM's metadata, the web framework, compiled statements) out of
    the garbage collector's sight and collect the young generation less often: every full collection
    otherwise walks those hundreds of thousands of long-lived objects again. Measured with the bench's
    ingest at concurrency 64: about a quarter less gateway CPU per message."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def run(settings: Settings, banner: bool = False, reuse_port: bool = False) -> None:
    """Start the runtime and serve every node until SIGINT/SIGTERM; in-flight requests finish first."""
    for node in settings.nodes:  # a dev PKI no client would accept stops the start before anything opens
        tls_context(settings, node)
    runtime = await Runtime.start(settings)
    _settle_heap()
    servers = []
    sockets: list[list[socket.socket] | None] = []
    for node, app in runtime.apps.items():
        config = node_server_config(app, settings, node)  # TLS when configured, time and size limits
        servers.append(_Server(config))
        sockets.append([_listening_socket(settings.host, settings.port(node))] if reuse_port else None)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    if banner:
        _banner(settings)
    try:
        await asyncio.gather(*(server.serve(sockets=s) for server, s in zip(servers, sockets, strict=True)))
    finally:
        await runtime.close()


def _banner(settings: Settings) -> None:
    names = {"ggk": "municipal node (GGk role)", "vecozo": "provider node (VECOZO role)"}
    for node in settings.nodes:
        url = f"{scheme(settings)}://{settings.host}:{settings.port(node)}"
        typer.echo(f"{names[node]:<30} {url}   (OpenAPI: {url}/docs)")
    if settings.security.tls_dir is not None:
        pki = settings.security.tls_dir
        typer.echo(
            f"Mutual TLS: CA {pki / 'ca.pem'}, client certificates in {pki / 'clients'} "
            f"({settings.security.client_certs})."
        )
    typer.echo("First message: see 'A first exchange' in README.md (tokens in var/demo-tokens.json).")


def serve(
    node: str = typer.Option("", "--node", help="ggk or vecozo; default both in one process"),
    banner: bool = typer.Option(False, "--banner", help="print where the nodes listen"),
    reuse_port: bool = typer.Option(
        False,
        "--reuse-port",
        help="share the node's port with other processes of the same node (SO_REUSEPORT)",
    ),
) -> None:
    """Serve the gateway nodes."""
    settings = Settings.from_env(None, nodes=node) if node else Settings.from_env()
    logs.configure(settings.log)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(run(settings, banner, reuse_port))
    else:
        uvloop.run(run(settings, banner, reuse_port))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
