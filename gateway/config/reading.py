"""How the one settings model meets the environment: flat ``GATEWAY_*`` names, ``.env``, one-line errors.

Every field of :class:`gateway.config.Settings` and of its groups is one environment variable: ``GATEWAY_``
plus the field name in capitals, unless the field names another (``setting(..., env="GATEWAY_...")``).
The groups only structure the code; the names operators set stay flat, as they always were.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

PREFIX = "GATEWAY_"
ENV_FILE = Path(".env")  # optional, in the working directory; the process environment wins over it


class ConfigError(ValueError):
    """A setting is malformed: one line naming the key, the kind of value expected and the value given."""


def setting(
    default: Any, description: str, *, env: str | None = None, secret: bool = False, **rules: Any
) -> Any:
    """A field of the settings model: its default, one-line description, env name and validation rules."""
    extra: dict[str, Any] = {}
    if env is not None:
        extra["env"] = env
    if secret:
        extra["secret"] = True
    return Field(default, description=description, repr=not secret, json_schema_extra=extra or None, **rules)


@dataclass(frozen=True, slots=True)
class Key:
    """One environment variable and the field it fills (``path`` walks the groups)."""

    env: str
    path: tuple[str, ...]
    field: FieldInfo

    @property
    def secret(self) -> bool:
        extra = self.field.json_schema_extra
        return isinstance(extra, dict) and bool(extra.get("secret"))


def _group(info: FieldInfo) -> type[BaseModel] | None:
    kind = info.annotation
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def keys(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[Key]:
    """Every environment variable the model reads, in declaration order, groups expanded in place."""
    for name, info in model.model_fields.items():
        group = _group(info)
        if group is not None:
            yield from keys(group, (*path, name))
            continue
        extra = info.json_schema_extra
        env = extra.get("env") if isinstance(extra, dict) else None
        yield Key(str(env) if env else PREFIX + name.upper(), (*path, name), info)


def environment(env_file: Path = ENV_FILE) -> dict[str, str]:
    """The ``GATEWAY_*`` keys this process sees: those of ``env_file`` (when it exists), then the real
    environment's over them."""
    merged: dict[str, str] = {}
    if env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return {k: v for k, v in merged.items() if k.startswith(PREFIX)}


class FlatEnvSource(PydanticBaseSettingsSource):
    """A settings source over one mapping of flat ``GATEWAY_*`` names; an empty value means the default."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        key = next((k for k in keys(self.settings_cls) if k.path == (field_name,)), None)
        raw = self._env.get(key.env) if key else None
        return raw, key.env if key else field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in keys(self.settings_cls):
            raw = self._env.get(key.env)
            if raw is None or not raw.strip():
                continue
            node = values
            for part in key.path[:-1]:
                node = node.setdefault(part, {})
            node[key.path[-1]] = raw.strip()
        return values


def explain(exc: ValidationError, model: type[BaseModel], env: Mapping[str, str]) -> ConfigError:
    """One line for every bad value: ``GATEWAY_GGK_PORT: expected an integer, got 'abc'``."""
    by_path = {k.path: k for k in keys(model)}
    lines: dict[str, None] = {}
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        key = next((by_path[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in by_path), None)
        name = key.env if key else ".".join(loc)
        raw = env.get(name, error["input"]) if key else error["input"]
        shown = "a value that is not shown" if key and key.secret else repr(raw)
        lines[f"{name}: expected {expected(error)}, got {shown}"] = None
    return ConfigError("; ".join(lines))


_KINDS = {
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "too_short": "at least one value",
    "string_type": "text",
    "path_type": "a path",
}


def number(value: Any) -> str:
    """``0.0`` as ``0``: bounds read as people write them."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def expected(error: ErrorDetails) -> str:
    """The kind of value a failed check wanted, phrased to follow the word "expected"."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _KINDS:
        return _KINDS[kind]
    if kind == "greater_than":
        return f"a number greater than {number(ctx['gt'])}"
    if kind == "greater_than_equal":
        return f"a number of at least {number(ctx['ge'])}"
    if kind == "less_than_equal":
        return f"a number of at most {number(ctx['le'])}"
    if kind == "literal_error":
        return f"one of {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return f"text matching {ctx['pattern']}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"][:1].lower() + error["msg"][1:]
