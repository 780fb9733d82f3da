"""``/metrics``: this node's Prometheus metrics (text exposition format), for operators only.

The figures name every party's mailbox depth and certificate expiry, so a scrape needs a credential: the
scrape-only ``GATEWAY_METRICS_TOKEN`` (what Prometheus should hold) or the operator credential, as a bearer
token (``authorization: {credentials_file: ...}`` in a Prometheus scrape job; ``deploy/`` has them).
Labels hold codes and names only, no personal data. Broker figures come from the cached snapshot
(refreshed in the background at most every few seconds).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.errors import NotAuthenticated
from gateway.http.contract import answers
from gateway.http.deps import Services, credentials, same_secret

router = APIRouter(tags=["operations"])

_TEXT = {
    200: {
        "description": "Prometheus text exposition format",
        "content": {
            CONTENT_TYPE_LATEST: {
                "schema": {"type": "string"},
                "example": 'gateway_messages_accepted_total{node="ggk"} 3.0\n',
            }
        },
    }
}


@router.get(
    "/metrics",
    summary="Prometheus metrics of this node (metrics or operator credential)",
    response_class=Response,
    **answers(401, security=[{"bearer": []}], ok=_TEXT),
)
async def metrics(request: Request, svc: Services) -> Response:
    token = credentials(request).bearer
    if not (same_secret(token, svc.metrics_token) or same_secret(token, svc.operator_token)):
        raise NotAuthenticated("/metrics needs the metrics or the operator credential")
    ops = svc.ops
    if ops is None or svc.node not in ops.metrics.nodes:
        return Response("# no metrics wired\n", media_type=CONTENT_TYPE_LATEST)
    await ops.snapshot.get()
    body = generate_latest(ops.metrics.nodes[svc.node].registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
