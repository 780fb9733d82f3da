"""The operator's dashboard session: a signed cookie issued after the operator credential was shown.

The value is ``base64url(JSON {op, exp}) . HMAC-SHA256`` keyed from the operator credential, so changing
the credential ends every session; nothing is kept on the server. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

COOKIE = "gk_operator"
LIFETIME = 12 * 3600


@dataclass(frozen=True, slots=True)
class OperatorSession:
    """Who is signed in (a name for the audit trail) and until when (epoch seconds)."""

    operator: str
    expires: int


def _key(credential: str) -> bytes:
    return hashlib.sha256(b"dashboard-session:" + credential.encode("utf-8")).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue(credential: str, operator: str, now: float | None = None, lifetime: int = LIFETIME) -> str:
    payload = json.dumps({"op": operator, "exp": int((now or time.time()) + lifetime)}, separators=(",", ":"))
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
        session = OperatorSession(str(data["op"]), int(data["exp"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires < (now or time.time()):
        return None
    return session
