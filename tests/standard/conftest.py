"""Fixtures for the standard message engine tests: engines over the project's and the official schemas,
the fixture folders, and a guard that fails a test when anything tries to reach the network."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.standard.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "istandaarden"
FIXTURES = ROOT / "tests" / "fixtures"
REJECTIONS = FIXTURES / "rejections"
HOSTILE = FIXTURES / "hostile"
OFFICIAL_XSD = (SHARED / "ijw-3.2" / "xsd", SHARED / "iwmo-3.2" / "xsd")


def shared_or_skip() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"official reference files not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine over the project's own schemas and catalogue (the defaults)."""
    return Engine.load()


@pytest.fixture(scope="session")
def official_engine() -> Engine:
    """The engine over the official iJw/iWmo 3.2 XSDs, as they are."""
    shared_or_skip()
    return Engine.load(list(OFFICIAL_XSD))


class NetworkGuard:
    """A listening socket on 127.0.0.1 that hostile fixtures point at (``PORT``), plus a patched
    ``socket.connect``: libxml2 would connect from C, Python code through ``socket``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.attempts: list[Any] = []

        def refuse(sock: socket.socket, address: Any) -> None:
            self.attempts.append(address)
            raise OSError("network access attempted in a test that forbids it")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)

    def fill(self, data: bytes) -> bytes:
        return data.replace(b"PORT", str(self.port).encode())

    def connections(self) -> int:
        """Connections that reached the listener (none may)."""
        readable, _, _ = select.select([self.listener], [], [], 0)
        return len(readable) + len(self.attempts)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    guard = NetworkGuard(monkeypatch)
    yield guard
    guard.close()
