"""``GET /v1/keys``: the public key(s) that sign this node's receipts, as a JWK set with PEM beside.

Mounted by the node app; the signer is ``request.app.state.receipt_signer`` (a
:class:`gateway.security.receipts.ReceiptSigner`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from gateway.security.receipts import ReceiptSigner

router = APIRouter(tags=["receipts"])


@router.get(
    "/v1/keys",
    summary="Public keys for verifying signed receipts",
    description=(
        "A JWK set (RFC 7517/8037). Each key carries `kid` (the `keyId` of a receipt) and, as `pem`, the same "
        "key in PEM form. A receipt verifies offline: Ed25519 over the canonical JSON of `receipt` (keys "
        "sorted, no whitespace, UTF-8)."
    ),
)
def keys(request: Request, response: Response) -> dict[str, Any]:
    signer: ReceiptSigner = request.app.state.receipt_signer
    response.headers["cache-control"] = "public, max-age=300"
    return {"keys": [{**signer.public_jwk(), "pem": signer.public_pem()}]}
