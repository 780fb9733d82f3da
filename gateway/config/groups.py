"""The groups of the settings model: security and privacy, the broker, the operator pages, logging."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator
from yarl import URL

from gateway import paths
from gateway.config.reading import setting
from gateway.errors import NodeRole

ClientCerts = Literal["optional", "required"]
LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]

LOCAL_SHOVEL_URI = "amqp://"  # a shovel URI without host: the broker that runs the shovel, direct connection

_PREFIX = re.compile(r"^[A-Za-z0-9_.-]*$")
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class SecuritySettings(BaseModel):
    """Mutual TLS, receipts, the privacy key, retention and abuse limits. 0 switches a limit or job off."""

    model_config = _FROZEN

    tls_dir: Path | None = setting(
        None,
        "serve HTTPS with mutual TLS from this `gateway pki init` directory; unset or empty: plain HTTP "
        "(`scripts/run` and the command-line clients use `var/pki`)",
    )
    client_certs: ClientCerts = setting(
        "optional",
        "`optional`: API credentials still work beside client certificates; `required`: only certificates",
    )
    receipt_dir: Path | None = setting(
        None,
        "directory of `receipt-key.pem`, the key that signs receipts; default the TLS directory, else `var/pki`",
    )
    privacy_key_file: Path = setting(
        paths.PRIVACY_KEY_FILE, "HMAC key of the BSN index (inzage), kept outside the database"
    )
    audit_key_file: Path = setting(
        paths.AUDIT_KEY_FILE,
        "HMAC-SHA256 key of the audit chain, kept outside the database (made 0600 at the first start; every "
        "process of a role shares it; `gateway audit verify` needs it)",
    )
    audit_checkpoint_file: Path | None = setting(
        None,
        "file the signed checkpoints of the audit chain's head are appended to (0600; keep a copy off the "
        "database host); default beside the SQLite file (`var/gateway.db.checkpoints.jsonl`), for PostgreSQL "
        "`var/audit-<database>.checkpoints.jsonl`",
    )
    retention_days: int = setting(90, "bewaartermijn of tracking detail and the BSN index, in days", gt=0)
    purge_interval: float = setting(
        3600.0, "seconds between background purges (0: no background purge)", ge=0
    )
    mailbox_ttl: int = setting(
        30 * 86400,
        "seconds a message may wait unfetched in a mailbox before it is dead-lettered (0: no limit)",
        ge=0,
    )
    rate_limit: float = setting(
        200.0, "requests per second per party and node, counted in each process (429 above it; 0: off)", ge=0
    )
    rate_burst: int = setting(400, "requests a party may send at once above the rate", gt=0)
    body_timeout: float = setting(120.0, "seconds to receive a whole request body (0: no limit)", ge=0)
    header_timeout: float = setting(10.0, "seconds to receive a request line and headers (0: no limit)", ge=0)
    keep_alive: int = setting(5, "seconds an idle HTTP connection stays open", gt=0)
    max_connections: int = setting(2000, "open connections per node and process; more are answered 503", gt=0)
    trace_amqp_deliveries: bool = setting(
        False,
        "switch RabbitMQ's firehose on for the node's vhost and show reads over AMQP in track & trace "
        "(`fetched`, via `amqp`); off by default: it costs the broker CPU on every message "
        "(`python -m bench firehose`, docs/security.md)",
    )

    @property
    def receipt_key_dir(self) -> Path:
        return self.receipt_dir or self.tls_dir or paths.PKI_DIR


class BrokerSettings(BaseModel):
    """Where the broker is and how the node topology is named and bounded.

    Credentials in ``amqp_url`` / ``management_url`` (``scheme://user:pass@host``) win over ``user`` and
    ``password``. ``vhost_prefix`` isolates a whole topology (tests use a random one). The shovel URIs are the
    AMQP URI (without vhost) under which each node's cluster is reached *by the shovel*; the default
    ``amqp://`` means the broker that runs the shovel, so a deployment with two clusters sets both.
    """

    model_config = _FROZEN

    amqp_url: str = setting(
        "amqp://127.0.0.1:5672/",
        "the RabbitMQ broker (`amqp://` or `amqps://`, user and password may be in it)",
        env="GATEWAY_AMQP_URL",
        secret=True,
    )
    management_url: str = setting(
        "http://127.0.0.1:15672",
        "the RabbitMQ management API (`http://` or `https://`)",
        env="GATEWAY_MANAGEMENT_URL",
        secret=True,
    )
    user: str = setting("guest", "broker user when the URLs carry none", env="GATEWAY_BROKER_USER")
    password: str = setting(
        "guest", "broker password when the URLs carry none", env="GATEWAY_BROKER_PASSWORD", secret=True
    )
    vhost_prefix: str = setting(
        "", "prefix of the nodes' vhosts (`<prefix>ggk`, `<prefix>vecozo`); isolates a whole topology"
    )
    delivery_limit: int = setting(5, "deliveries of a mailbox message before it is dead-lettered", gt=0)
    link_delivery_limit: int = setting(
        20, "deliveries of a node-link message before it is dead-lettered", gt=0
    )
    shovel_uri_ggk: str = setting(
        LOCAL_SHOVEL_URI,
        "AMQP URI (no vhost) by which the shovel reaches the municipal node's cluster",
        secret=True,
    )
    shovel_uri_vecozo: str = setting(
        LOCAL_SHOVEL_URI,
        "AMQP URI (no vhost) by which the shovel reaches the provider node's cluster",
        secret=True,
    )
    connect_timeout: float = setting(
        5.0, "seconds to connect to the broker", env="GATEWAY_AMQP_CONNECT_TIMEOUT", gt=0
    )
    confirm_timeout: float = setting(
        10.0, "seconds to wait for the broker's publisher confirm", env="GATEWAY_AMQP_CONFIRM_TIMEOUT", gt=0
    )
    publish_channels: int = setting(
        4, "confirming channels each process publishes on", env="GATEWAY_AMQP_PUBLISH_CHANNELS", gt=0
    )
    link_prefetch: int = setting(64, "unacknowledged node-link messages a node re-checks at once", gt=0)
    link_direct: bool = setting(
        True,
        "with both node roles on one cluster (both shovel URIs `amqp://`) the sending node publishes a message "
        "for the other node straight into that node's `link.from-*` queue; false: through `link.to-*` and the "
        "shovel as between two clusters",
    )
    link_into_mailbox: bool = setting(
        True,
        "with `link_direct` on one cluster and a sealing key (the two nodes of one deployment trust each "
        "other), the sending node publishes a message for the other node straight into the recipient's "
        "mailbox on that node's vhost and records its `crossed-link` and `in-mailbox` events itself: no "
        "`link.from-*` queue, no link consumer on the way; false: through `link.from-*` and the receiving "
        "node's link consumer",
    )
    link_seal: bool = setting(
        True,
        "the sending node signs its verdict on each message for the other node, which then skips a second "
        "parse and validation of a message whose signature holds (both nodes must share `GATEWAY_LINK_KEY_FILE`)",
    )
    link_key_file: Path = setting(
        paths.LINK_KEY_FILE,
        "HMAC key of the link verdict, shared by both nodes of one deployment (made when missing); a node "
        "with another key checks every message in full",
    )
    retry_delay: float = setting(
        1.0,
        "seconds before a node-link message that met a passing fault is tried again",
        env="GATEWAY_LINK_RETRY_DELAY",
        ge=0,
    )

    @field_validator("vhost_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError("letters, digits, '_', '.' and '-' only")
        return value

    @field_validator("amqp_url")
    @classmethod
    def _amqp(cls, value: str) -> str:
        return _url(value, "amqp", "amqps")

    @field_validator("management_url")
    @classmethod
    def _management(cls, value: str) -> str:
        return _url(value, "http", "https")

    # --- names ------------------------------------------------------------------------------------------

    def vhost(self, node: NodeRole) -> str:
        return f"{self.vhost_prefix}{node}"

    def participant_user(self, code: str) -> str:
        """The broker user with which a participant reads its own mailbox over AMQP: named with the vhost
        prefix, so two deployments on one broker never share (or rotate) each other's users. ``p-{code}``
        without a prefix; party codes are digits, so prefix, ``p-`` and code always split one way."""
        return f"{self.vhost_prefix}p-{code}"

    # --- addresses --------------------------------------------------------------------------------------

    @property
    def credentials(self) -> tuple[str, str]:
        """The (user, password) the gateway itself uses on AMQP and the management API."""
        url = URL(self.amqp_url)
        if url.user:
            return url.user, url.password or ""
        return self.user, self.password

    @property
    def management_credentials(self) -> tuple[str, str]:
        url = URL(self.management_url)
        if url.user:
            return url.user, url.password or ""
        return self.credentials

    @property
    def management_base(self) -> str:
        """The management URL without credentials or trailing slash."""
        url = URL(self.management_url)
        return str(url.with_user(None)).rstrip("/")

    def node_url(self, node: NodeRole, user: str | None = None, password: str | None = None) -> str:
        """The AMQP URL of a node's vhost, with the gateway's credentials unless others are given."""
        own_user, own_password = self.credentials
        url = URL(self.amqp_url).with_user(user or own_user).with_password(password or own_password)
        return str(url.with_path("/" + self.vhost(node)))

    def shovel_uri(self, node: NodeRole) -> str:
        """The URI by which the shovel reaches ``node``'s vhost."""
        base = self.shovel_uri_ggk if node == "ggk" else self.shovel_uri_vecozo
        if not base.endswith("://"):
            base = base.rstrip("/")
        return f"{base}/{self.vhost(node)}"


def _url(value: str, *schemes: str) -> str:
    url = URL(value)
    if url.scheme not in schemes or not url.host:
        raise ValueError(f"an {' or '.join(schemes)} URL with a host")
    return value


class OpsSettings(BaseModel):
    """The operator pages: the dashboard, its summary API and `gateway status`."""

    model_config = _FROZEN

    broker_stats_seconds: float = setting(
        5.0, "seconds the broker figures of the dashboard and `gateway status` are reused", gt=0
    )


class LogSettings(BaseModel):
    """How a serving process logs (see gateway/logs.py)."""

    model_config = _FROZEN

    log_format: LogFormat = setting(
        "auto", "`json` (one object per line), `console`, or `auto`: console on a terminal, JSON otherwise"
    )
    log_level: LogLevel = setting("info", "`debug`, `info`, `warning` or `error`")

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
