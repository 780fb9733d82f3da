"""``GET /v1/keys``: the public key(s) that sign this node's receipts, as a JWK set with PEM beside.

Mounted by the node app; the signer is the node's ``services.receipts`` (or ``app.state.receipt_signer``),
a :class:`gateway.security.receipts.ReceiptSigner`. A node without one answers 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from gateway.errors import GatewayError
from gateway.security.receipts import ReceiptSigner

router = APIRouter(tags=["receipts"])


class NoReceiptKey(GatewayError):
    code, vecozo_code, status, reason = "GW404", "GW404", 404, "no-receipt-key"
    title = "This node signs no receipts"


def receipt_signer(request: Request) -> ReceiptSigner:
    services = getattr(request.app.state, "services", None)
    signer = getattr(services, "receipts", None) or getattr(request.app.state, "receipt_signer", None)
    if not isinstance(signer, ReceiptSigner):
        raise NoReceiptKey()
    return signer


@router.get(
    "/v1/keys",
    summary="Public keys for verifying signed receipts",
    description=(
        "A JWK set (RFC 7517/8037). Each key carries `kid` (the `keyId` of a receipt) and, as `pem`, the same "
        "key in PEM form. A receipt verifies offline: Ed25519 over the canonical JSON of `receipt` (keys "
        "sorted, no whitespace, UTF-8)."
    ),
    responses={
        200: {
            "description": "The node's receipt keys",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["keys"],
                        "properties": {"keys": {"type": "array"}},
                    },
                    "example": {
                        "keys": [
                            {"kty": "OKP", "crv": "Ed25519", "kid": "2Zao6h…", "x": "…", "pem": "-----BEGIN…"}
                        ]
                    },
                }
            },
        },
        404: {
            "description": "This node signs no receipts (GW404)",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
    },
)
def keys(request: Request, response: Response) -> dict[str, Any]:
    signer = receipt_signer(request)
    response.headers["cache-control"] = "public, max-age=300"
    return {"keys": [{**signer.public_jwk(), "pem": signer.public_pem()}]}
