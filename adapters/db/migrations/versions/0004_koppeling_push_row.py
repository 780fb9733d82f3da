"""A narrower push row: fewer bytes and index entries written per push.

- ``routing`` (the stated routeringgegevens and verwerkingscontext as JSON) becomes ``berichtstroom``, the
  one part of it the node shows again (the status of a push); existing rows keep their berichtstroom.
- ``conversatie_id`` is indexed only where it is not the push's own ``traceer_id`` (a push that starts its
  conversation with its own traceerId is found through the unique key (traceer_id, afzender)).
- ``received_at`` (the retention purge) gets a BRIN index on PostgreSQL, which writes nothing per row; SQLite
  keeps its B-tree.

Revision ID: 0004
Revises: 0003
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "koppeling_pushes"
JOINED_ONLY = "conversatie_id <> traceer_id"
CONVERSATION = f"ix_{TABLE}_conversatie_id"
RECEIVED = f"ix_{TABLE}_received_at"
_STROOM = {
    "postgresql": "COALESCE((routing::jsonb #> '{routeringgegevens,berichtstroom}')::json, '{}'::json)",
    "sqlite": "COALESCE(json_extract(routing, '$.routeringgegevens.berichtstroom'), '{}')",
}
_ROUTING = {
    "postgresql": "json_build_object('routeringgegevens', json_build_object('berichtstroom', routing))",
    "sqlite": "json_object('routeringgegevens', json_object('berichtstroom', json(routing)))",
}


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _rename(column: str, to: str) -> None:
    """Rename a column in place (SQLite 3.25 and PostgreSQL alike; no copy of the table)."""
    op.execute(f"ALTER TABLE {TABLE} RENAME COLUMN {column} TO {to}")


def upgrade() -> None:
    if "routing" not in _columns():  # a table made from the models has this revision's shape already
        return
    op.execute(f"UPDATE {TABLE} SET routing = {_STROOM[op.get_bind().dialect.name]}")
    _rename("routing", "berichtstroom")
    op.drop_index(CONVERSATION, table_name=TABLE)
    joined = sa.text(JOINED_ONLY)
    op.create_index(CONVERSATION, TABLE, ["conversatie_id"], postgresql_where=joined, sqlite_where=joined)
    if _postgresql():
        op.drop_index(RECEIVED, table_name=TABLE)
        op.create_index(RECEIVED, TABLE, ["received_at"], postgresql_using="brin")


def downgrade() -> None:
    if _postgresql():
        op.drop_index(RECEIVED, table_name=TABLE)
        op.create_index(RECEIVED, TABLE, ["received_at"])
    op.drop_index(CONVERSATION, table_name=TABLE)
    op.create_index(CONVERSATION, TABLE, ["conversatie_id"])
    _rename("berichtstroom", "routing")
    op.execute(f"UPDATE {TABLE} SET routing = {_ROUTING[op.get_bind().dialect.name]}")
