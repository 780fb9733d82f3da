"""``gateway validate [--json] [--rules MODE] PATH...``: check message files as the gateway would (safe
parse, classify, XSD, header agreement, the release's content rules TR/CD/CS). Exit 0 when every file is
valid, 1 when any is not, 2 on a usage error. Every error object of ``--json`` carries ``rule`` (the rule
code, null for an XSD error) and ``retourcode``; in ``warn`` mode the broken rules of an accepted file are
listed under ``findings``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.config import ConfigError, Settings
from gateway.standard.engine import Engine, Verdict
from gateway.standard.rules import MODES
from gateway.standard.xsdindex import SchemaIndexError

PathsArgument = Annotated[
    list[Path], typer.Argument(help="Message files, or directories searched recursively for *.xml.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per file per line.")]
RulesOption = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help="Content rules: refuse (as the chain), warn (report, still valid) or off "
        "(default GATEWAY_CONTENT_RULES, else refuse).",
    ),
]
SchemaDirOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--schema-dir",
        help="Directory of XSDs to check against (repeatable; default GATEWAY_SCHEMA_DIRS, else schemas/).",
    ),
]


def _usage(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.xml") if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise _usage(f"no such file or directory: {path}")


def load_engine(schema_dirs: Sequence[Path] | None, rules: str | None = None) -> Engine:
    """The engine over the given schema directories, else the configured ones, in the given content-rules
    mode, else the configured one; usage errors exit 2."""
    if rules is not None and rules not in MODES:
        raise _usage(f"--rules is one of {', '.join(MODES)}")
    try:
        settings = Settings.from_env()
        dirs = list(schema_dirs) if schema_dirs else list(settings.schema_dirs)
        mode = next(m for m in MODES if m == (rules or settings.content_rules_for()))
        return Engine.load(dirs, mode=mode)
    except (ConfigError, SchemaIndexError, OSError) as exc:
        raise _usage(str(exc)) from None


def as_json(path: Path, verdict: Verdict) -> dict[str, Any]:
    message = verdict.message
    return {
        "file": str(path),
        "valid": verdict.valid,
        "standard": message.standard if message else None,
        "release": message.release if message else None,
        "message": message.name if message else None,
        "reason": verdict.rejection.reason if verdict.rejection else None,
        "errors": [item.as_dict() for item in verdict.errors],
        "findings": [item.as_dict() for item in verdict.findings],
    }


def _table_lines(path: Path, verdict: Verdict) -> Iterator[str]:
    message = str(verdict.message) if verdict.message else "-"
    if verdict.rejection is None:
        yield f"{'valid':8} {message:22} {path}"
        items = verdict.findings
    else:
        yield f"{'INVALID':8} {message:22} {path}: {verdict.rejection.detail}"
        items = verdict.errors
    for item in items:
        where = " ".join(p for p in (f"line {item.line}" if item.line else "", item.path or "") if p)
        code = f"{item.code} {item.rule}" if item.rule else item.code
        yield f"{'':8} {code:22} {where + ': ' if where else ''}{item.text}"


def validate(
    paths: PathsArgument,
    json_lines: JsonOption = False,
    schema_dir: SchemaDirOption = None,
    rules: RulesOption = None,
) -> None:
    """Validate message files; exit 0 if all are valid, 1 if any is not, 2 on a usage error."""
    files = list(_files(paths))
    if not files:
        raise _usage("no XML files found")
    engine = load_engine(schema_dir, rules)
    invalid = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _usage(f"cannot read {path}: {exc.strerror}") from None
        verdict = engine.verdict(data)
        invalid += not verdict.valid
        if json_lines:
            typer.echo(json.dumps(as_json(path, verdict), ensure_ascii=False))
        else:
            for line in _table_lines(path, verdict):
                typer.echo(line)
    if not json_lines:
        typer.echo(f"{len(files) - invalid} valid, {invalid} invalid")
    raise typer.Exit(1 if invalid else 0)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
