"""``gateway pki``: the development PKI (CA, node and participant certificates, CRL, receipt key)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gateway import paths
from gateway.security.pkidir import PkiDir, parties_from_toml

DEFAULT_DIR = paths.PKI_DIR
DEMO_PARTICIPANTS = paths.DEMO_SEED

group = typer.Typer(no_args_is_help=True, help="Development PKI for mutual TLS and signed receipts.")

DirOption = Annotated[Path, typer.Option("--dir", "--out", help="The PKI directory.")]


@group.command("init")
def init(
    out: DirOption = DEFAULT_DIR,
    participants: Annotated[
        Path | None,
        typer.Option(help=f"TOML file of participants (default: {DEMO_PARTICIPANTS} when present)."),
    ] = None,
    party: Annotated[
        list[str] | None, typer.Option("--party", help="A party code to issue a client certificate for.")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Make a new CA and all certificates (the receipt key is kept).")
    ] = False,
) -> None:
    """Create the dev CA, the ggk and vecozo server certificates, a client certificate per participant,
    the CRL and the receipt signing key. Keeps what already exists unless --force."""
    parties: dict[str, str | None] = {}
    source = participants if participants is not None else (None if party else DEMO_PARTICIPANTS)
    if source is not None:
        if not source.exists():
            if participants is not None:
                raise typer.BadParameter(f"{source} does not exist", param_hint="--participants")
        else:
            parties.update(parties_from_toml(tomllib.loads(source.read_text(encoding="utf-8"))))
    for code in party or ():
        parties.setdefault(code, None)
    try:
        report = PkiDir(out).init(parties, force=force)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    for path in report.created:
        typer.echo(f"created  {out / path}")
    for path in report.kept:
        typer.echo(f"kept     {out / path}")
    typer.echo(f"{len(parties)} participants; CA certificate: {out / 'ca.pem'}")


@group.command("revoke")
def revoke(code: str, pki_dir: DirOption = DEFAULT_DIR) -> None:
    """Revoke a participant's client certificate: add it to the CRL (crl.pem is rewritten)."""
    try:
        serial = PkiDir(pki_dir).revoke(code)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {code} (serial {serial:x}); {pki_dir / 'crl.pem'} rewritten")
    typer.echo("run `gateway pki init` to issue the party a new certificate")


@group.command("list")
def list_certificates(pki_dir: DirOption = DEFAULT_DIR) -> None:
    """List the certificates with their party, days until expiry and revocation state."""
    now = datetime.now(UTC)
    for info in PkiDir(pki_dir).certificates():
        days = (info.not_after - now).total_seconds() / 86400
        state = "revoked" if info.revoked else ("expired" if days < 0 else f"{days:.0f} days left")
        typer.echo(f"{info.path:28} {info.party or '-':9} {state:16} {info.subject}")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="pki")
