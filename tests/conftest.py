"""Fixtures every suite may use: the SQLite / PostgreSQL database pair of the store tests (tests/db), and the
checkout's var/ kept out of the tests' way."""

from collections.abc import Iterator

import pytest

from gateway import paths
from tests.db.conftest import database_url, postgres_server, postgres_url  # noqa: F401


@pytest.fixture(autouse=True, scope="session")
def checkpoints_outside_var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The audit checkpoints of a PostgreSQL chain default to ``var/audit-<database>.checkpoints.jsonl`` of the
    checkout (``gateway.paths.VAR``, read when the file is chosen): in the tests that place is a directory of
    the session's own, for the gateway the harness starts and for `gateway audit verify --db` alike, so a test
    run leaves nothing in var/. (SQLite chains keep theirs beside the test's database file, already temporary.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "VAR", tmp_path_factory.mktemp("var"))
        yield
