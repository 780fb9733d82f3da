"""The ``gateway`` command. Each sub-command group lives in its own module and is registered here."""

from __future__ import annotations

import importlib

import typer

from gateway.cli.failures import OneLineErrors

# errors a user can mend (a bad setting, database or path) end in one line and exit code 2: see failures
app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Gegevensknooppunt gateway", cls=OneLineErrors
)

# module name -> how it is mounted: a module exposes either `register(app)` (plain commands)
# or `app` (a typer group mounted under its name).
_COMMAND_MODULES = (
    "gateway.cli.validate",
    "gateway.cli.example",
    "gateway.cli.schemas",
    "gateway.cli.participants",
    "gateway.cli.pki",
    "gateway.cli.audit",
    "gateway.cli.privacy",
    "gateway.cli.serve",
    "gateway.cli.simulate",
    "gateway.cli.status",
    "gateway.cli.settings",
    "gateway.cli.db",
)


def _load() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a group not built yet
            if exc.name == name:
                continue
            raise
        module.register(app)


def main() -> None:
    _load()
    app()
