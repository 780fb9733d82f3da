"""Servers of the bench's own: a RabbitMQ node and a PostgreSQL server beside the machine's, for one run.

The machine's broker and database serve everything else on it too (other test runs, other benchmarks); the
CPU a message costs them cannot be told apart from what the others cost. On servers of its own the bench
meters only its own traffic. Both are stopped and their folders removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.broker.own_node import OwnNode

__all__ = ["OwnNode", "OwnPostgres"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, else the newest under Debian's /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise SystemExit(f"{name} not found: install postgresql (scripts/postgres.sh)")
    return str(versions[-1] / name)


@dataclass
class OwnPostgres:
    """A PostgreSQL server of its own (trust on 127.0.0.1, user postgres), settings as Debian's default
    cluster but with room for the bench's connection pools."""

    base: Path
    port: int

    @classmethod
    def start(cls, max_connections: int = 400) -> OwnPostgres:
        base = Path(tempfile.mkdtemp(prefix="gw-bench-pg-"))
        server = cls(base, _free_port())
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_postgres:
            subprocess.run(["chown", "-R", "postgres:postgres", str(base)], check=True)
        try:
            subprocess.run(
                [*as_postgres, _bin("initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust"],
                check=True,
                capture_output=True,
                env={**os.environ, "LC_ALL": "C.UTF-8"},
            )
            options = (
                f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 "
                f"-c max_connections={max_connections}"
            )
            subprocess.run(
                [
                    *as_postgres,
                    _bin("pg_ctl"),
                    "-D",
                    str(base / "data"),
                    "-o",
                    options,
                    "-l",
                    str(base / "log"),
                    "-w",
                    "-t",
                    "120",
                    "start",
                ],
                check=True,
                capture_output=True,
            )
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        return server

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int | None:
        """The server's main process (first line of ``postmaster.pid``)."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.base / "data" / "postmaster.pid").read_text().split()[0])
        return None

    def stop(self) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            subprocess.run(
                [*as_postgres, _bin("pg_ctl"), "-D", str(self.base / "data"), "-m", "fast", "-w", "stop"],
                check=True,
                capture_output=True,
                timeout=120,
            )
        time.sleep(0.1)
        shutil.rmtree(self.base, ignore_errors=True)
