"""VECOZO's REST interfaces: pushes by traceerId (koppeling_pushes) and the providers' pull lists
(koppeling_inbox, the one table that holds payloads, for as long as VECOZO keeps them).

Revision ID: 0002
Revises: 0001
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.db.migrate import create_missing

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CODE, UUID, HASH = 8, 36, 64


def upgrade() -> None:
    create_missing(
        "koppeling_inbox",
        sa.Column("party", sa.String(CODE), nullable=False),
        sa.Column("traceer_id", sa.String(UUID), nullable=False),
        sa.Column("tracking_id", sa.String(UUID), nullable=False),
        sa.Column("ontvangen_op", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(HASH), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("berichttype", sa.String(60), nullable=False),
        sa.Column("conversatie_id", sa.String(UUID), nullable=False),
        sa.Column("als_antwoord_op", sa.String(UUID), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("party", "traceer_id", name="pk_koppeling_inbox"),
        indexes={
            "ix_koppeling_inbox_ontvangen_op": ["ontvangen_op"],
            "ix_koppeling_inbox_party_confirmed_at_ontvangen_op": ["party", "confirmed_at", "ontvangen_op"],
        },
    )
    create_missing(
        "koppeling_pushes",
        sa.Column("id", sa.String(UUID), nullable=False),
        sa.Column("afzender", sa.String(CODE), nullable=False),
        sa.Column("submitter", sa.String(CODE), nullable=False),
        sa.Column("traceer_id", sa.String(UUID), nullable=False),
        sa.Column("conversatie_id", sa.String(UUID), nullable=False),
        sa.Column("als_antwoord_op", sa.String(UUID), nullable=True),
        sa.Column("referentie_id", sa.String(150), nullable=True),
        sa.Column("sha256", sa.String(HASH), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routing", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("tracking_id", sa.String(UUID), nullable=True),
        sa.Column("meldingen", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'accepted', 'refused')", name="ck_koppeling_pushes_state"),
        sa.PrimaryKeyConstraint("id", name="pk_koppeling_pushes"),
        sa.UniqueConstraint("afzender", "traceer_id", name="uq_koppeling_pushes_afzender_traceer_id"),
        indexes={
            f"ix_koppeling_pushes_{column}": [column]
            for column in ("als_antwoord_op", "conversatie_id", "received_at", "traceer_id", "tracking_id")
        },
    )


def downgrade() -> None:
    op.drop_table("koppeling_pushes")
    op.drop_table("koppeling_inbox")
