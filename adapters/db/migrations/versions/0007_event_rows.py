"""The events of one hand-over in one row.

An accepted message's events (received, routed, published; enveloped, crossed-link and in-mailbox where
they apply) are handed to the tracking store at once, after the broker's confirm. They were a row each: a
heap tuple and two B-tree entries (``id``, ``tracking_id``) per event, five rows per message where the
publisher puts it straight into the other node's mailbox. ``events.more`` holds the events that follow a
row's own, in order, as ``[event, node, at, detail]``: one row per message for all of them. Existing rows
keep one event each (``more`` NULL) and read as before.

Revision ID: 0007
Revises: 0006
Created: 2026-12-07
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "events"
COLUMN = "more"


def upgrade() -> None:
    columns = {str(c["name"]) for c in sa.inspect(op.get_bind()).get_columns(TABLE)}
    if COLUMN not in columns:  # a table made from the models has it already
        op.add_column(TABLE, sa.Column(COLUMN, sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    # the events a row carries become rows of their own first (after every row there is: a message's events
    # that were written later then read before them)
    bind = op.get_bind()
    events = sa.table(
        TABLE,
        sa.column("id", sa.BigInteger),
        sa.column("tracking_id", sa.String),
        sa.column("event", sa.String),
        sa.column("node", sa.String),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("detail", sa.JSON),
        sa.column(COLUMN, sa.JSON(none_as_null=True)),
    )
    carried = bind.execute(
        sa.select(events.c.tracking_id, events.c[COLUMN])
        .where(events.c[COLUMN].is_not(None))
        .order_by(events.c.id)
    ).all()
    sqlite = bind.dialect.name == "sqlite"  # stores UTC without an offset (adapters.db.schema.UtcDateTime)
    rows = [
        {
            "tracking_id": tracking_id,
            "event": event,
            "node": node,
            "at": datetime.fromisoformat(at).replace(tzinfo=None) if sqlite else datetime.fromisoformat(at),
            "detail": detail,
        }
        for tracking_id, more in carried
        for event, node, at, detail in more
    ]
    if rows:
        bind.execute(sa.insert(events), rows)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column(COLUMN)
