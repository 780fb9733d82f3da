"""The index that links a retour to the message it answers holds the retours only.

``messages`` had two B-trees on nearly the same columns: the uniqueness key (afzender, message, reference)
and (afzender, message, identificatie) for ``find``. A message's reference is its Identificatie unless it is
a retour (then its IdentificatieRetour, and its Identificatie that of the message it answers), so for every
other message both held the same values: each claim, and each confirm that is not a HOT update, wrote an
entry into both. The second becomes partial (``identificatie <> reference``); ``find`` reads the others
through the uniqueness key. Same name, same columns; SQLite and PostgreSQL alike.

Revision ID: 0008
Revises: 0007
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "ix_messages_afzender_message_identificatie"
COLUMNS = ["afzender", "message", "identificatie"]
RETOUR_ONLY = "identificatie <> reference"


def _indexes() -> set[str]:
    return {str(i["name"]) for i in sa.inspect(op.get_bind()).get_indexes("messages")}


def _replace(where: str | None) -> None:
    if NAME in _indexes():
        op.drop_index(NAME, table_name="messages")
    if where is None:
        op.create_index(NAME, "messages", COLUMNS)
    else:
        op.create_index(
            NAME, "messages", COLUMNS, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
        )


def upgrade() -> None:
    _replace(RETOUR_ONLY)


def downgrade() -> None:
    _replace(None)
