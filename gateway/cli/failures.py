"""What a user can mend is told in one line on stderr with exit code 2, never as a traceback: a bad setting,
a database URL that is wrong or a database that cannot be reached, a missing file, a dev PKI that does not
fit together. Anything else is a fault of the program and keeps its traceback.

The line never repeats a database URL (it may hold a password) nor a value of a message.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from typer.core import TyperGroup

from adapters.db import BadDatabaseUrl, NoDatabase
from gateway.config import ConfigError
from gateway.errors import Unavailable
from gateway.security.pkidir import PkiMismatch

EXIT_CODE = 2


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _os_error(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS files cannot be used: {exc.reason or exc}"
    if exc.filename is not None:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    if isinstance(exc, ConnectionError | socket.gaierror | TimeoutError):
        return f"cannot connect: {exc.strerror or type(exc).__name__} (is the broker or database running?)"
    return _first_line(str(exc)) or type(exc).__name__


def explain(exc: BaseException) -> str | None:
    """The one line for an error a user can mend, or None for a fault of the program."""
    if isinstance(exc, ConfigError | PkiMismatch | NoDatabase | BadDatabaseUrl):
        return str(exc)
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or exc.title}: {error['msg']}"
            for error in exc.errors()
        )
    if isinstance(exc, sa_exc.ArgumentError):  # also NoSuchModuleError: the URL itself is wrong
        return "the database URL (GATEWAY_DATABASE_URL or --db) is not one SQLAlchemy can use"
    if isinstance(exc, sa_exc.DBAPIError):
        cause = exc.orig if exc.orig is not None else exc
        return f"database: {_first_line(str(cause)) or type(cause).__name__}"
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return f"database: {type(exc).__name__}"
    if isinstance(exc, Unavailable):
        return str(exc)
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, ExceptionGroup):
        lines = [explain(inner) for inner in exc.exceptions]
        return None if None in lines else "; ".join(dict.fromkeys(line for line in lines if line))
    return None


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn the errors :func:`explain` knows into ``gateway: <line>`` on stderr and exit code 2."""
    try:
        yield
    except Exception as exc:
        line = explain(exc)
        if line is None:
            raise
        typer.echo(f"gateway: {line}", err=True)
        raise typer.Exit(EXIT_CODE) from None


class OneLineErrors(TyperGroup):
    """The ``gateway`` command group: every sub-command runs inside :func:`one_line_errors`."""

    def invoke(self, ctx: Any) -> Any:
        with one_line_errors():
            return super().invoke(ctx)
