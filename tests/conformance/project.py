"""The project's verdict: ``Engine.check`` with the repository's own schemas (valid when it returns)."""

from __future__ import annotations

from gateway.errors import Rejection
from gateway.standard.engine import Engine


def project_verdict(engine: Engine, data: bytes) -> tuple[bool, str]:
    """(valid, what the engine said): the Rejection class and its first errors when it refused."""
    try:
        engine.check(data)
    except Rejection as exc:
        where = ", ".join(f"{e.code} {e.path or '-'}: {e.text}" for e in exc.errors[:3])
        return False, f"{type(exc).__name__}({where})"
    return True, "accepted"
