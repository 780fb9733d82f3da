"""The tables. No personal data: codes, ids, hashes, sizes and times only; payloads only in the REST pull
list (``koppeling_inbox``), for as long as VECOZO keeps them (see ``gateway.koppeling``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

CODE = 8  # gemeentecode (4) or AGB-code (8)
UUID = 36
REF = 100
# the predicates of koppeling_pushes' partial indexes (a query must state them to use the index)
ANSWERS_ONLY = "als_antwoord_op IS NOT NULL"
MOVED_ONLY = "tracking_id <> id"
JOINED_ONLY = "conversatie_id <> traceer_id"
# a message whose Identificatie is not its own reference (a retour: the Identificatie of the message it
# answers); every other message's Identificatie is its reference, found by the uniqueness key
RETOUR_ONLY = "identificatie <> reference"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, stored in UTC on every database (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the tracking store needs timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def owned_by(name: str, kind: String, parent: str, *, index: bool = True) -> Column[Any]:
    """A required column naming the parent row (``table.column``) this row belongs to: deleted with it
    (``ON DELETE CASCADE``), and indexed to find a parent's rows unless the primary key already leads with it."""
    return Column(name, kind, ForeignKey(parent, ondelete="CASCADE"), nullable=False, index=index)


participants = Table(
    "participants",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("kind", String(9), nullable=False),
    Column("name", String(200), nullable=False),
    Column("home_node", String(6), nullable=False),
    Column("active_from", Date, nullable=False),
    Column("active_until", Date, nullable=True),
    Column("delivery_format", String(4), nullable=False, server_default="xml"),
    CheckConstraint("kind IN ('gemeente', 'aanbieder')", name="kind"),
    CheckConstraint("home_node IN ('ggk', 'vecozo')", name="home_node"),
    CheckConstraint("delivery_format IN ('xml', 'stuf')", name="delivery_format"),
)

submitters = Table(
    "submitters",
    metadata,
    owned_by("submitter", String(CODE), "participants.code", index=False),
    owned_by("party", String(CODE), "participants.code"),
    Column("active_from", Date, nullable=False),
    Column("active_until", Date, nullable=True),
    PrimaryKeyConstraint("submitter", "party"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("key_id", String(32), primary_key=True),
    owned_by("participant", String(CODE), "participants.code"),
    Column("salt", String(64), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("label", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default="0"),
)

messages = Table(
    "messages",
    metadata,
    Column("tracking_id", String(UUID), primary_key=True),
    Column("conversation_id", String(UUID), nullable=False, index=True),
    Column("standard", String(8), nullable=False),
    Column("release", String(8), nullable=False),
    Column("message", String(16), nullable=False),
    Column("afzender", String(CODE), nullable=False),
    Column("ontvanger", String(CODE), nullable=False),
    Column("submitter", String(CODE), nullable=False),
    Column("reference", String(REF), nullable=False),
    Column("identificatie", String(REF), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("status", String(8), nullable=False),
    Column("answers", String(UUID), nullable=True),
    # what a REST push stated of its message (revision 0006), on the message's own row: no row of its own
    # (see koppeling_pushes below); NULL for every other message, and 61 days after it was received;
    # conversatie_id NULL too where it is the push's own traceerId
    Column("traceer_id", String(UUID), nullable=True),
    Column("conversatie_id", String(UUID), nullable=True),
    Column("als_antwoord_op", String(UUID), nullable=True),
    Column("referentie_id", String(150), nullable=True),
    Column("berichtstroom", JSON, nullable=True),
    CheckConstraint("status IN ('pending', 'accepted')", name="status"),
    # the uniqueness index: one reference per sender and message type
    UniqueConstraint("afzender", "message", "reference"),
    # linking a retour (or a 325) to the message it answers: by the uniqueness key where the Identificatie is
    # the message's own reference, by this partial index where it is not (revision 0008; a message writes an
    # entry into one of the two, not both)
    Index(
        None,
        "afzender",
        "message",
        "identificatie",
        postgresql_where=text(RETOUR_ONLY),
        sqlite_where=text(RETOUR_ONLY),
    ),
    Index(None, "received_at", postgresql_using="brin"),  # the retention purge
    # a pushed message that answers (alsAntwoordOp) or joins another conversation than its own traceerId's:
    # partial, so that neither the other messages nor a push that starts its own conversation writes them
    Index(None, "als_antwoord_op", postgresql_where=text(ANSWERS_ONLY), sqlite_where=text(ANSWERS_ONLY)),
    Index(None, "conversatie_id", postgresql_where=text(JOINED_ONLY), sqlite_where=text(JOINED_ONLY)),
)
# the columns of a pushed message's row that only a push writes (a claim of the tracking store leaves them)
PUSHED_COLUMNS = ("traceer_id", "conversatie_id", "als_antwoord_op", "referentie_id", "berichtstroom")

referenties = Table(
    "referenties",
    metadata,
    Column("aanbieder", String(CODE), nullable=False),
    Column("referentie", String(REF), nullable=False),
    owned_by("tracking_id", String(UUID), "messages.tracking_id"),
    PrimaryKeyConstraint("aanbieder", "referentie", "tracking_id"),
)

events = Table(
    "events",
    metadata,
    # INTEGER PRIMARY KEY is SQLite's rowid: autoincrementing there, BIGSERIAL-like on PostgreSQL
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("tracking_id", String(UUID), nullable=False, index=True),
    Column("event", String(32), nullable=False),
    Column("node", String(6), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("detail", JSON, nullable=False),
    # the events handed over after this one, for the same message at once (revision 0007): an accepted
    # message's received, routed, published (and enveloped, crossed-link, in-mailbox) are one row, not five;
    # each as [event, node, at (ISO 8601, UTC), detail], in order; NULL for a row of one event
    Column("more", JSON(none_as_null=True), nullable=True),
    Index(None, "at", postgresql_using="brin"),  # the retention purge (of a row: its first event's time)
)

# --- the VSP-Koppeling REST interfaces (gateway.koppeling) ----------------------------------------------
# pushes by traceerId: ids, codes, the stated berichtstroom (the one part of the stated routing shown again:
# the rest is the message's own sender and addressee) and the refusal's meldingen (codes, paths, rule texts).
# Since revision 0006 a push its sender submits itself has no row here: what it stated is on its message's
# row in ``messages`` (above), whose primary key, the tracking id derived from (afzender, traceerId), holds
# the traceerId. This table keeps the refused pushes, those settled under another message, the pushes
# submitted for another party, and the rows written before 0006.
# Every index on a random UUID costs a push a random page write (revisions 0003, 0004): the primary key ``id``
# (the tracking id the push gives its message) and the unique key (traceer_id, afzender), which also serves
# every lookup by traceerId, take one each; ``conversatie_id`` only for a push whose conversatieId is not its
# own traceerId (a push that starts its conversation with its own traceerId is found through the unique key).
# ``received_at`` grows with time: on PostgreSQL a BRIN index (a summary per range of pages, nothing per
# row) serves the retention purge. ``als_antwoord_op`` and a ``tracking_id`` other than ``id`` (a push
# settled under an earlier attempt's message) are rare, so their indexes are partial: only those rows.
koppeling_pushes = Table(
    "koppeling_pushes",
    metadata,
    Column("id", String(UUID), primary_key=True),
    Column("afzender", String(CODE), nullable=False),
    Column("submitter", String(CODE), nullable=False),
    Column("traceer_id", String(UUID), nullable=False),
    Column("conversatie_id", String(UUID), nullable=False),
    Column("als_antwoord_op", String(UUID), nullable=True),
    Column("referentie_id", String(150), nullable=True),
    Column("sha256", String(64), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("berichtstroom", JSON, nullable=False),
    Column("state", String(8), nullable=False),
    Column("tracking_id", String(UUID), nullable=True),
    Column("meldingen", JSON, nullable=False),
    Column("changed_at", UtcDateTime, nullable=True),
    CheckConstraint("state IN ('pending', 'accepted', 'refused')", name="state"),
    # BRS114: a traceerId names one message of its sender
    UniqueConstraint("traceer_id", "afzender"),
    Index(
        None,
        "als_antwoord_op",
        postgresql_where=text(ANSWERS_ONLY),
        sqlite_where=text(ANSWERS_ONLY),
    ),
    Index(None, "tracking_id", postgresql_where=text(MOVED_ONLY), sqlite_where=text(MOVED_ONLY)),
    Index(None, "conversatie_id", postgresql_where=text(JOINED_ONLY), sqlite_where=text(JOINED_ONLY)),
    Index(None, "received_at", postgresql_using="brin"),
)

# the pull lists: the one table that holds payloads, each only until 24 hours after its first download
# (and no longer than the retention period when never downloaded)
koppeling_inbox = Table(
    "koppeling_inbox",
    metadata,
    Column("party", String(CODE), nullable=False),
    Column("traceer_id", String(UUID), nullable=False),
    Column("tracking_id", String(UUID), nullable=False),
    Column("ontvangen_op", UtcDateTime, nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("berichttype", String(60), nullable=False),
    Column("conversatie_id", String(UUID), nullable=False),
    Column("als_antwoord_op", String(UUID), nullable=True),
    Column("payload", LargeBinary, nullable=True),
    Column("downloaded_at", UtcDateTime, nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("party", "traceer_id"),
    Index(None, "party", "confirmed_at", "ontvangen_op"),
)

# --- the BSN index (adapters/db/privacy.py): a metadata of its own -------------------------------------

HMAC_HEX = 64

privacy_metadata = MetaData(naming_convention={"ix": "ix_%(table_name)s_%(column_0_N_name)s"})

bsn_index = Table(
    "bsn_index",
    privacy_metadata,
    Column("bsn_hmac", String(HMAC_HEX), nullable=False),
    Column("tracking_id", String(UUID), nullable=False),
    Column("message", String(16), nullable=False),
    Column("afzender", String(CODE), nullable=False),
    Column("ontvanger", String(CODE), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "bsn_hmac", "at"),
    Index(None, "at", postgresql_using="brin"),  # the retention purge
)
