"""The audit trail, signed receipts and the BSN index as the running gateway fills them (in-memory broker)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import _load
from gateway.cli import app as cli
from gateway.security.audit import AuditEntry
from gateway.security.receipts import verify_receipt
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.messages import example, new_id, set_header

pytestmark = [pytest.mark.shared]

AANBIEDER, GEMEENTE = "42420001", "0384"
BSN = "999900006"  # the client of the official examples


def wmo315(afzender: str = AANBIEDER) -> bytes:
    return set_header(example("WMO315"), Afzender=afzender, Ontvanger=GEMEENTE, Identificatie=new_id())


async def chain(gw: GatewayUnderTest) -> list[AuditEntry]:
    protection = gw.runtime.protection
    assert protection is not None
    await protection.audit.flush()
    return list(await protection.audit.entries())


def db_file(gw: GatewayUnderTest) -> Path:
    return Path(gw.runtime.settings.database_url.split("///", 1)[1])


def run_cli(*args: str) -> Any:
    _load()
    return CliRunner().invoke(cli, list(args))


async def cli_in_thread(*args: str) -> Any:
    """The CLI runs its own event loop: from a test's loop it runs in a thread."""
    return await asyncio.to_thread(run_cli, *args)


async def test_accepted_message_is_audited_with_its_digest(fake_gw: GatewayUnderTest) -> None:
    """An accepted message leaves one audit entry: sender, receiver, type, tracking id, body digest."""
    data = wmo315()
    answer = (await fake_gw.submit(AANBIEDER, data)).json()
    entry = (await chain(fake_gw))[-1]
    expected = (
        "accepted",
        AANBIEDER,
        GEMEENTE,
        "WMO315",
        answer["trackingId"],
        hashlib.sha256(data).hexdigest(),
    )
    assert expected == (
        entry.decision,
        entry.sender,
        entry.receiver,
        entry.message,
        entry.tracking_id,
        entry.body_sha256,
    )


async def test_refusal_is_audited_with_its_code(fake_gw: GatewayUnderTest) -> None:
    """A refused message leaves an audit entry with the chain code and reason."""
    answer = (await fake_gw.submit(AANBIEDER, b"<not-a-message/>")).json()
    entry = (await chain(fake_gw))[-1]
    assert ("refused", answer["trackingId"], "CC02 not-standard-message") == (
        entry.decision,
        entry.tracking_id,
        entry.reason,
    )


async def test_refusal_after_the_header_names_the_parties(fake_gw: GatewayUnderTest) -> None:
    """A message refused for its sender (IB002) is audited with the parties and type from its header."""
    await fake_gw.submit("42420002", wmo315(AANBIEDER))
    entry = (await chain(fake_gw))[-1]
    assert ("refused", "42420002", AANBIEDER, GEMEENTE, "WMO315", "IB002 not-authorised") == (
        entry.decision,
        entry.actor,
        entry.sender,
        entry.receiver,
        entry.message,
        entry.reason,
    )


async def test_resubmission_is_audited_as_duplicate(fake_gw: GatewayUnderTest) -> None:
    """Sending the same bytes again is recorded as a duplicate of the first tracking id."""
    data = wmo315()
    first = (await fake_gw.submit(AANBIEDER, data)).json()
    await fake_gw.submit(AANBIEDER, data)
    entry = (await chain(fake_gw))[-1]
    assert ("duplicate", first["trackingId"]) == (entry.decision, entry.tracking_id)


async def test_registry_change_is_audited_as_operator_action(fake_gw: GatewayUnderTest) -> None:
    """Registering a participant through the admin API leaves an operator entry naming the party."""
    response = await fake_gw.clients["ggk"].post(
        "/v1/admin/participants",
        json={"code": "0400", "kind": "gemeente", "name": "Den Helder"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert 201 == response.status_code
    entry = (await chain(fake_gw))[-1]
    assert ("operator", "operator", "participant-added", "0400") == (
        entry.kind,
        entry.actor,
        entry.decision,
        entry.receiver,
    )


async def test_audit_verify_finds_a_changed_entry(fake_gw: GatewayUnderTest) -> None:
    """`gateway audit verify` passes on the trail the gateway wrote and names an entry changed afterwards."""
    for _ in range(3):
        await fake_gw.submit(AANBIEDER, wmo315())
    entries = await chain(fake_gw)
    url = fake_gw.runtime.settings.database_url
    before = await cli_in_thread("audit", "verify", "--db", url)
    with sqlite3.connect(db_file(fake_gw)) as conn:
        conn.execute("UPDATE audit SET receiver = '0363' WHERE seq = ?", (entries[1].seq,))
    after = await cli_in_thread("audit", "verify", "--db", url)
    assert (0, 1, True) == (
        before.exit_code,
        after.exit_code,
        f"entry {entries[1].seq}: changed" in after.output,
    )


async def test_receipt_verifies_offline_with_the_published_key(fake_gw: GatewayUnderTest) -> None:
    """The 202's receipt is the node's signature over what it accepted; the key from /v1/keys verifies it."""
    data = wmo315()
    answer = (await fake_gw.submit(AANBIEDER, data)).json()
    keys = (await fake_gw.clients["vecozo"].get("/v1/keys")).json()["keys"]
    signed = answer["receipt"]
    key = next(k for k in keys if k["kid"] == signed["keyId"])
    receipt = signed["receipt"]
    assert (True, True) == (
        verify_receipt(receipt, signed["signature"], key),
        verify_receipt(receipt, signed["signature"], key["pem"]),
    )
    assert (answer["trackingId"], hashlib.sha256(data).hexdigest(), AANBIEDER, GEMEENTE, "vecozo") == (
        receipt["trackingId"],
        receipt["sha256"],
        receipt["sender"],
        receipt["recipient"],
        receipt["node"],
    )


async def test_changed_receipt_does_not_verify(fake_gw: GatewayUnderTest) -> None:
    """A receipt whose recipient was changed no longer matches the node's signature."""
    signed = (await fake_gw.submit(AANBIEDER, wmo315())).json()["receipt"]
    key = (await fake_gw.clients["vecozo"].get("/v1/keys")).json()["keys"][0]
    forged = {**signed["receipt"], "recipient": "0363"}
    assert verify_receipt(forged, signed["signature"], key) is False


async def test_bsn_is_indexed_only_as_keyed_digest(fake_gw: GatewayUnderTest) -> None:
    """After an exchange the database holds the BSN's keyed digest and nowhere the BSN itself."""
    await fake_gw.submit(AANBIEDER, wmo315())
    protection = fake_gw.runtime.protection
    assert protection is not None
    await protection.index.flush()
    with sqlite3.connect(db_file(fake_gw)) as conn:
        dump = "\n".join(conn.iterdump())
        digests = [row[0] for row in conn.execute("SELECT bsn_hmac FROM bsn_index")]
    assert ([protection.hasher.digest(BSN)], False) == (digests, BSN in dump)


async def test_inzage_lists_who_exchanged_what_about_a_person(fake_gw: GatewayUnderTest) -> None:
    """`inzage --json` lists each message: type, sender and recipient (the API's keys), tracking id."""
    answer = (await fake_gw.submit(AANBIEDER, wmo315())).json()
    protection = fake_gw.runtime.protection
    assert protection is not None
    await protection.index.flush()
    key = str(fake_gw.runtime.settings.security.privacy_key_file)
    url = fake_gw.runtime.settings.database_url
    result = await cli_in_thread("privacy", "inzage", BSN, "--db", url, "--key", key, "--json")
    other = await cli_in_thread("privacy", "inzage", "999900018", "--db", url, "--key", key, "--json")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert ([("WMO315", AANBIEDER, GEMEENTE, answer["trackingId"])], "") == (
        [(r["message"], r["sender"], r["recipient"], r["trackingId"]) for r in rows],
        other.output,
    )


async def test_inzage_period_bounds_the_answer(fake_gw: GatewayUnderTest) -> None:
    """--from/--to limit the listing to that period (a period before the message lists nothing)."""
    await fake_gw.submit(AANBIEDER, wmo315())
    protection = fake_gw.runtime.protection
    assert protection is not None
    await protection.index.flush()
    key = str(fake_gw.runtime.settings.security.privacy_key_file)
    url = fake_gw.runtime.settings.database_url
    past = await cli_in_thread(
        "privacy", "inzage", BSN, "--db", url, "--key", key, "--from", "2020-01-01", "--to", "2020-12-31"
    )
    now = await cli_in_thread("privacy", "inzage", BSN, "--db", url, "--key", key, "--from", "2020-01-01")
    assert ("0 messages", "1 message") == (past.output.strip(), now.output.strip().splitlines()[-1])


def test_inzage_refuses_a_number_that_is_not_a_bsn() -> None:
    """A number failing the eleven-test is refused before anything is looked up."""
    result = run_cli("privacy", "inzage", "123456789")
    assert 2 == result.exit_code
