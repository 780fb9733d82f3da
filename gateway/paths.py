"""Where the gateway keeps its own files by default: ``var/`` of the checkout it runs from, whatever the
current directory is (``cd /tmp && gateway participants list`` reads the checkout's database).

An explicit setting or option wins (``GATEWAY_DATABASE_URL``, ``GATEWAY_PRIVACY_KEY_FILE``,
``GATEWAY_AUDIT_KEY_FILE``, ``GATEWAY_TLS_DIR``, ``GATEWAY_RECEIPT_DIR``, ``--db``, ``--out``, ``--tokens`` ...); a
relative path given there is taken from the current directory, as any path on a command line. Installed without a checkout (a wheel, a container image)
the defaults are relative to the current directory.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT = REPO_ROOT if (REPO_ROOT / "pyproject.toml").is_file() else Path()
VAR = PROJECT / "var"

DATABASE_FILE = VAR / "gateway.db"
DATABASE_URL = f"sqlite+aiosqlite:///{DATABASE_FILE}"
PKI_DIR = VAR / "pki"
PRIVACY_KEY_FILE = VAR / "privacy.key"
AUDIT_KEY_FILE = VAR / "audit.key"
LINK_KEY_FILE = VAR / "link.key"
DEMO_TOKENS = VAR / "demo-tokens.json"
OPERATOR_TOKEN_FILE = VAR / "operator-token"
DEMO_SEED = PROJECT / "deploy" / "demo" / "participants.toml"
