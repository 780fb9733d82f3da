"""Fewer indexes on koppeling_pushes: each index on a random UUID costs every push a random page write.

The unique key becomes (traceer_id, afzender), so that it also serves the lookups by traceerId (its own
index goes); ``als_antwoord_op`` and ``tracking_id`` get partial indexes holding only the rows where they
matter (an answer; a push settled under another message than the one its ``id`` names).

Revision ID: 0003
Revises: 0002
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "koppeling_pushes"
ANSWERS_ONLY = "als_antwoord_op IS NOT NULL"
MOVED_ONLY = "tracking_id <> id"


def _partial(name: str, column: str, where: str) -> None:
    predicate = sa.text(where)
    op.create_index(name, TABLE, [column], postgresql_where=predicate, sqlite_where=predicate)


def _made_before() -> bool:
    """The table has the key of revision 0002 (a table made from the models has the new one already)."""
    found = sa.inspect(op.get_bind()).get_unique_constraints(TABLE)
    return any(u["name"] == f"uq_{TABLE}_afzender_traceer_id" for u in found)


def upgrade() -> None:
    if not _made_before():
        return
    for column in ("als_antwoord_op", "traceer_id", "tracking_id"):
        op.drop_index(f"ix_{TABLE}_{column}", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:  # SQLite: the table is made again with the new key
        batch.drop_constraint(f"uq_{TABLE}_afzender_traceer_id", type_="unique")
        batch.create_unique_constraint(f"uq_{TABLE}_traceer_id_afzender", ["traceer_id", "afzender"])
    _partial(f"ix_{TABLE}_als_antwoord_op", "als_antwoord_op", ANSWERS_ONLY)
    _partial(f"ix_{TABLE}_tracking_id", "tracking_id", MOVED_ONLY)


def downgrade() -> None:
    for column in ("als_antwoord_op", "tracking_id"):
        op.drop_index(f"ix_{TABLE}_{column}", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(f"uq_{TABLE}_traceer_id_afzender", type_="unique")
        batch.create_unique_constraint(f"uq_{TABLE}_afzender_traceer_id", ["afzender", "traceer_id"])
    for column in ("als_antwoord_op", "traceer_id", "tracking_id"):
        op.create_index(f"ix_{TABLE}_{column}", TABLE, [column])
