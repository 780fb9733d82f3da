"""Fixtures every suite may use: the SQLite / PostgreSQL database pair of the store tests (tests/db), and the
checkout's var/ kept out of the tests' way: a test run leaves nothing there (a clean clone stays clean after
``scripts/test``: ``git status --ignored`` shows no var/ and no .hypothesis/, only the venv, the gates'
caches and test-output/)."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from adapters.audit.checkpoints import load_chain_key
from adapters.rabbitmq import publisher
from gateway import paths
from gateway.cli import audit as audit_cli
from gateway.cli import privacy as privacy_cli
from gateway.privacy.bsnkey import load_or_create_key
from gateway.security.audit import ChainKey
from gateway.security.pkidir import PkiDir
from gateway.wiring import protection
from tests.db.conftest import database_url, postgres_server, postgres_url  # noqa: F401
from tests.docs import threatmodel

CHECKOUT_VAR = paths.VAR
# Hypothesis keeps its caches (unicode data, constants, examples) in .hypothesis/ of the current directory
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gateway-tests-hypothesis")
_BEFORE = pytest.StashKey[set[Path]]()
_PROOFS = threatmodel.node_ids()
_unproven: list[str] = []


def _in_var(path: Path) -> set[Path]:
    return set(path.rglob("*")) if path.is_dir() else set()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _in_var(CHECKOUT_VAR) | (
        {CHECKOUT_VAR} if CHECKOUT_VAR.exists() else set()
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember a test named by docs/security.md's threat model that failed or was skipped: the control it
    proves is not proven by this run."""
    if (report.failed or report.skipped) and report.nodeid.split("[", 1)[0] in _PROOFS:
        _unproven.append(f"{report.nodeid} ({report.outcome})")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that wrote into the checkout's var/ fails, naming what it left there; so does a run in which a
    test of the threat model failed or was skipped."""
    before = session.config.stash.get(_BEFORE, set())
    left = sorted(str(p.relative_to(paths.PROJECT)) for p in _in_var(CHECKOUT_VAR) - before)
    complaints = []
    if left or (CHECKOUT_VAR.exists() and CHECKOUT_VAR not in before):
        complaints.append(f"tests left files in the checkout's var/: {left or [str(CHECKOUT_VAR)]}")
    if _unproven:
        complaints.append(f"tests of docs/security.md's threat model did not pass: {sorted(set(_unproven))}")
    if complaints:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write("\n")
            for complaint in complaints:
                reporter.write_line(complaint, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True, scope="session")
def nothing_in_the_checkouts_var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Whatever a gateway started in the tests' own process keeps by default under the checkout's var/ (the
    audit checkpoints of a PostgreSQL chain, ``gateway.paths.VAR``; the BSN, audit and link keys and the
    receipt key, the settings' defaults) goes to a directory of the session's own instead, for the runtimes
    and the command-line functions the tests call alike. Tests that name their files keep them; ``gateway``
    processes the tests start get their files in their own directory (:class:`bench._serve.Gateway`).
    (SQLite chains keep their checkpoints beside the test's database file.)"""
    var = tmp_path_factory.mktemp("var")

    def outside(path: Path | str) -> Path:
        path = Path(path)
        return var / path.relative_to(CHECKOUT_VAR) if path.is_relative_to(CHECKOUT_VAR) else path

    def key(path: Path | str, what: str = "BSN key") -> bytes:
        return load_or_create_key(outside(path), what)

    def chain_key(path: Path, *, create: bool = True) -> ChainKey:
        return load_chain_key(outside(path), create=create)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "VAR", var)
        for module in (protection, publisher, privacy_cli):
            patch.setattr(module, "load_or_create_key", key)
        for module in (protection, audit_cli):
            patch.setattr(module, "load_chain_key", chain_key)
        patch.setattr(protection, "PkiDir", lambda root: PkiDir(outside(root)))
        yield
