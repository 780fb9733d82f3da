"""Values shared by the security tests."""

from datetime import UTC, datetime

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
