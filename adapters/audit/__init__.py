"""Storage of the audit chain: SQL (SQLite or PostgreSQL) and an in-memory fake, both ``AuditLog``."""

from adapters.audit.memory import MemoryAuditLog
from adapters.audit.sql import SqlAuditLog

__all__ = ["MemoryAuditLog", "SqlAuditLog"]
