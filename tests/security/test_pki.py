"""The dev PKI: `gateway pki init` makes a CA, node and participant certificates that verify; revoke; reruns."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from gateway.cli import _load as load_commands
from gateway.cli import app
from gateway.security import pki
from gateway.security.binding import party_from_certificate
from gateway.security.pkidir import PkiDir, parties_from_toml

PARTIES = {"0363": "Amsterdam", "42420001": "Jeugdzorg De Linde"}


@pytest.fixture(scope="module")
def cli() -> CliRunner:
    load_commands()
    return CliRunner()


@pytest.fixture
def pki_dir(tmp_path: Path) -> PkiDir:
    directory = PkiDir(tmp_path / "pki")
    directory.init(PARTIES)
    return directory


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_node_certificates_are_issued_by_the_ca(pki_dir: PkiDir) -> None:
    """Both node certificates verify against the CA certificate."""
    ca = _cert(pki_dir.ca_cert)
    for node in ("ggk", "vecozo"):
        _cert(pki_dir.node_cert(node)).verify_directly_issued_by(ca)


def test_node_certificate_names_localhost(pki_dir: PkiDir) -> None:
    """A node certificate is valid for localhost and 127.0.0.1."""
    san = _cert(pki_dir.node_cert("ggk")).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    names = (san.value.get_values_for_type(x509.DNSName), san.value.get_values_for_type(x509.IPAddress))
    assert (["localhost"], [ipaddress.ip_address("127.0.0.1")]) == names


def test_client_certificate_binds_the_party(pki_dir: PkiDir) -> None:
    """Each participant's client certificate verifies and yields its party code."""
    cas = pki_dir.trusted_cas()
    codes = [party_from_certificate(pki_dir.client_cert(c).read_bytes(), cas) for c in sorted(PARTIES)]
    assert sorted(PARTIES) == codes


def test_client_certificate_carries_serial_number_and_oin(pki_dir: PkiDir) -> None:
    """The party code is in the subject's serialNumber and in an OIN-style organizationIdentifier."""
    subject = _cert(pki_dir.client_cert("0363")).subject
    serial = subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value
    oin = subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_IDENTIFIER)[0].value
    assert (serial, oin) == ("0363", "00000098000003630000")


def test_private_keys_are_owner_only(pki_dir: PkiDir) -> None:
    """Every private key file has mode 0600."""
    keys = [pki_dir.ca_key, pki_dir.node_key("ggk"), pki_dir.client_key("0363"), pki_dir.receipt_key]
    assert [0o600] * len(keys) == [_mode(k) for k in keys]


def test_init_again_keeps_what_is_there(pki_dir: PkiDir) -> None:
    """A second init keeps the CA and certificates and only issues what is missing."""
    before = pki_dir.ca_cert.read_bytes(), pki_dir.client_cert("0363").read_bytes()
    report = pki_dir.init({**PARTIES, "0384": None})
    after = pki_dir.ca_cert.read_bytes(), pki_dir.client_cert("0363").read_bytes()
    assert (before, ("clients/0384.pem",)) == (after, report.created)


def test_init_force_makes_a_new_ca_but_keeps_the_receipt_key(pki_dir: PkiDir) -> None:
    """With force the CA is new; the receipt key stays so earlier receipts still verify."""
    ca, receipt_key = pki_dir.ca_cert.read_bytes(), pki_dir.receipt_key.read_bytes()
    pki_dir.init(PARTIES, force=True)
    assert (True, receipt_key) == (ca != pki_dir.ca_cert.read_bytes(), pki_dir.receipt_key.read_bytes())


def test_revoke_lists_the_certificate_in_the_crl(pki_dir: PkiDir) -> None:
    """Revoking a participant puts its certificate's serial in the CA-signed CRL."""
    serial = _cert(pki_dir.client_cert("0363")).serial_number
    pki_dir.revoke("0363")
    crl = pki_dir.load_crl()
    assert crl is not None
    signed = crl.is_signature_valid(_cert(pki_dir.ca_cert).public_key())  # type: ignore[arg-type]
    assert (signed, crl.get_revoked_certificate_by_serial_number(serial) is not None) == (True, True)


def test_init_after_revoke_issues_a_new_certificate(pki_dir: PkiDir) -> None:
    """After a revocation the next init gives the party a fresh certificate; the CRL keeps the old serial."""
    old = _cert(pki_dir.client_cert("0363")).serial_number
    pki_dir.revoke("0363")
    pki_dir.init(PARTIES)
    crl = pki_dir.load_crl()
    assert crl is not None
    new = _cert(pki_dir.client_cert("0363")).serial_number
    assert (new != old, crl.get_revoked_certificate_by_serial_number(old) is not None) == (True, True)


def test_parties_are_read_from_the_participants_file() -> None:
    """Every [[participant]] table gives its code and name; submitter tables are not parties."""
    data = {
        "participant": [{"code": "0363", "name": "Amsterdam"}, {"code": "42420001", "name": "De Linde"}],
        "submitter": [{"submitter": "42420099", "party": "42420001"}],
    }
    assert parties_from_toml(data) == {"0363": "Amsterdam", "42420001": "De Linde"}


def test_oin_round_trip_keeps_gemeenten_and_aanbieders_apart() -> None:
    """A 4-digit and an 8-digit code padded alike still come back as themselves."""
    assert [pki.code_from_oin(pki.oin_for(c)) for c in ("0363", "00000363")] == ["0363", "00000363"]


def test_cli_init_with_participants_file(cli: CliRunner, tmp_path: Path) -> None:
    """`gateway pki init --participants FILE` issues a client certificate per participant in the file."""
    toml = tmp_path / "participants.toml"
    toml.write_text('[[participant]]\ncode = "0384"\nname = "Diemen"\n\n[[participant]]\ncode = "65656055"\n')
    result = cli.invoke(app, ["pki", "init", "--out", str(tmp_path / "pki"), "--participants", str(toml)])
    assert (result.exit_code, PkiDir(tmp_path / "pki").client_codes()) == (0, ["0384", "65656055"])


def test_cli_init_with_party_options(cli: CliRunner, tmp_path: Path) -> None:
    """`--party CODE` (repeated) issues client certificates without a participants file."""
    result = cli.invoke(
        app, ["pki", "init", "--out", str(tmp_path), "--party", "0363", "--party", "42420001"]
    )
    assert (result.exit_code, PkiDir(tmp_path).client_codes()) == (0, ["0363", "42420001"])


def test_cli_init_refuses_a_bad_party_code(cli: CliRunner, tmp_path: Path) -> None:
    """A code that is neither 4 nor 8 digits is refused and nothing is written."""
    result = cli.invoke(app, ["pki", "init", "--out", str(tmp_path / "pki"), "--party", "12345"])
    assert (result.exit_code, (tmp_path / "pki").exists()) == (2, False)


def test_cli_revoke(cli: CliRunner, pki_dir: PkiDir) -> None:
    """`gateway pki revoke CODE` revokes the party's certificate."""
    serial = _cert(pki_dir.client_cert("42420001")).serial_number
    result = cli.invoke(app, ["pki", "revoke", "42420001", "--dir", str(pki_dir.root)])
    crl = pki_dir.load_crl()
    assert crl is not None
    assert (result.exit_code, crl.get_revoked_certificate_by_serial_number(serial) is not None) == (0, True)


def test_cli_revoke_unknown_party(cli: CliRunner, pki_dir: PkiDir) -> None:
    """Revoking a party without a certificate fails with exit code 1."""
    assert cli.invoke(app, ["pki", "revoke", "0599", "--dir", str(pki_dir.root)]).exit_code == 1


@pytest.mark.parametrize("code", ["../ca", "../../etc/x", "clients/../../ca", "4242000/", "0384.pem"])
def test_cli_revoke_refuses_a_code_that_is_a_path(cli: CliRunner, pki_dir: PkiDir, code: str) -> None:
    """`gateway pki revoke ../ca` is refused (exit 1): the CA key and certificate stay where they are."""
    before = sorted(p.relative_to(pki_dir.root) for p in pki_dir.root.rglob("*"))
    result = cli.invoke(app, ["pki", "revoke", code, "--dir", str(pki_dir.root)])
    after = sorted(p.relative_to(pki_dir.root) for p in pki_dir.root.rglob("*"))
    assert (1, True, before) == (result.exit_code, pki_dir.ca_key.exists(), after)


def test_paths_of_a_pki_directory_stay_inside_it(pki_dir: PkiDir) -> None:
    """Certificate paths are built from party codes and node names only."""
    with pytest.raises(ValueError):
        pki_dir.client_key("../ca")
    with pytest.raises(ValueError):
        pki_dir.node_cert("../../x")
    assert pki_dir.root / "clients" / "0384.pem" == pki_dir.client_cert("0384")
