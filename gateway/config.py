"""Settings: read once from an environment mapping, frozen, and failing loudly with the name of the bad key."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from gateway.errors import NodeRole

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCHEMA_DIR = REPO_ROOT / "schemas"

T = TypeVar("T")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the key."""


def _get(env: Mapping[str, str], key: str, default: T, parse: Callable[[str], T]) -> T:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: cannot use {raw!r} ({exc})") from None


def _nodes(raw: str) -> tuple[NodeRole, ...]:
    out: list[NodeRole] = []
    for part in raw.split(","):
        part = part.strip()
        if part == "ggk":
            out.append("ggk")
        elif part == "vecozo":
            out.append("vecozo")
        elif part:
            raise ValueError("nodes are 'ggk' and 'vecozo'")
    if not out:
        raise ValueError("at least one node")
    return tuple(out)


def _paths(raw: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in raw.split(os.pathsep) if p)


def _positive(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


# --- security and privacy (issue 5) ---------------------------------------------------------------------

ClientCerts = Literal["optional", "required"]


def _client_certs(raw: str) -> ClientCerts:
    if raw == "optional":
        return "optional"
    if raw == "required":
        return "required"
    raise ValueError("'optional' or 'required'")


def _not_negative(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _whole_not_negative(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Mutual TLS, receipts, the privacy key, retention and abuse limits. 0 switches a limit or job off."""

    tls_dir: Path | None = None  # serve HTTPS with the dev PKI in this directory (``gateway pki init``)
    client_certs: ClientCerts = "optional"  # optional: API credentials still work beside certificates
    receipt_dir: Path | None = None  # receipt-key.pem; default the TLS directory, else var/pki
    privacy_key_file: Path = Path("var/privacy.key")  # HMAC key of the BSN index, outside the database
    retention_days: int = 90  # bewaartermijn of tracking detail and the BSN index
    purge_interval: float = 3600.0  # seconds between background purges
    mailbox_ttl: int = 30 * 86400  # seconds a message may wait unfetched in a mailbox, then dead-letters
    rate_limit: float = 200.0  # requests per second per party and node
    rate_burst: int = 400
    body_timeout: float = 120.0  # seconds to receive a whole request body
    header_timeout: float = 10.0  # seconds to receive a request line and headers
    keep_alive: int = 5  # seconds an idle connection stays open
    max_connections: int = 2000  # per node and process; more get 503

    @property
    def receipt_key_dir(self) -> Path:
        return self.receipt_dir or self.tls_dir or Path("var/pki")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SecuritySettings:
        d = cls()
        return cls(
            tls_dir=_get(env, "GATEWAY_TLS_DIR", d.tls_dir, Path),
            client_certs=_get(env, "GATEWAY_CLIENT_CERTS", d.client_certs, _client_certs),
            receipt_dir=_get(env, "GATEWAY_RECEIPT_DIR", d.receipt_dir, Path),
            privacy_key_file=_get(env, "GATEWAY_PRIVACY_KEY_FILE", d.privacy_key_file, Path),
            retention_days=_get(env, "GATEWAY_RETENTION_DAYS", d.retention_days, _positive),
            purge_interval=_get(env, "GATEWAY_PURGE_INTERVAL", d.purge_interval, _not_negative),
            mailbox_ttl=_get(env, "GATEWAY_MAILBOX_TTL", d.mailbox_ttl, _whole_not_negative),
            rate_limit=_get(env, "GATEWAY_RATE_LIMIT", d.rate_limit, _not_negative),
            rate_burst=_get(env, "GATEWAY_RATE_BURST", d.rate_burst, _positive),
            body_timeout=_get(env, "GATEWAY_BODY_TIMEOUT", d.body_timeout, _not_negative),
            header_timeout=_get(env, "GATEWAY_HEADER_TIMEOUT", d.header_timeout, _not_negative),
            keep_alive=_get(env, "GATEWAY_KEEP_ALIVE", d.keep_alive, _positive),
            max_connections=_get(env, "GATEWAY_MAX_CONNECTIONS", d.max_connections, _positive),
        )


# --- end security and privacy ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a gateway process needs to know. Secrets are kept out of the repr."""

    nodes: tuple[NodeRole, ...] = ("ggk", "vecozo")
    host: str = "127.0.0.1"
    ggk_port: int = 8081
    vecozo_port: int = 8082
    database_url: str = "sqlite+aiosqlite:///var/gateway.db"
    amqp_url: str = field(default="amqp://guest:guest@127.0.0.1:5672/", repr=False)
    management_url: str = field(default="http://guest:guest@127.0.0.1:15672", repr=False)
    vhost_prefix: str = ""
    schema_dirs: tuple[Path, ...] = (DEFAULT_SCHEMA_DIR,)
    max_bytes: int = 25 * 1024 * 1024
    delivery_limit: int = 5
    lease_seconds: int = 60
    operator_token: str | None = field(default=None, repr=False)
    # database pool per process (connections kept open) and how long participants and credentials read
    # from the registry are reused in memory (0: read every time); see docs/scaling.md
    db_pool_size: int = 20
    registry_cache_seconds: float = 5.0
    security: SecuritySettings = field(default_factory=SecuritySettings)  # issue 5

    def port(self, node: NodeRole) -> int:
        return self.ggk_port if node == "ggk" else self.vecozo_port

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``GATEWAY_*`` keys; a malformed value raises :class:`ConfigError` naming the key."""
        env = os.environ if env is None else env
        d = cls()
        return cls(
            nodes=_get(env, "GATEWAY_NODES", d.nodes, _nodes),
            host=_get(env, "GATEWAY_HOST", d.host, str),
            ggk_port=_get(env, "GATEWAY_GGK_PORT", d.ggk_port, _positive),
            vecozo_port=_get(env, "GATEWAY_VECOZO_PORT", d.vecozo_port, _positive),
            database_url=_get(env, "GATEWAY_DATABASE_URL", d.database_url, str),
            amqp_url=_get(env, "GATEWAY_AMQP_URL", d.amqp_url, str),
            management_url=_get(env, "GATEWAY_MANAGEMENT_URL", d.management_url, str),
            vhost_prefix=_get(env, "GATEWAY_VHOST_PREFIX", d.vhost_prefix, str),
            schema_dirs=_get(env, "GATEWAY_SCHEMA_DIRS", d.schema_dirs, _paths),
            max_bytes=_get(env, "GATEWAY_MAX_BYTES", d.max_bytes, _positive),
            delivery_limit=_get(env, "GATEWAY_DELIVERY_LIMIT", d.delivery_limit, _positive),
            lease_seconds=_get(env, "GATEWAY_LEASE_SECONDS", d.lease_seconds, _positive),
            operator_token=_get(env, "GATEWAY_OPERATOR_TOKEN", d.operator_token, str),
            db_pool_size=_get(env, "GATEWAY_DB_POOL_SIZE", d.db_pool_size, _positive),
            registry_cache_seconds=_get(
                env, "GATEWAY_REGISTRY_CACHE_SECONDS", d.registry_cache_seconds, _not_negative
            ),
            security=SecuritySettings.from_env(env),
        )
