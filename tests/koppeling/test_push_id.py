"""The tracking id of a pushed message: derived from its sender and traceerId (a UUID of version 8)."""

from __future__ import annotations

import uuid
from hashlib import blake2b

from gateway.koppeling.store import PUSH_IDS, push_id


def test_a_push_id_is_a_uuid8_of_sender_and_traceer_id() -> None:
    traceer = str(uuid.uuid4())
    found = uuid.UUID(push_id("42420001", traceer))
    digest = blake2b(f"42420001/{traceer}".encode(), digest_size=16, key=PUSH_IDS.bytes).digest()
    assert (found.version, found.variant) == (8, uuid.RFC_4122)  # never a random (version 4) tracking id
    assert found.bytes[9:] == digest[9:] and str(found) == push_id("42420001", traceer)
    assert push_id("42420001", traceer) != push_id("42420002", traceer)
