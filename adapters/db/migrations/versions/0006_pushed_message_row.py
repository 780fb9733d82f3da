"""No row of its own for an accepted REST push: what it stated goes on its message's row.

``messages`` gets the columns a push states of its message (``traceer_id``, ``conversatie_id``,
``als_antwoord_op``, ``referentie_id``, ``berichtstroom``; NULL for every other message, ``conversatie_id``
also where it is the push's own traceerId) and two partial
indexes, of the messages that answer a traceerId and of those that join another conversation than their own
traceerId's: a push that starts its own conversation writes neither, nor does any other message. A push
whose sender submits it itself is then written only as its message's claim, under a tracking id derived from
(afzender, traceerId) (``gateway.koppeling.store.push_id``), so that the primary key of ``messages`` holds
the traceerId for its sender (BRS114): no heap row and no B-tree entry in ``koppeling_pushes``, which keeps
the refused pushes, the pushes submitted for another party and the rows written before this revision (they
are read as before: nothing is moved).

Revision ID: 0006
Revises: 0005
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "messages"
UUID = 36
ANSWERS_ONLY = "als_antwoord_op IS NOT NULL"
JOINED_ONLY = "conversatie_id <> traceer_id"
INDEXES = (
    (f"ix_{TABLE}_als_antwoord_op", "als_antwoord_op", ANSWERS_ONLY),
    (f"ix_{TABLE}_conversatie_id", "conversatie_id", JOINED_ONLY),
)


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("traceer_id", sa.String(UUID), nullable=True),
        sa.Column("conversatie_id", sa.String(UUID), nullable=True),
        sa.Column("als_antwoord_op", sa.String(UUID), nullable=True),
        sa.Column("referentie_id", sa.String(150), nullable=True),
        sa.Column("berichtstroom", sa.JSON(), nullable=True),
    ]


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}
    if "traceer_id" in present:  # a table made from the models has this revision's shape already
        return
    for column in _columns():  # nullable, no default: no rewrite of the table on either database
        op.add_column(TABLE, column)
    for name, indexed, where in INDEXES:
        predicate = sa.text(where)
        op.create_index(name, TABLE, [indexed], postgresql_where=predicate, sqlite_where=predicate)


_PUSHED = sa.table(
    "koppeling_pushes",
    *(sa.column(c) for c in ("id", "afzender", "submitter", "traceer_id", "conversatie_id")),
    *(sa.column(c) for c in ("als_antwoord_op", "referentie_id", "sha256", "tracking_id", "changed_at")),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("state"),
    sa.column("berichtstroom", sa.JSON()),
    sa.column("meldingen", sa.JSON()),
)
_STATED = sa.text(
    "SELECT m.tracking_id, m.afzender, m.submitter, m.traceer_id, m.conversatie_id, m.als_antwoord_op,"
    " m.referentie_id, m.sha256, m.received_at, m.message, m.release, m.berichtstroom FROM messages m"
    " WHERE m.traceer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM koppeling_pushes p WHERE p.id ="
    " m.tracking_id OR (p.traceer_id = m.traceer_id AND p.afzender = m.afzender))"
).columns(received_at=sa.DateTime(timezone=True), berichtstroom=sa.JSON())


def _stroom(row: sa.Row[object]) -> object:
    """The stated berichtstroom in full (a row keeps one that names its message's own type and release as
    its action alone)."""
    if not isinstance(row.berichtstroom, str):
        return row.berichtstroom or {}
    versie, _, subversie = str(row.release).partition(".")
    own = {
        "berichttype": row.message,
        "berichtversie": int(versie or 0),
        "berichtsubversie": int(subversie or 0),
    }
    return {**own, "actie": row.berichtstroom}


def downgrade() -> None:
    # the pushes that have no row of their own get one again (pending: as far as their message is)
    bind = op.get_bind()
    back = [
        {
            **{c: getattr(row, c) for c in ("afzender", "submitter", "traceer_id", "als_antwoord_op")},
            **{c: getattr(row, c) for c in ("referentie_id", "sha256", "received_at")},
            "id": row.tracking_id,
            "tracking_id": row.tracking_id,
            "conversatie_id": row.conversatie_id or row.traceer_id,
            "berichtstroom": _stroom(row),
            "state": "pending",
            "meldingen": [],
            "changed_at": None,
        }
        for row in bind.execute(_STATED)
    ]
    if back:
        bind.execute(_PUSHED.insert(), back)
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:  # SQLite: the table is made again without them
        for column in reversed(_columns()):
            batch.drop_column(column.name)
