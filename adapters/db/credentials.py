"""API credentials: random tokens shown once, stored as a salted keyed hash.

A token is ``{key_id}.{secret}``: ``key_id`` (16 hex characters) finds the row by primary key, ``secret``
(32 random bytes, URL-safe base64) is checked against ``HMAC-SHA256(salt, secret)`` in constant time.
A slow password hash (scrypt, bcrypt) protects guessable passwords; a 256-bit random secret cannot be
guessed, so one HMAC (about a microsecond) gives the same protection at any request rate.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

KEY_ID_BYTES = 8
SECRET_BYTES = 32
SALT_BYTES = 16


@dataclass(frozen=True, slots=True)
class Hashed:
    """What the database keeps of a credential."""

    key_id: str
    salt: str = field(repr=False)
    digest: str = field(repr=False)


def new_token() -> tuple[str, Hashed]:
    """A fresh token and its stored form."""
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{key_id}.{secret}", Hashed(key_id, salt.hex(), _digest(salt, secret))


def key_id_of(token: str) -> str | None:
    """The key id of a well-formed token, else None."""
    key_id, dot, secret = token.partition(".")
    if not dot or len(key_id) != 2 * KEY_ID_BYTES or not secret or len(secret) > 128:
        return None
    try:
        bytes.fromhex(key_id)
    except ValueError:
        return None
    return key_id


def matches(token: str, salt: str, digest: str) -> bool:
    """True when ``token``'s secret hashes to ``digest`` (constant-time compare)."""
    _, _, secret = token.partition(".")
    return hmac.compare_digest(_digest(bytes.fromhex(salt), secret), digest)


def _digest(salt: bytes, secret: str) -> str:
    return hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).hexdigest()
