"""The sending node's signed verdict on a message that crosses the node link.

The sending node parsed and validated a message before it published it to the other node; the receiving node
would do the same again. When both nodes of a deployment share a key, the sending node signs what it found
(an HMAC-SHA256 over the message's digest, its ids and the headers its read produced, carried in the AMQP
header :data:`SEAL_HEADER`), and the receiving node, finding the signature good, takes those headers as the
read instead of parsing and validating the bytes again. It still checks the digest against the bytes (the
link consumer does, before anything else) and the recipient against its own registry.

A message without the header, with a signature of another key, of another version, or over anything that
differs by one character gets the full check: an unsigned claim is never trusted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SEAL_HEADER = "link-seal"
VERSION = "v1"

# the headers the sending node's read produced (:meth:`gateway.ports.Delivery.amqp_headers`), all signed
SIGNED_HEADERS = (
    "standard",
    "release",
    "berichtcode",
    "message",
    "afzender",
    "ontvanger",
    "identificatie",
    "sha256",
    "received-at",
    "origin-node",
    "sender",
    "recipient",
)


class LinkSeal:
    """Signs (sending node) and verifies (receiving node) the verdict on a link message with one shared key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the link key must have at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "LinkSeal(<key>)"

    def sign(self, tracking_id: str, conversation_id: str, target: str, headers: Mapping[str, str]) -> str:
        """The seal of an accepted message published to node ``target`` with these ids and headers."""
        mac = hmac.new(self._key, _text(tracking_id, conversation_id, target, headers), hashlib.sha256)
        return f"{VERSION}:{mac.hexdigest()}"

    def holds(
        self,
        seal: str | None,
        tracking_id: str,
        conversation_id: str,
        target: str,
        headers: Mapping[str, str],
    ) -> bool:
        """Whether ``seal`` is this key's signature over exactly these values (False for none at all)."""
        if not seal or not seal.startswith(VERSION + ":"):
            return False
        return hmac.compare_digest(seal, self.sign(tracking_id, conversation_id, target, headers))


def _text(tracking_id: str, conversation_id: str, target: str, headers: Mapping[str, str]) -> bytes:
    # every value length-prefixed: no choice of values can make two different lists sign the same text
    parts = [VERSION, "accepted", tracking_id, conversation_id, target]
    parts += [headers.get(name) or "" for name in SIGNED_HEADERS]
    return "".join(f"{len(p)}:{p};" for p in parts).encode("utf-8")
