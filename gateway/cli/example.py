"""``gateway example NAME [--fresh]``: an official example message, optionally with a new Identificatie."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.config import REPO_ROOT
from gateway.errors import Rejection
from gateway.standard.renumber import renumbered

DEFAULT_DIR = REPO_ROOT.parent / "shared" / "istandaarden"


def _standard(name: str) -> str:
    return "ijw-3.2" if name.upper().startswith("JW") else "iwmo-3.2"


def example(
    name: Annotated[str, typer.Argument(help="The message: WMO315, JW301, ...")],
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="A new Identificatie (IdentificatieRetour for a retour): a new message on every call.",
        ),
    ] = False,
    directory: Annotated[
        Path, typer.Option("--dir", help="The official reference files (istandaarden/ of ../shared).")
    ] = DEFAULT_DIR,
) -> None:
    """Print an official example message to standard output (e.g. to post it with curl --data-binary @-)."""
    folder = directory / _standard(name) / "examples"
    path = folder / f"{name.upper()}.xml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.xml")) if folder.is_dir() else []
        hint = f" (there are {', '.join(known)})" if known else ""
        typer.echo(f"no example {name} in {folder}{hint}", err=True)
        raise typer.Exit(2)
    data = path.read_bytes()
    if fresh:
        try:
            data = renumbered(data)
        except (ValueError, Rejection) as exc:
            typer.echo(f"{path}: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(data, nl=False)


def register(app: typer.Typer) -> None:
    app.command("example")(example)
