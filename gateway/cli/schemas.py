"""``gateway schemas list|add``: the installed releases, and installing a directory of official release
files beside them (default target: the first of GATEWAY_SCHEMA_DIRS, else the repository's schemas/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.config import ConfigError, Settings
from gateway.standard.catalog import Catalog
from gateway.standard.install import InstallError, install
from gateway.standard.registry import REPO_SCHEMA_DIR, SchemaRegistry
from gateway.standard.xsdindex import SchemaIndexError

group = typer.Typer(no_args_is_help=True, help="Installed message schemas (releases of iJw and iWmo).")

SchemaDirOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--schema-dir", help="Schema directory (repeatable; default GATEWAY_SCHEMA_DIRS, else schemas/)."
    ),
]


def _dirs(schema_dir: list[Path] | None) -> list[Path]:
    if schema_dir:
        return schema_dir
    try:
        return list(Settings.from_env().schema_dirs)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@group.command("list")
def list_(schema_dir: SchemaDirOption = None) -> None:
    """Show every installed message schema: standard, release, message, BerichtCode, catalogued or not."""
    try:
        registry = SchemaRegistry.from_dirs(_dirs(schema_dir))
    except SchemaIndexError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    catalog = Catalog.load(REPO_SCHEMA_DIR / "catalog.toml")
    typer.echo(f"{'standard':9} {'release':8} {'message':8} {'code':5} {'sender':10} path")
    for schema in registry.messages:
        entry = catalog.resolve(schema.standard, schema.release, schema.name, schema.code)
        sender = entry.sender if entry else "(not catalogued)"
        typer.echo(
            f"{schema.standard:9} {schema.release:8} {schema.name:8} {schema.code or '?':5} {sender:10} {schema.path}"
        )
    for path in registry.shadowed:
        typer.echo(f"shadowed (an earlier directory has its namespace): {path}")
    typer.echo(
        f"{len(registry)} message schemas, releases: "
        + ", ".join(f"{s} {r}" for s, r in sorted(registry.releases))
    )


@group.command("add")
def add(
    source: Annotated[
        Path,
        typer.Argument(
            help="Directory holding one release's XSDs (with its basisschema) and its content rules "
            "(regels.sch and regels.toml), if any."
        ),
    ],
    schema_dir: SchemaDirOption = None,
) -> None:
    """Check a directory of release files (indexes and compiles) and install it beside the others."""
    if not source.is_dir():
        typer.echo(f"error: not a directory: {source}", err=True)
        raise typer.Exit(2)
    try:
        done = install(source, _dirs(schema_dir))
    except InstallError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    catalog = Catalog.load(REPO_SCHEMA_DIR / "catalog.toml")
    names = [m.name for m in done.messages]
    rules = f", {done.rules} content rules" if done.rules else ", no content rules (regels.sch)"
    typer.echo(f"installed {done.standard} {done.release} ({len(names)} messages{rules}) in {done.target}")
    missing = [n for n in names if catalog.resolve(done.standard, done.release, n) is None]
    if missing:
        typer.echo("not in the catalogue (will be refused as not routable): " + ", ".join(missing))


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="schemas")
