"""Signed receipts: verify offline with the published key, and fail after any change."""

from __future__ import annotations

import base64
import stat
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway.security import keys_api
from gateway.security.pkidir import PkiDir
from gateway.security.receipts import (
    Receipt,
    ReceiptSigner,
    _canonical_receipt,
    canonical_json,
    verify_receipt,
)

from .values import NOW

RECEIPT = Receipt.of(
    tracking_id="6f1c2a9e-3b4d-4c5e-8f70-112233445566",
    sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    sender="42420001",
    recipient="0384",
    message="WMO315",
    received_at=NOW,
    node="vecozo",
)


@pytest.fixture(scope="module")
def signer() -> ReceiptSigner:
    return ReceiptSigner.generate()


def test_receipt_verifies_with_the_pem_key(signer: ReceiptSigner) -> None:
    """A signed receipt verifies offline against the public key in PEM form."""
    signed = signer.sign(RECEIPT)
    assert verify_receipt(signed["receipt"], signed["signature"], signer.public_pem())


def test_receipt_verifies_with_the_jwk(signer: ReceiptSigner) -> None:
    """A signed receipt verifies against the published JWK too."""
    signed = signer.sign(RECEIPT)
    assert verify_receipt(signed["receipt"], signed["signature"], signer.public_jwk())


def test_signed_receipt_names_its_key(signer: ReceiptSigner) -> None:
    """The answer carries the receipt's fields, the key id and the algorithm."""
    signed = signer.sign(RECEIPT)
    expected = ["trackingId", "sha256", "sender", "recipient", "message", "receivedAt", "node"]
    assert (expected, signer.key_id, "EdDSA") == (list(signed["receipt"]), signed["keyId"], signed["alg"])


def test_received_at_is_utc_with_microseconds() -> None:
    """The receipt time is written in UTC with a Z and microseconds."""
    assert RECEIPT.received_at == "2025-03-01T12:00:00.000000Z"


@pytest.mark.parametrize(
    "field", ["tracking_id", "sha256", "sender", "recipient", "message", "received_at", "node"]
)
def test_receipt_fails_after_a_field_changes(signer: ReceiptSigner, field: str) -> None:
    """Changing any one field of a signed receipt makes it fail verification."""
    signed = signer.sign(RECEIPT)
    changed = replace(RECEIPT, **{field: getattr(RECEIPT, field) + "0"})
    assert not verify_receipt(changed, signed["signature"], signer.public_pem())


def test_receipt_fails_with_an_added_field(signer: ReceiptSigner) -> None:
    """A field added to the signed object makes it fail verification."""
    signed = signer.sign(RECEIPT)
    assert not verify_receipt({**signed["receipt"], "extra": "x"}, signed["signature"], signer.public_pem())


def test_receipt_fails_with_another_key(signer: ReceiptSigner) -> None:
    """A receipt does not verify against another node's key."""
    signed = signer.sign(RECEIPT)
    assert not verify_receipt(RECEIPT, signed["signature"], ReceiptSigner.generate().public_pem())


def test_garbage_signature_fails(signer: ReceiptSigner) -> None:
    """A signature that is not base64 fails verification instead of raising."""
    assert not verify_receipt(RECEIPT, "not base64!", signer.public_pem())


def test_signer_survives_a_pem_round_trip(signer: ReceiptSigner) -> None:
    """A signer loaded from its private PEM has the same key id and its signatures verify."""
    again = ReceiptSigner.from_pem(signer.private_pem())
    signed = again.sign(RECEIPT)
    assert (signer.key_id, True) == (
        again.key_id,
        verify_receipt(RECEIPT, signed["signature"], signer.public_pem()),
    )


def test_receipt_key_file_is_created_once(tmp_path: Path) -> None:
    """The receipt key is created 0600 on first use and the same key is loaded afterwards."""
    directory = PkiDir(tmp_path)
    first, second = directory.receipt_signer(), directory.receipt_signer()
    mode = stat.S_IMODE(directory.receipt_key.stat().st_mode)
    assert (first.key_id, 0o600) == (second.key_id, mode)


async def test_keys_endpoint_publishes_the_verifying_key(signer: ReceiptSigner) -> None:
    """GET /v1/keys returns the key (by kid, as JWK and PEM) that verifies the node's receipts."""
    app = FastAPI()
    app.state.receipt_signer = signer
    app.include_router(keys_api.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        published = (await client.get("/v1/keys")).json()["keys"]
    signed = signer.sign(RECEIPT)
    key = {k["kid"]: k for k in published}[signed["keyId"]]
    assert (
        verify_receipt(signed["receipt"], signed["signature"], key["pem"]),
        verify_receipt(signed["receipt"], signed["signature"], key),
    ) == (True, True)


@pytest.mark.parametrize(
    "text",
    ['quote " and \\ backslash', "Zoë € 𝄞", "tab\tnew\nline\x00\x1f\x7f", "</script>", "", "\u2028\u2029"],
)
def test_a_receipt_is_signed_over_its_canonical_json(signer: ReceiptSigner, text: str) -> None:
    """The bytes signed are canonical_json of the receipt's fields whatever text they hold (written
    directly for a receipt), and so are those of a receipt holding something else than text."""
    receipt = replace(RECEIPT, sender=text, message=text)
    odd = replace(RECEIPT, node=7)  # type: ignore[arg-type]
    for signed in (receipt, odd):
        expected = canonical_json(signed.as_dict())
        assert _canonical_receipt(signed) == expected
        public = signer.public_key
        public.verify(base64.b64decode(signer.sign(signed)["signature"]), expected)
