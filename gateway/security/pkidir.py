"""The files of the dev PKI (``var/pki``): the one module of the security package that reads and writes files.

Layout::

    ca.pem  ca-key.pem  crl.pem  receipt-key.pem
    nodes/<node>.pem  nodes/<node>-key.pem            (ggk, vecozo)
    clients/<party>.pem  clients/<party>-key.pem      (one per participant)
    clients/revoked/<party>-<serial>.pem              (revoked certificates, kept for the record)

Private keys are written 0600, certificates and the CRL 0644, directories 0700; every file is written to a
temporary name first and then renamed, so a reader never sees half a file. ``init`` holds an exclusive lock
(``.<dir>.lock`` beside the directory) while it writes, and a new CA with its certificates is made in a
temporary directory that is renamed into place whole: two ``init`` at once (two ``scripts/run`` in one
checkout) never mix the CA of one with the certificates of the other.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from gateway.errors import NodeRole
from gateway.security import pki
from gateway.security.receipts import ReceiptSigner

NODES: tuple[NodeRole, ...] = ("ggk", "vecozo")


@dataclass(frozen=True, slots=True)
class InitReport:
    """What ``init`` wrote and what it found already there (paths relative to the PKI directory)."""

    created: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """A certificate in the directory, for listings: which file, subject, serial, end of validity."""

    path: str
    subject: str
    serial: int
    not_after: datetime
    revoked: bool = False
    party: str | None = field(default=None)


class PkiMismatch(ValueError):
    """A certificate that does not chain to the CA it is served with; the text names both files."""


def write_file(path: Path, data: bytes, *, private: bool) -> None:
    """Write ``data`` atomically; private files get mode 0600, others 0644."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = 0o600 if private else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parties_from_toml(data: Mapping[str, Any]) -> dict[str, str | None]:
    """Party code -> name for every table in a parsed TOML document that has a party ``code``.

    Accepts any nesting (``[[participant]]``, ``[[participants]]``, ``[participants.X]`` ...), so the file
    can keep the shape the registry seed gives it.
    """
    found: dict[str, str | None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            code = value.get("code")
            if isinstance(code, str) and pki.is_party_code(code):
                name = value.get("name")
                found.setdefault(code, name if isinstance(name, str) else None)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return found


class _InRoot:
    """A file of a :class:`PkiDir` with a fixed name, right under its root (read-only)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, pki: PkiDir, owner: type[PkiDir] | None = None) -> Path:
        return pki.root / self.name

    def __set__(self, pki: PkiDir, value: object) -> None:
        raise AttributeError(f"{self.name} is a fixed file of the PKI directory")


class PkiDir:
    """One PKI directory on disk."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"PkiDir({str(self.root)!r})"

    # --- paths -------------------------------------------------------------------------------------------

    ca_cert = _InRoot("ca.pem")
    ca_key = _InRoot("ca-key.pem")
    crl = _InRoot("crl.pem")
    receipt_key = _InRoot("receipt-key.pem")

    def node_cert(self, node: str) -> Path:
        return self._inside("nodes", _node_name(node) + ".pem")

    def node_key(self, node: str) -> Path:
        return self._inside("nodes", _node_name(node) + "-key.pem")

    def client_cert(self, code: str) -> Path:
        return self._inside("clients", _party_code(code) + ".pem")

    def client_key(self, code: str) -> Path:
        return self._inside("clients", _party_code(code) + "-key.pem")

    def _inside(self, folder: str, name: str) -> Path:
        """``root/folder/name``, refused (ValueError) when it would resolve outside the directory."""
        path = self.root / folder / name
        if not path.resolve().is_relative_to((self.root / folder).resolve()):
            raise ValueError(f"{name!r} leaves the directory {self.root / folder}")
        return path

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    # --- reading -----------------------------------------------------------------------------------------

    def load_ca(self) -> pki.Issued:
        return pki.load_issued(self.ca_cert.read_bytes(), self.ca_key.read_bytes())

    def trusted_cas(self) -> list[x509.Certificate]:
        """The CA certificates client certificates must chain to."""
        return x509.load_pem_x509_certificates(self.ca_cert.read_bytes())

    def load_crl(self) -> x509.CertificateRevocationList | None:
        if not self.crl.exists():
            return None
        return x509.load_pem_x509_crl(self.crl.read_bytes())

    def client_codes(self) -> list[str]:
        folder = self.root / "clients"
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.pem") if not p.stem.endswith("-key"))

    def certificates(self) -> list[CertificateInfo]:
        """Every current certificate (CA, nodes, clients) with its validity and revocation state."""
        crl = self.load_crl()
        paths = [self.ca_cert, *sorted((self.root / "nodes").glob("*.pem"))]
        paths += [self.client_cert(code) for code in self.client_codes()]
        infos = []
        for path in paths:
            if not path.exists() or path.stem.endswith("-key"):
                continue
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            serials = cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)
            revoked = crl is not None and crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            infos.append(
                CertificateInfo(
                    self._rel(path),
                    cert.subject.rfc4514_string(),
                    cert.serial_number,
                    cert.not_valid_after_utc,
                    revoked=bool(revoked),
                    party=str(serials[0].value) if serials else None,
                )
            )
        return infos

    # --- writing -----------------------------------------------------------------------------------------

    def _write_issued(self, issued: pki.Issued, cert: Path, key: Path) -> None:
        write_file(key, issued.key_pem(), private=True)
        write_file(cert, issued.cert_pem(), private=False)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on ``.<dir>.lock`` beside the directory, held while ``init`` writes."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root.parent / f".{self.root.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # also releases the lock

    def init(
        self,
        parties: Mapping[str, str | None],
        *,
        nodes: Sequence[str] = NODES,
        force: bool = False,
        now: datetime | None = None,
    ) -> InitReport:
        """Create what is missing: CA, node certificates, a client certificate per party, CRL, receipt key.

        What exists is kept unless ``force``: then the CA, node and client certificates and the CRL are made
        anew (the receipt key stays, so receipts already given still verify). A new CA and everything it
        issues are made in a temporary directory beside this one and renamed into place together.
        """
        for code in parties:
            if not pki.is_party_code(code):
                raise ValueError(f"{code!r} is not a party code (4-digit gemeentecode or 8-digit AGB-code)")
        now = now or datetime.now(UTC)
        with self._locked():
            if force or not (self.ca_cert.exists() and self.ca_key.exists()):
                return self._init_anew(parties, nodes, now)
            return self._complete(parties, nodes, now)

    def _init_anew(
        self, parties: Mapping[str, str | None], nodes: Sequence[str], now: datetime
    ) -> InitReport:
        """A new CA with its certificates, made aside and renamed into place; the receipt key is kept."""
        staging = PkiDir(tempfile.mkdtemp(prefix=f".{self.root.name}.new.", dir=self.root.parent))
        try:
            if self.receipt_key.exists():
                write_file(staging.receipt_key, self.receipt_key.read_bytes(), private=True)
            report = staging._complete(parties, nodes, now)
            staging.root.chmod(0o700)
            aside = None
            if self.root.exists():
                aside = Path(tempfile.mkdtemp(prefix=f".{self.root.name}.old.", dir=self.root.parent))
                os.replace(self.root, aside / self.root.name)
            os.replace(staging.root, self.root)
        except BaseException:
            shutil.rmtree(staging.root, ignore_errors=True)
            raise
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        created = [p for p in report.created if p != self._rel(self.receipt_key)]
        kept = [p for p in report.kept if p != self._rel(self.receipt_key)]
        (kept if self._rel(self.receipt_key) in report.kept else created).append(self._rel(self.receipt_key))
        return InitReport(tuple(created), tuple(kept))

    def _complete(self, parties: Mapping[str, str | None], nodes: Sequence[str], now: datetime) -> InitReport:
        """Write what is missing next to what is there (the caller holds the lock)."""
        created: list[str] = []
        kept: list[str] = []
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

        if self.ca_cert.exists() and self.ca_key.exists():
            ca = self.load_ca()
            kept.append(self._rel(self.ca_cert))
        else:
            ca = pki.new_ca(now=now)
            self._write_issued(ca, self.ca_cert, self.ca_key)
            created.append(self._rel(self.ca_cert))

        for node in nodes:
            cert, key = self.node_cert(node), self.node_key(node)
            if cert.exists() and key.exists():
                kept.append(self._rel(cert))
                continue
            self._write_issued(pki.issue_server(ca, node), cert, key)
            created.append(self._rel(cert))

        for code, name in sorted(parties.items()):
            cert, key = self.client_cert(code), self.client_key(code)
            if cert.exists() and key.exists():
                kept.append(self._rel(cert))
                continue
            self._write_issued(pki.issue_client(ca, code, name=name), cert, key)
            created.append(self._rel(cert))

        old = self.load_crl()
        write_file(
            self.crl,
            pki.crl_pem(pki.build_crl(ca, pki.revoked_in(old) if old else (), now=now)),
            private=False,
        )
        (kept if old is not None else created).append(self._rel(self.crl))

        if self.receipt_key.exists():
            kept.append(self._rel(self.receipt_key))
        else:
            self.receipt_signer()
            created.append(self._rel(self.receipt_key))
        return InitReport(tuple(created), tuple(kept))

    def check_chain(self, cert_path: Path) -> None:
        """Raise :class:`PkiMismatch` naming the files when ``cert_path`` is not issued by a CA in ``ca.pem``.

        A missing or unreadable file raises ``OSError`` (``FileNotFoundError`` names the path).
        """
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        for ca in self.trusted_cas():
            with contextlib.suppress(ValueError, TypeError, InvalidSignature):
                cert.verify_directly_issued_by(ca)
                return
        raise PkiMismatch(
            f"{cert_path} is not issued by the CA in {self.ca_cert}: the files come from different "
            f"`gateway pki init` runs; run `gateway pki init --force --out {self.root}` to make them anew"
        )

    def revoke(self, code: str, *, now: datetime | None = None) -> int:
        """Revoke the party's current client certificate: add it to the CRL and move its files aside.

        Returns the revoked serial number. A following ``init`` issues the party a new certificate.
        """
        now = now or datetime.now(UTC)
        cert_path = self.client_cert(code)
        if not cert_path.exists():
            raise FileNotFoundError(f"no client certificate for party {code} in {self.root}")
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        ca = self.load_ca()
        old = self.load_crl()
        entries: Iterable[pki.Revoked] = pki.revoked_in(old) if old is not None else ()
        revoked = [*entries, pki.Revoked(cert.serial_number, now)]
        write_file(self.crl, pki.crl_pem(pki.build_crl(ca, revoked, now=now)), private=False)
        aside = self.root / "clients" / "revoked"
        aside.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem = f"{code}-{cert.serial_number:x}"
        os.replace(cert_path, aside / f"{stem}.pem")
        key_path = self.client_key(code)
        if key_path.exists():
            os.replace(key_path, aside / f"{stem}-key.pem")
        return cert.serial_number

    def receipt_signer(self) -> ReceiptSigner:
        """The node's receipt signer from ``receipt-key.pem``, created (0600) when missing.

        Safe when several processes start at once: the key is written under a temporary name and linked into
        place only if no other process got there first; everyone then uses the key that is in place.
        """
        if not self.receipt_key.exists():
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".receipt-key.", dir=self.root)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(ReceiptSigner.generate().private_pem())
                    out.flush()
                    os.fsync(out.fileno())
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, self.receipt_key)
            finally:
                Path(tmp).unlink(missing_ok=True)
        return ReceiptSigner.from_pem(self.receipt_key.read_bytes())


_NODE_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")


def _party_code(code: str) -> str:
    """``code`` when it is a party code (4 or 8 digits), else ValueError: never a path of its own."""
    if not pki.is_party_code(code):
        raise ValueError(f"{code!r} is not a party code (a 4-digit gemeentecode or an 8-digit AGB-code)")
    return code


def _node_name(node: str) -> str:
    if _NODE_NAME.fullmatch(node) is None:
        raise ValueError(f"{node!r} is not a node name")
    return node
