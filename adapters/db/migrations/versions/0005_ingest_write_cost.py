"""Fewer index entries written per accepted message.

- The indexes that only the retention purge reads, on columns that grow with time (``messages.received_at``,
  ``events.at``, ``bsn_index.at``), become BRIN on PostgreSQL: a summary per range of pages instead of an
  entry per row. SQLite keeps its B-trees.
- ``audit.tracking_id`` loses its index: no query reads the trail by it (verification reads by ``seq``), and
  an index on a random id costs every entry a random page write.

Revision ID: 0005
Revises: 0004
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIMES = (("messages", "received_at"), ("events", "at"), ("bsn_index", "at"))
AUDIT_INDEX = "ix_audit_tracking_id"


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _indexes(table: str) -> set[str]:
    return {str(i["name"]) for i in sa.inspect(op.get_bind()).get_indexes(table)}


def _time_indexes(using: str | None) -> None:
    for table, column in TIMES:
        name = f"ix_{table}_{column}"
        if name not in _indexes(table):  # missing: left so (an adopted database then differs, by name)
            continue
        op.drop_index(name, table_name=table)
        if using is None:
            op.create_index(name, table, [column])
        else:
            op.create_index(name, table, [column], postgresql_using=using)


def upgrade() -> None:
    if AUDIT_INDEX in _indexes("audit"):  # a table made from the models has this revision's shape already
        op.drop_index(AUDIT_INDEX, table_name="audit")
    if _postgresql():
        _time_indexes("brin")


def downgrade() -> None:
    if _postgresql():
        _time_indexes(None)
    op.create_index(AUDIT_INDEX, "audit", ["tracking_id"])
