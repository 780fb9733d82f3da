"""The keyed hash of a BSN: HMAC-SHA256 with a key kept in a file outside the database.

Without the key the index is a list of random-looking digests: a stolen database dump does not reveal whose
messages they were, and a BSN (nine digits, a billion candidates) cannot be found by trying them all. With
the key (``gateway privacy inzage``) one BSN's entries are found by computing its digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 32


class BsnHasher:
    """Digests BSNs with one key; the repr shows a fingerprint of the key, never the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the BSN key must be at least 16 bytes")
        self._key = key
        self.fingerprint = hashlib.sha256(b"fingerprint:" + key).hexdigest()[:12]

    def digest(self, bsn: str) -> str:
        """The hex HMAC-SHA256 of the BSN (surrounding whitespace ignored)."""
        return hmac.new(self._key, bsn.strip().encode("ascii"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"BsnHasher(key={self.fingerprint}...)"


def load_or_create_key(path: Path | str, what: str = "BSN key") -> bytes:
    """The key in ``path``; made (32 random bytes, mode 0600, parent 0700) when the file does not exist.

    Safe when several processes start at once: the key is written under a temporary name and linked into
    place only if no other process got there first; everyone then reads the key that is in place.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(KEY_BYTES).hex().encode("ascii") + b"\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{path}: the {what} file must hold hex digits") from None
    if len(key) < 16:
        raise ValueError(f"{path}: the {what} is shorter than 16 bytes")
    return key
