"""``gateway simulate``: simulated municipalities and providers that answer like real software, and traffic.

Every party with a token in ``var/demo-tokens.json`` (or only those ``--parties`` names, or only those marked
``simulated = true`` in the seed file ``--parties-from`` names) gets a counterpart that reads its mailbox and
answers; the traffic generator starts new exchanges between them at ``--rate`` a second. Stop with Ctrl-C.

The parties send with their API credentials. When the nodes serve TLS (``GATEWAY_TLS_DIR``, else ``var/pki``
when it exists, as ``scripts/run``; ``GATEWAY_TLS_DIR=`` for plain HTTP) that goes over HTTPS trusting the
dev CA, which needs ``GATEWAY_CLIENT_CERTS=optional`` (the default).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import date
from pathlib import Path

import httpx
import typer

from adapters.db.seed import SeedError, load_seed, read_tokens
from gateway import paths
from gateway.errors import NodeRole
from gateway.http.serving import base_url, client_settings, client_verify
from gateway.simulate.counterpart import Stats
from gateway.simulate.run import Simulation, active_parties
from gateway.simulate.traffic import Faults


def _summary(stats: Stats) -> str:
    sent = sum(stats.sent.values())
    received = sum(stats.received.values())
    refused = ", ".join(f"{code} {n}" for code, n in stats.refused.most_common(4)) or "none"
    top = ", ".join(f"{name} {n}" for name, n in stats.sent.most_common(6))
    return f"sent {sent} ({top}); received {received}; refused: {refused}"


async def _wait_ready(clients: dict[NodeRole, httpx.AsyncClient], seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            answers = [await c.get("/healthz") for c in clients.values()]
            if all(a.status_code == 200 for a in answers):
                return True
        except httpx.HTTPError:
            pass
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.5)


async def _run(
    sim: Simulation,
    clients: dict[NodeRole, httpx.AsyncClient],
    duration: float,
    count: int,
    wait: float,
    quiet: bool,
    operator_token: str | None,
) -> int:
    if not await _wait_ready(clients, wait):
        where = ", ".join(str(c.base_url) for c in clients.values())
        typer.echo(f"the gateway does not answer on /healthz ({where})", err=True)
        return 2
    active = None
    if operator_token:
        active = await active_parties(clients["ggk"], operator_token, date.today())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration > 0:
        loop.call_later(duration, stop.set)
    task = asyncio.create_task(sim.run(stop, active=active, count=count or None))
    try:
        while not task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 10)
            if not quiet:
                typer.echo(_summary(sim.stats))
    finally:
        stop.set()
        await task
    return 0


def _simulated(seed_file: Path) -> list[str]:
    """The codes marked ``simulated = true`` in ``seed_file``; none is an error (the traffic would be empty)."""
    try:
        codes = sorted(load_seed(seed_file).simulated)
    except SeedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if not codes:
        typer.echo(f"{seed_file}: no participant is marked `simulated = true`", err=True)
        raise typer.Exit(2)
    return codes


def simulate(
    rate: float = typer.Option(
        2.0,
        "--rate",
        help="new exchanges started per second, each a message and its answers (0: only answer)",
    ),
    duration: float = typer.Option(
        0.0, "--duration", help="stop after this many seconds (0: run until Ctrl-C)"
    ),
    count: int = typer.Option(0, "--count", help="start this many exchanges, then only answer"),
    tokens: Path = typer.Option(paths.DEMO_TOKENS, "--tokens", help="party code -> API token (JSON)"),
    parties: str = typer.Option(
        "", "--parties", help="comma-separated party codes to simulate (default: all)"
    ),
    parties_from: Path | None = typer.Option(
        None,
        "--parties-from",
        help="simulate the parties marked `simulated = true` in this seed file (deploy/demo/participants.toml)",
    ),
    ggk_url: str = typer.Option(
        "", "--ggk-url", help="municipal node (default from GATEWAY_HOST/GATEWAY_GGK_PORT/GATEWAY_TLS_DIR)"
    ),
    vecozo_url: str = typer.Option(
        "",
        "--vecozo-url",
        help="provider node (default from GATEWAY_HOST/GATEWAY_VECOZO_PORT/GATEWAY_TLS_DIR)",
    ),
    answer: bool = typer.Option(True, "--answer/--no-answer", help="answer what arrives in the mailboxes"),
    faults: bool = typer.Option(True, "--faults/--no-faults", help="send a small share of faulty messages"),
    seed: int | None = typer.Option(None, "--seed", help="repeatable values"),
    wait: float = typer.Option(60.0, "--wait", help="seconds to wait for the gateway to come up"),
    quiet: bool = typer.Option(False, "--quiet", help="no summary lines"),
) -> None:
    """Simulated counterparts and demo traffic against a running gateway."""
    settings = client_settings()
    if not tokens.exists():
        typer.echo(
            f"no token file {tokens}: run `gateway participants seed ... --demo-tokens {tokens}`", err=True
        )
        raise typer.Exit(2)
    if settings.security.tls_dir is not None and settings.security.client_certs == "required":
        typer.echo(
            "the simulated parties send with API credentials: GATEWAY_CLIENT_CERTS=required refuses them",
            err=True,
        )
        raise typer.Exit(2)
    try:
        verify = client_verify(settings)
    except OSError as exc:  # also ssl.SSLError
        typer.echo(f"cannot read the dev CA in {settings.security.tls_dir} ({type(exc).__name__})", err=True)
        raise typer.Exit(2) from None
    only = [p.strip() for p in parties.split(",") if p.strip()] or None
    if only is None and parties_from is not None:
        only = _simulated(parties_from)
    urls: dict[NodeRole, str] = {
        "ggk": ggk_url or base_url(settings, "ggk"),
        "vecozo": vecozo_url or base_url(settings, "vecozo"),
    }

    async def main() -> int:
        limits = httpx.Limits(max_connections=64)
        clients: dict[NodeRole, httpx.AsyncClient] = {
            node: httpx.AsyncClient(base_url=url, timeout=30, limits=limits, verify=verify)
            for node, url in urls.items()
        }
        try:
            sim = Simulation(
                clients,
                read_tokens(tokens),
                rate=rate,
                answer=answer,
                seed=seed,
                faults=Faults() if faults else Faults(0, 0, 0),
                only=only,
            )
            return await _run(sim, clients, duration, count, wait, quiet, settings.operator_token)
        finally:
            for client in clients.values():
                await client.aclose()

    raise typer.Exit(asyncio.run(main()))


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
