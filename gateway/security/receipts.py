"""Signed receipts: the node's Ed25519 signature over what it accepted, verifiable offline.

The signed bytes are the canonical JSON of the receipt: keys sorted, no whitespace, UTF-8 (for these
string-only objects this equals RFC 8785 JSON canonicalisation). The key id is the RFC 7638 JWK thumbprint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic.alias_generators import to_camel

ALGORITHM = "EdDSA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# one kept encoder: json.dumps with options of its own builds an encoder on every call
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


# a JSON string as the encoder above writes it (without escaping what is not ASCII)
_string: Final[Callable[[str], str]] = json.encoder.encode_basestring


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no insignificant whitespace, UTF-8."""
    return _canonical(value).encode("utf-8")


def timestamp(at: datetime) -> str:
    """A UTC time as it appears in receipts and the audit chain: ``2024-05-01T12:00:00.123456Z``."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: receipts need timezone-aware times")
    # what strftime("%Y-%m-%dT%H:%M:%S.%fZ") writes (for years from 1000 on), at less than half its cost
    return at.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the node confirms it accepted: ids, parties, message type, body digest, time, node."""

    tracking_id: str
    sha256: str
    sender: str
    recipient: str
    message: str
    received_at: str  # see :func:`timestamp`
    node: str

    @classmethod
    def of(
        cls,
        *,
        tracking_id: str,
        sha256: str,
        sender: str,
        recipient: str,
        message: str,
        received_at: datetime,
        node: str,
    ) -> Receipt:
        return cls(tracking_id, sha256, sender, recipient, message, timestamp(received_at), node)

    def as_dict(self) -> dict[str, str]:
        """The signed object: every field, under the wire's camelCase name (a field added to the receipt is
        signed without more ado)."""
        return dict(zip(_WIRE_NAMES, _VALUES(self), strict=True))


_WIRE_NAMES: Final = tuple(to_camel(f.name) for f in fields(Receipt))
_VALUES: Final = attrgetter(*(f.name for f in fields(Receipt)))
# the canonical JSON of a receipt written directly: its wire names in sorted order, each with what comes
# before its value (the same text as :func:`canonical_json` of :meth:`Receipt.as_dict` for text values)
_SORTED: Final = sorted(zip(_WIRE_NAMES, (f.name for f in fields(Receipt)), strict=True))
_SORTED_VALUES: Final = attrgetter(*(name for _, name in _SORTED))
_HEADS: Final = tuple(("{" if i == 0 else ",") + _string(wire) + ":" for i, (wire, _) in enumerate(_SORTED))


def _canonical_receipt(receipt: Receipt) -> bytes:
    """:func:`canonical_json` of ``receipt.as_dict()``, without the dictionary and the encoder's sort."""
    try:
        text = "".join(
            [head + _string(value) for head, value in zip(_HEADS, _SORTED_VALUES(receipt), strict=True)]
        )
    except TypeError:  # a value that is not text: as the encoder writes it
        return canonical_json(receipt.as_dict())
    return (text + "}").encode("utf-8")


def _thumbprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    return _b64url(hashlib.sha256(canonical_json(members)).digest())


class ReceiptSigner:
    """Signs receipts with the node's Ed25519 key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = key.public_key()
        self.key_id = _thumbprint(self.public_key)

    @classmethod
    def generate(cls) -> ReceiptSigner:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> ReceiptSigner:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the receipt key must be an Ed25519 private key")
        return cls(key)

    def private_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 8037), with its key id, use and algorithm."""
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(raw),
            "kid": self.key_id,
            "use": "sig",
            "alg": ALGORITHM,
        }

    def sign(self, receipt: Receipt | Mapping[str, str]) -> dict[str, Any]:
        """``{"receipt": {...}, "signature": base64, "keyId": ..., "alg": "EdDSA"}``."""
        if isinstance(receipt, Receipt):
            body, signed = receipt.as_dict(), _canonical_receipt(receipt)
        else:
            body = dict(receipt)
            signed = canonical_json(body)
        signature = self._key.sign(signed)
        return {
            "receipt": body,
            "signature": base64.b64encode(signature).decode("ascii"),
            "keyId": self.key_id,
            "alg": ALGORITHM,
        }

    def __repr__(self) -> str:
        return f"ReceiptSigner(key_id={self.key_id!r})"


def _public_key(key: bytes | str | Mapping[str, str] | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, Mapping):
        if key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
            raise ValueError("the JWK is not an Ed25519 key")
        return Ed25519PublicKey.from_public_bytes(_b64url_decode(key["x"]))
    pem = key.encode("ascii") if isinstance(key, str) else key
    loaded = serialization.load_pem_public_key(pem)
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return loaded


def verify_receipt(
    receipt: Receipt | Mapping[str, str],
    signature: str,
    public_key: bytes | str | Mapping[str, str] | Ed25519PublicKey,
) -> bool:
    """True when ``signature`` (base64) is the key's signature over exactly this receipt.

    ``public_key`` is the PEM text from ``GET /v1/keys``, its JWK, or a key object.
    """
    body = receipt.as_dict() if isinstance(receipt, Receipt) else dict(receipt)
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        _public_key(public_key).verify(raw, canonical_json(body))
    except InvalidSignature:
        return False
    return True
