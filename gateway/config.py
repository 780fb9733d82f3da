"""Settings: read once from an environment mapping, frozen, and failing loudly with the name of the bad key."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

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
        )
