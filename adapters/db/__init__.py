"""Database adapters: the participant registry and tracking on SQLAlchemy (SQLite or PostgreSQL).

``Database.connect(url)`` gives ``db.registry`` (``gateway.ports.Registry`` + management) and
``db.tracking`` (``gateway.ports.Tracking`` + conversation, retention). ``adapters.db.memory`` holds
in-memory fakes with the same behaviour.
"""

from typing import TYPE_CHECKING

from adapters.db.admin import (
    CredentialInfo,
    DuplicateParticipant,
    InvalidParticipant,
    IssuedCredential,
    RegistryAdmin,
    RegistryError,
    Submitter,
    UnknownParticipant,
)
from adapters.db.engine import (
    DEFAULT_URL,
    BadDatabaseUrl,
    Database,
    NoDatabase,
    database_url,
    require_existing,
)
from adapters.db.memory import MemoryRegistry, MemoryTracking
from adapters.db.registry import SqlRegistry
from adapters.db.tracking import Purged, SqlTracking
from gateway.ports import Registry, Tracking

__all__ = [
    "DEFAULT_URL",
    "BadDatabaseUrl",
    "CredentialInfo",
    "Database",
    "DuplicateParticipant",
    "InvalidParticipant",
    "IssuedCredential",
    "MemoryRegistry",
    "MemoryTracking",
    "NoDatabase",
    "Purged",
    "RegistryAdmin",
    "RegistryError",
    "SqlRegistry",
    "SqlTracking",
    "Submitter",
    "UnknownParticipant",
    "database_url",
    "require_existing",
]

if TYPE_CHECKING:  # mypy checks here that each store satisfies its port

    def _conforms(
        sql_registry: SqlRegistry,
        sql_tracking: SqlTracking,
        registry: MemoryRegistry,
        tracking: MemoryTracking,
    ) -> tuple[Registry, Tracking, RegistryAdmin, Registry, Tracking, RegistryAdmin]:
        return sql_registry, sql_tracking, sql_registry, registry, tracking, registry
