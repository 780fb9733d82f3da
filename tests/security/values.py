"""Values shared by the security tests."""

from datetime import UTC, datetime

from gateway.security.audit import ChainKey

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
AUDIT_KEY_BYTES = bytes(range(32))
AUDIT_KEY = ChainKey(AUDIT_KEY_BYTES)  # the audit chain key of the tests
