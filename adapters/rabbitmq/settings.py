"""Broker settings: read once, frozen, failing loudly with the name of the bad key."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from yarl import URL

from gateway.config import ConfigError
from gateway.errors import NodeRole
from gateway.ports import NODES

T = TypeVar("T")

_PREFIX = re.compile(r"^[A-Za-z0-9_.-]*$")
LOCAL_SHOVEL_URI = "amqp://"  # a shovel URI without host: the broker that runs the shovel, direct connection


def _local_shovels() -> Mapping[NodeRole, str]:
    return MappingProxyType(dict.fromkeys(NODES, LOCAL_SHOVEL_URI))


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and how the node topology is named and bounded.

    Credentials in ``amqp_url`` / ``management_url`` (``scheme://user:pass@host``) win over ``user`` and
    ``password``. ``vhost_prefix`` isolates a whole topology (tests use a random one). ``shovel_uris`` is the
    AMQP URI (without vhost) under which each node's cluster is reached *by the shovel*; the default
    ``amqp://`` means the broker that runs the shovel, so a deployment with two clusters sets both.
    """

    amqp_url: str = field(default="amqp://127.0.0.1:5672/", repr=False)
    management_url: str = field(default="http://127.0.0.1:15672", repr=False)
    user: str = "guest"
    password: str = field(default="guest", repr=False)
    vhost_prefix: str = ""
    delivery_limit: int = 5
    link_delivery_limit: int = 20
    shovel_uris: Mapping[NodeRole, str] = field(default_factory=_local_shovels, repr=False)
    connect_timeout: float = 5.0
    confirm_timeout: float = 10.0
    publish_channels: int = 4
    link_prefetch: int = 64
    retry_delay: float = 1.0

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.vhost_prefix):
            raise ConfigError("GATEWAY_VHOST_PREFIX: only letters, digits, '_', '.' and '-' are allowed")
        if self.delivery_limit < 1 or self.link_delivery_limit < 1:
            raise ConfigError("GATEWAY_DELIVERY_LIMIT: must be positive")
        missing = [node for node in NODES if node not in self.shovel_uris]
        if missing:
            raise ConfigError(f"GATEWAY_SHOVEL_URI_{missing[0].upper()}: missing")

    # --- names ------------------------------------------------------------------------------------------

    def vhost(self, node: NodeRole) -> str:
        return f"{self.vhost_prefix}{node}"

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
        base = self.shovel_uris[node]
        if not base.endswith("://"):
            base = base.rstrip("/")
        return f"{base}/{self.vhost(node)}"

    # --- reading ----------------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BrokerSettings:
        """Read ``GATEWAY_*`` keys; a malformed value raises :class:`ConfigError` naming the key."""
        env = os.environ if env is None else env
        d = cls()
        shovels = {
            node: _get(env, f"GATEWAY_SHOVEL_URI_{node.upper()}", d.shovel_uris[node], str) for node in NODES
        }
        return cls(
            amqp_url=_get(env, "GATEWAY_AMQP_URL", d.amqp_url, _url("amqp", "amqps")),
            management_url=_get(env, "GATEWAY_MANAGEMENT_URL", d.management_url, _url("http", "https")),
            user=_get(env, "GATEWAY_BROKER_USER", d.user, str),
            password=_get(env, "GATEWAY_BROKER_PASSWORD", d.password, str),
            vhost_prefix=_get(env, "GATEWAY_VHOST_PREFIX", d.vhost_prefix, str),
            delivery_limit=_get(env, "GATEWAY_DELIVERY_LIMIT", d.delivery_limit, _positive_int),
            link_delivery_limit=_get(
                env, "GATEWAY_LINK_DELIVERY_LIMIT", d.link_delivery_limit, _positive_int
            ),
            shovel_uris=MappingProxyType(shovels),
            connect_timeout=_get(env, "GATEWAY_AMQP_CONNECT_TIMEOUT", d.connect_timeout, _positive_float),
            confirm_timeout=_get(env, "GATEWAY_AMQP_CONFIRM_TIMEOUT", d.confirm_timeout, _positive_float),
            publish_channels=_get(env, "GATEWAY_AMQP_PUBLISH_CHANNELS", d.publish_channels, _positive_int),
            link_prefetch=_get(env, "GATEWAY_LINK_PREFETCH", d.link_prefetch, _positive_int),
        )


def _get(env: Mapping[str, str], key: str, default: T, parse: Callable[[str], T]) -> T:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: cannot use this value ({exc})") from None


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        url = URL(raw)
        if url.scheme not in schemes or not url.host:
            raise ValueError(f"expected a {' or '.join(schemes)} URL with a host")
        return raw

    return parse
