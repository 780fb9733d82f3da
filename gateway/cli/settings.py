"""``gateway settings``: check the settings this process would start with; write their documentation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.config import ConfigError, Settings

group = typer.Typer(no_args_is_help=True, help="The GATEWAY_* settings: check them, document them.")


@group.command("check")
def check() -> None:
    """Read the settings as `gateway serve` would (environment and .env); one line per problem, exit 2."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(repr(settings))  # secrets are kept out of the repr


@group.command("docs")
def docs(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the table here (e.g. docs/settings.md) instead of stdout."),
    ] = None,
) -> None:
    """Print docs/settings.md: every setting with its type, default and meaning, made from the model."""
    from gateway.config.table import markdown

    text = markdown()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="settings")
