"""The audit chain itself (pure): sealing links entries; verify finds changed, removed and reordered ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from gateway.security.audit import GENESIS, AuditEntry, AuditEvent, Head, chain_hash, seal, verify

from .values import AUDIT_KEY, NOW


def event(n: int) -> AuditEvent:
    return AuditEvent.routing(
        at=NOW + timedelta(seconds=n),
        actor="42420001",
        decision="accepted" if n % 3 else "refused",
        sender="42420001",
        receiver="0384",
        message="WMO315",
        tracking_id=f"00000000-0000-4000-8000-{n:012d}",
        body_sha256=f"{n:064x}",
        reason=None if n % 3 else "IB210",
    )


def chain(length: int = 6) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    head = Head()
    for n in range(1, length + 1):
        entry = seal(event(n), head, AUDIT_KEY)
        entries.append(entry)
        head = Head(entry.seq, entry.hash)
    return entries


def kinds(problems: list) -> list[tuple[int, str]]:  # type: ignore[type-arg]
    return [(p.seq, p.kind) for p in problems]


def test_intact_chain_has_no_problems() -> None:
    """A chain as sealed verifies without problems, head included."""
    entries = chain()
    assert verify(entries, AUDIT_KEY, Head(entries[-1].seq, entries[-1].hash)) == []


def test_first_entry_links_to_genesis() -> None:
    """The first entry has seq 1 and the all-zero previous hash."""
    first = chain(1)[0]
    assert (first.seq, first.prev_hash) == (1, GENESIS)


def test_hash_covers_the_previous_hash() -> None:
    """The same content after another predecessor hashes differently."""
    a = seal(event(1), Head(), AUDIT_KEY)
    b = seal(event(1), Head(0, "f" * 64), AUDIT_KEY)
    assert a.hash != b.hash


def test_operator_action_is_chained_too() -> None:
    """An operator action becomes an entry of kind operator with the action as decision."""
    action = AuditEvent.operator_action(at=NOW, operator="ops", action="redrive", tracking_id="t-1")
    entry = seal(action, Head(), AUDIT_KEY)
    assert (entry.kind, entry.actor, entry.decision, verify([entry], AUDIT_KEY)) == (
        "operator",
        "ops",
        "redrive",
        [],
    )


def test_changed_entry_is_detected() -> None:
    """Changing one field of an entry is reported as changed at that entry."""
    entries = chain()
    entries[2] = replace(entries[2], decision="accepted", reason=None)
    assert kinds(verify(entries, AUDIT_KEY)) == [(3, "changed")]


def test_changed_and_rehashed_entry_breaks_the_next_link() -> None:
    """An entry changed and given a fresh hash breaks the link of the entry after it."""
    entries = chain()
    forged = replace(entries[2], receiver="0363")
    entries[2] = replace(forged, hash=chain_hash(forged.hashed_fields(), AUDIT_KEY))
    assert kinds(verify(entries, AUDIT_KEY)) == [(4, "broken-link")]


def test_removed_entry_is_detected() -> None:
    """Removing an entry from the middle is reported as a gap and a broken link."""
    entries = chain()
    del entries[2]
    assert kinds(verify(entries, AUDIT_KEY)) == [(4, "removed"), (4, "broken-link")]


def test_removed_first_entry_is_detected() -> None:
    """Removing the first entry is reported at the new first entry."""
    entries = chain()[1:]
    assert kinds(verify(entries, AUDIT_KEY)) == [(2, "removed"), (2, "broken-link")]


def test_removed_last_entry_is_detected_by_the_head() -> None:
    """Removing the newest entry is reported against the recorded head."""
    entries = chain()
    head = Head(entries[-1].seq, entries[-1].hash)
    assert kinds(verify(entries[:-1], AUDIT_KEY, head)) == [(6, "truncated")]


def test_reordered_entries_are_detected() -> None:
    """Swapping two entries is reported as reordered, with the links around them broken."""
    entries = chain()
    entries[2], entries[3] = entries[3], entries[2]
    problems = kinds(verify(entries, AUDIT_KEY))
    assert (True, {3, 4, 5}) == ((3, "reordered") in problems, {seq for seq, _ in problems})


def test_entry_repr_holds_no_more_than_ids_and_codes() -> None:
    """An entry's fields are ids, party codes, message type, digest and codes; its dict round-trips."""
    entry = chain(1)[0]
    assert entry == AuditEntry.from_mapping(entry.as_dict())


def test_the_kept_hmac_gives_the_digest_of_one_hmac_over_it_all() -> None:
    """The key keeps an HMAC per purpose with its prefix taken in and continues a copy of it: the same
    digests as one HMAC over purpose, newline and canonical JSON, call after call and purpose after purpose."""
    import hashlib
    import hmac

    from gateway.security.audit import ChainKey
    from gateway.security.receipts import canonical_json

    raw = b"r" * 32
    key = ChainKey(raw)
    entries = chain(5)
    for purpose, fields in [("audit-entry", e.hashed_fields()) for e in entries] + [
        ("audit-checkpoint", {"seq": 3, "hash": "a" * 64, "at": "2026-12-08T01:00:00.000000Z"}),
        ("audit-entry", {**entries[0].hashed_fields(), "actor": 'é "quoted" \\ \n'}),
    ] * 2:
        plain = hmac.new(raw, purpose.encode() + b"\n" + canonical_json(fields), hashlib.sha256).hexdigest()
        assert key.mac(purpose, fields) == plain
    resealed = seal(event(1), Head(), key)
    assert (
        resealed.hash
        == hmac.new(
            raw, b"audit-entry\n" + canonical_json(resealed.hashed_fields()), hashlib.sha256
        ).hexdigest()
    )
