"""The one settings model of a gateway process: frozen, read once at start, failing with one line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway import paths
from gateway.config.groups import BrokerSettings, LogSettings, OpsSettings, SecuritySettings
from gateway.config.reading import FlatEnvSource, environment, explain, setting
from gateway.errors import NodeRole

REPO_ROOT = paths.REPO_ROOT
DEFAULT_SCHEMA_DIR = REPO_ROOT / "schemas"


def _split(sep: str) -> BeforeValidator:
    def split(value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(sep) if part.strip())
        return value

    return BeforeValidator(split)


DbMigrate = Literal["auto", "check"]
Environment = Literal["tst", "acc"]
Environments = Annotated[tuple[Environment, ...], _split(",")]
Nodes = Annotated[tuple[NodeRole, ...], _split(","), Field(min_length=1)]
ContentRulesMode = Literal["refuse", "warn", "off"]
_CONTENT_MODES: dict[str, ContentRulesMode] = {"refuse": "refuse", "warn": "warn", "off": "off"}


def content_rules_modes(raw: str) -> dict[str, ContentRulesMode]:
    """``refuse``, ``warn`` or ``off`` for every node (key ``*``), or per node: ``ggk:warn,vecozo:refuse``."""
    if raw.strip() in _CONTENT_MODES:
        return {"*": _CONTENT_MODES[raw.strip()]}
    modes: dict[str, ContentRulesMode] = {}
    for part in raw.split(","):
        node, _, mode = part.strip().partition(":")
        if node not in ("ggk", "vecozo", "*") or mode not in _CONTENT_MODES:
            raise ValueError("'refuse', 'warn', 'off', or per node like 'ggk:warn,vecozo:refuse'")
        modes[node] = _CONTENT_MODES[mode]
    return modes


def _content_rules(raw: str) -> str:
    content_rules_modes(raw)
    return raw.strip()


ContentRules = Annotated[str, AfterValidator(_content_rules)]
Paths = Annotated[tuple[Path, ...], _split(os.pathsep), Field(min_length=1)]


class Settings(BaseSettings):
    """Everything a gateway process needs to know. Secrets are kept out of the repr.

    ``Settings(**values)`` holds the defaults and what is given (tests); :meth:`from_env` reads the
    environment once at start. Every field, groups included, is one ``GATEWAY_*`` variable (docs/settings.md).
    """

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    nodes: Nodes = setting(
        ("ggk", "vecozo"), "the nodes this process serves, comma-separated: `ggk`, `vecozo`"
    )
    host: str = setting("127.0.0.1", "address the nodes listen on")
    ggk_port: int = setting(8081, "port of the municipal node (GGk role)", gt=0, le=65535)
    vecozo_port: int = setting(8082, "port of the provider node (VECOZO role)", gt=0, le=65535)
    database_url: str = setting(
        paths.DATABASE_URL,
        "SQLAlchemy URL of the database: SQLite (one process) or `postgresql+asyncpg://` (several processes)",
        secret=True,
    )
    db_migrate: DbMigrate = setting(
        "auto",
        "`auto`: `gateway serve` brings the database schema to the newest revision at start (under a lock; "
        "a database made before migrations is adopted); `check`: it refuses to start unless `gateway db "
        "upgrade` has done so",
    )
    schema_dirs: Paths = setting(
        (DEFAULT_SCHEMA_DIR,),
        f"directories of the XSDs the nodes validate against, separated by `{os.pathsep}`",
    )
    max_bytes: int = setting(25 * 1024 * 1024, "largest message body accepted, in bytes", gt=0)
    lease_seconds: int = setting(60, "seconds a fetched mailbox message is leased before it returns", gt=0)
    operator_token: str | None = setting(
        None, "operator credential: enables the admin API and the dashboard; unset: both off", secret=True
    )
    metrics_token: str | None = setting(
        None,
        "scrape-only credential: may read /metrics and nothing else (the operator credential may too)",
        secret=True,
    )
    db_pool_size: int = setting(
        20, "database connections each process keeps open (plus up to 20 more at peaks)", gt=0
    )
    registry_cache_seconds: float = setting(
        5.0,
        "how long a process reuses participants and credentials it read; a change made through another "
        "process takes effect within this time (0: read every time)",
        ge=0,
    )
    content_rules: ContentRules = setting(
        "refuse",
        "content rules of the standard (TR, CD, CS; docs/rules.md) at the door: `refuse` as the chain, `warn` "
        "(accept, list the broken rules in the 202 answer and track & trace) or `off`; per node: "
        "`ggk:warn,vecozo:refuse`",
    )
    environments: Environments = setting(
        (),
        "VECOZO's test (`tst`) and acceptance (`acc`) environments, served beside production under `/tst` and "
        "`/acc` on both nodes, comma-separated: each a gateway of its own on the same broker (vhosts "
        "`tst.ggk`, `tst.vecozo`) with its own database (`gateway-tst.db`, PostgreSQL `<database>_tst`), "
        "registry and data, where only fictitious persons may be pushed (BRS18)",
    )
    fictitious_only: bool = setting(
        False,
        "VECOZO REST push takes messages about fictitious persons only (BSN 9999xxxxx), else BRS18: what the "
        "test environments do",
    )
    vecozo_payload_hours: int = setting(
        24,
        "hours a payload on a VECOZO REST pull list is kept after its first download (VECOZO: 24)",
        gt=0,
    )
    vecozo_retention_days: int = setting(
        61,
        "days the VECOZO REST interfaces keep a message's metadata, status and pull-list entry (VECOZO: 2 months)",
        gt=0,
    )
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    def port(self, node: NodeRole) -> int:
        return self.ggk_port if node == "ggk" else self.vecozo_port

    def content_rules_for(self, node: NodeRole | None = None) -> ContentRulesMode:
        """The content-rules mode of a node (of the process when ``node`` is None); a node not named refuses."""
        modes = content_rules_modes(self.content_rules)
        if node is not None and node in modes:
            return modes[node]
        return modes.get("*", "refuse")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what the caller gives: :meth:`from_env` reads the environment, so ``Settings()`` is the defaults."""
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read the ``GATEWAY_*`` keys of ``env`` (default: ``.env`` and the process environment, which wins).

        ``overrides`` are field values that win over both. A bad value raises :class:`ConfigError` naming the
        variable and the kind of value expected.
        """
        flat = environment() if env is None else env
        values = FlatEnvSource(cls, flat)()
        values.update(overrides)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise explain(exc, cls, flat) from None
