"""The audit tables: the chain itself and a one-row head (the newest entry's seq and hash).

The head row is what appends lock to take their turn, and it lets verification notice entries removed from
the end of the chain. It is made with the table (in the same transaction, by ``create_all`` or the first
migration) and never again: a missing head row is tampering, and appends refuse it instead of starting a new
chain (:class:`HeadMissing`). Ids, party codes, message types, digests and reason codes only.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, CheckConstraint, Column, Integer, MetaData, String, Table, event

from gateway.errors import Unavailable
from gateway.security.audit import GENESIS

HASH = 64

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

audit = Table(
    "audit",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),  # UTC, fixed width: sorts as text
    Column("kind", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("sender", String(16)),
    Column("receiver", String(16)),
    Column("message", String(32)),
    Column("tracking_id", String(64)),  # no index: nothing reads the trail by it (revision 0005)
    Column("body_sha256", String(HASH)),
    Column("decision", String(64), nullable=False),
    Column("reason", String(200)),
    Column("prev_hash", String(HASH), nullable=False),
    Column("hash", String(HASH), nullable=False, unique=True),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(HASH), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# the head of the empty chain, written where the table is made (create_all of a new database)
SEED_HEAD = f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"
event.listen(audit_head, "after_create", DDL(SEED_HEAD))  # type: ignore[no-untyped-call]


class HeadMissing(Unavailable):
    """The chain's head row is gone: only tampering removes it. Nothing is appended (a new chain would hide
    what was removed) until an operator has looked (``gateway audit verify``)."""

    def __init__(self) -> None:
        super().__init__("the audit trail cannot be written")  # the why is logged (audit.tampered), not told
