"""Fixtures every suite may use: the SQLite / PostgreSQL database pair of the store tests (tests/db)."""

from tests.db.conftest import database_url, postgres_server, postgres_url  # noqa: F401
