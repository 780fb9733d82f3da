"""The operator's dashboard session: a signed cookie issued after the operator credential was shown.

The value is ``base64url(JSON {op, exp, sid}) . HMAC-SHA256`` keyed from the operator credential, so
changing the credential ends every session. Signing out revokes the one session: its random ``sid`` is
kept in :class:`Revocations` until the session would have expired anyway. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field

COOKIE = "gk_operator"
LIFETIME = 12 * 3600


@dataclass(frozen=True, slots=True)
class OperatorSession:
    """Who is signed in (a name for the audit trail) and until when (epoch seconds)."""

    operator: str
    expires: int
    sid: str = ""


def _key(credential: str) -> bytes:
    return hashlib.sha256(b"dashboard-session:" + credential.encode("utf-8")).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue(credential: str, operator: str, now: float | None = None, lifetime: int = LIFETIME) -> str:
    expires = int((now or time.time()) + lifetime)
    payload = json.dumps(
        {"op": operator, "exp": expires, "sid": secrets.token_hex(16)}, separators=(",", ":")
    )
    body = _b64(payload.encode("utf-8"))
    sig = _b64(hmac.new(_key(credential), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{sig}"


def verify(credential: str | None, value: str | None, now: float | None = None) -> OperatorSession | None:
    """The session in a cookie value, or None when it is absent, forged, or expired."""
    if not credential or not value or "." not in value or not value.isascii():
        return None
    body, _, sig = value.partition(".")
    expected = _b64(hmac.new(_key(credential), body.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(sig, expected):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        session = OperatorSession(str(data["op"]), int(data["exp"]), str(data.get("sid", "")))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires < (now or time.time()):
        return None
    return session


@dataclass
class Revocations:
    """Sessions signed out before they expired (by ``sid``), kept until their own expiry, at most ``kept``.

    One per process, shared by the nodes it serves (a browser sends the cookie to both ports); with several
    processes behind one address, rotating the operator credential ends every session everywhere.
    """

    kept: int = 100_000
    _until: dict[str, int] = field(default_factory=dict, repr=False)

    def revoke(self, found: OperatorSession, now: float | None = None) -> None:
        moment = now or time.time()
        self._until = {sid: until for sid, until in self._until.items() if until >= moment}
        if len(self._until) >= self.kept:  # full of live revocations: drop the one that ends first
            self._until.pop(min(self._until, key=self._until.__getitem__))
        self._until[found.sid] = found.expires

    def revoked(self, found: OperatorSession) -> bool:
        return found.sid in self._until

    def __repr__(self) -> str:
        return f"Revocations(revoked={len(self._until)})"
