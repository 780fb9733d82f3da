"""Two `gateway pki init` at once never mix two CAs, and `gateway serve` refuses a PKI that does not fit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cryptography import x509

from gateway.security.pkidir import PkiDir, PkiMismatch

PARTIES = ["0363", "0384", "42420001", "65656055"]
GATEWAY = [sys.executable, "-m", "gateway"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return {**env, **extra}


def _unchained(directory: PkiDir) -> list[str]:
    """The certificates in ``directory`` that its ca.pem did not issue."""
    ca = x509.load_pem_x509_certificate(directory.ca_cert.read_bytes())
    paths = [directory.node_cert(n) for n in ("ggk", "vecozo")] + [directory.client_cert(c) for c in PARTIES]
    out = []
    for path in paths:
        try:
            x509.load_pem_x509_certificate(path.read_bytes()).verify_directly_issued_by(ca)
        except Exception:
            out.append(path.name)
    return out


def test_concurrent_inits_leave_one_ca_and_its_certificates(tmp_path: Path) -> None:
    """Four `gateway pki init` started together: every certificate chains to the one ca.pem, nothing left aside."""
    target = tmp_path / "pki"
    args = [*GATEWAY, "pki", "init", "--out", str(target)] + [a for c in PARTIES for a in ("--party", c)]
    runs = [
        subprocess.Popen(args, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(4)
    ]
    codes = [run.wait(timeout=120) for run in runs]
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("pki", ".pki.lock"))
    assert ([0, 0, 0, 0], [], []) == (codes, _unchained(PkiDir(target)), leftovers)


def test_force_makes_a_new_ca_in_place_and_keeps_the_receipt_key(tmp_path: Path) -> None:
    """--force swaps in a new CA with all its certificates at once; the receipt key stays."""
    directory = PkiDir(tmp_path / "pki")
    directory.init(dict.fromkeys(PARTIES))
    ca, receipt = directory.ca_cert.read_bytes(), directory.receipt_key.read_bytes()
    directory.init(dict.fromkeys(PARTIES), force=True)
    assert (True, receipt, []) == (
        ca != directory.ca_cert.read_bytes(),
        directory.receipt_key.read_bytes(),
        _unchained(directory),
    )


def test_check_chain_names_the_certificate_and_the_ca(tmp_path: Path) -> None:
    """A node certificate of another CA is refused with both file names."""
    ours, theirs = PkiDir(tmp_path / "a"), PkiDir(tmp_path / "b")
    ours.init({}), theirs.init({})
    shutil.copy(theirs.node_cert("ggk"), ours.node_cert("ggk"))
    try:
        ours.check_chain(ours.node_cert("ggk"))
    except PkiMismatch as exc:
        message = str(exc)
    assert (str(ours.node_cert("ggk")), str(ours.ca_cert)) == (
        message.split(" is not issued by the CA in ")[0],
        message.split(" is not issued by the CA in ")[1].split(":")[0],
    )


def test_serve_refuses_a_node_certificate_of_another_ca(tmp_path: Path) -> None:
    """`gateway serve` with mixed PKI files stops at once: one line naming both files, exit code 2, nothing
    opened (the database file is not made, the unreachable broker is never tried)."""
    ours, theirs = PkiDir(tmp_path / "a"), PkiDir(tmp_path / "b")
    ours.init({}), theirs.init({})
    for name in ("ggk.pem", "ggk-key.pem"):
        shutil.copy(theirs.root / "nodes" / name, ours.root / "nodes" / name)
    database = tmp_path / "gateway.db"
    env = _env(
        GATEWAY_TLS_DIR=str(ours.root),
        GATEWAY_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        GATEWAY_AMQP_URL="amqp://guest:guest@127.0.0.1:1/",
        GATEWAY_GGK_PORT="1",
        GATEWAY_VECOZO_PORT="1",
    )
    started = time.monotonic()
    done = subprocess.run([*GATEWAY, "serve"], env=env, capture_output=True, text=True, timeout=120)
    expected = f"gateway: {ours.node_cert('ggk')} is not issued by the CA in {ours.ca_cert}:"
    assert (2, "", True, 1, False) == (
        done.returncode,
        done.stdout,
        done.stderr.startswith(expected),
        len(done.stderr.splitlines()),
        database.exists(),
    ), done.stderr
    assert time.monotonic() - started < 60
