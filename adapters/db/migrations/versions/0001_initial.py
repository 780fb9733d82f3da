"""The schema as metadata.create_all made it before migrations: registry, tracking, audit, BSN index.

A table that exists already is left as it is (a database made by ``create_all`` is adopted; the upgrade then
checks that it equals the models, see adapters.db.migrate).

Revision ID: 0001
Revises:
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.db.migrate import create_missing

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CODE, UUID, REF, HASH = 8, 36, 100, 64


def upgrade() -> None:
    create_missing(
        "participants",
        sa.Column("code", sa.String(CODE), nullable=False),
        sa.Column("kind", sa.String(9), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("home_node", sa.String(6), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("active_until", sa.Date(), nullable=True),
        sa.Column("delivery_format", sa.String(4), server_default="xml", nullable=False),
        sa.CheckConstraint("kind IN ('gemeente', 'aanbieder')", name="ck_participants_kind"),
        sa.CheckConstraint("home_node IN ('ggk', 'vecozo')", name="ck_participants_home_node"),
        sa.CheckConstraint("delivery_format IN ('xml', 'stuf')", name="ck_participants_delivery_format"),
        sa.PrimaryKeyConstraint("code", name="pk_participants"),
    )
    create_missing(
        "submitters",
        sa.Column("submitter", sa.String(CODE), nullable=False),
        sa.Column("party", sa.String(CODE), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("active_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submitter"],
            ["participants.code"],
            name="fk_submitters_submitter_participants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["party"], ["participants.code"], name="fk_submitters_party_participants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("submitter", "party", name="pk_submitters"),
        indexes={"ix_submitters_party": ["party"]},
    )
    create_missing(
        "credentials",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("participant", sa.String(CODE), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["participant"],
            ["participants.code"],
            name="fk_credentials_participant_participants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name="pk_credentials"),
        indexes={"ix_credentials_participant": ["participant"]},
    )
    create_missing(
        "messages",
        sa.Column("tracking_id", sa.String(UUID), nullable=False),
        sa.Column("conversation_id", sa.String(UUID), nullable=False),
        sa.Column("standard", sa.String(8), nullable=False),
        sa.Column("release", sa.String(8), nullable=False),
        sa.Column("message", sa.String(16), nullable=False),
        sa.Column("afzender", sa.String(CODE), nullable=False),
        sa.Column("ontvanger", sa.String(CODE), nullable=False),
        sa.Column("submitter", sa.String(CODE), nullable=False),
        sa.Column("reference", sa.String(REF), nullable=False),
        sa.Column("identificatie", sa.String(REF), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("answers", sa.String(UUID), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'accepted')", name="ck_messages_status"),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_messages"),
        sa.UniqueConstraint(
            "afzender", "message", "reference", name="uq_messages_afzender_message_reference"
        ),
        indexes={
            "ix_messages_afzender_message_identificatie": ["afzender", "message", "identificatie"],
            "ix_messages_conversation_id": ["conversation_id"],
            "ix_messages_received_at": ["received_at"],
        },
    )
    create_missing(
        "referenties",
        sa.Column("aanbieder", sa.String(CODE), nullable=False),
        sa.Column("referentie", sa.String(REF), nullable=False),
        sa.Column("tracking_id", sa.String(UUID), nullable=False),
        sa.ForeignKeyConstraint(
            ["tracking_id"],
            ["messages.tracking_id"],
            name="fk_referenties_tracking_id_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("aanbieder", "referentie", "tracking_id", name="pk_referenties"),
        indexes={"ix_referenties_tracking_id": ["tracking_id"]},
    )
    create_missing(
        "events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("tracking_id", sa.String(UUID), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        indexes={"ix_events_at": ["at"], "ix_events_tracking_id": ["tracking_id"]},
    )
    create_missing(
        "audit",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("sender", sa.String(16), nullable=True),
        sa.Column("receiver", sa.String(16), nullable=True),
        sa.Column("message", sa.String(32), nullable=True),
        sa.Column("tracking_id", sa.String(64), nullable=True),
        sa.Column("body_sha256", sa.String(HASH), nullable=True),
        sa.Column("decision", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("prev_hash", sa.String(HASH), nullable=False),
        sa.Column("hash", sa.String(HASH), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit"),
        sa.UniqueConstraint("hash", name="uq_audit_hash"),
        indexes={"ix_audit_tracking_id": ["tracking_id"]},
    )
    head_made = not sa.inspect(op.get_bind()).has_table("audit_head")
    create_missing(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(HASH), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    if head_made:  # the empty chain's head, made with the table and never again: a missing head is tampering
        op.execute(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{'0' * HASH}')")
    create_missing(
        "bsn_index",
        sa.Column("bsn_hmac", sa.String(HASH), nullable=False),
        sa.Column("tracking_id", sa.String(UUID), nullable=False),
        sa.Column("message", sa.String(16), nullable=False),
        sa.Column("afzender", sa.String(CODE), nullable=False),
        sa.Column("ontvanger", sa.String(CODE), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        indexes={"ix_bsn_index_at": ["at"], "ix_bsn_index_bsn_hmac_at": ["bsn_hmac", "at"]},
    )


def downgrade() -> None:
    for table in (
        "bsn_index",
        "audit_head",
        "audit",
        "events",
        "referenties",
        "messages",
        "credentials",
        "submitters",
        "participants",
    ):
        op.drop_table(table)
