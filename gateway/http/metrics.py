"""``/metrics``: this node's Prometheus metrics (text exposition format).

Open like any exporter on the operators' network; labels hold codes and names only, no personal data.
Broker figures come from the cached snapshot (refreshed in the background at most every few seconds).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.http.deps import Services

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics of this node", response_class=Response)
async def metrics(svc: Services) -> Response:
    ops = svc.ops
    if ops is None or svc.node not in ops.metrics.nodes:
        return Response("# no metrics wired\n", media_type=CONTENT_TYPE_LATEST)
    await ops.snapshot.get()
    body = generate_latest(ops.metrics.nodes[svc.node].registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
