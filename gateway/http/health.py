"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.http.contract import answers, json_answer, strings
from gateway.http.deps import NodeServices, Services

router = APIRouter(tags=["health"])


_STATUS = strings("status", "node")


@router.get(
    "/healthz",
    summary="The process is alive",
    **answers(ok={200: json_answer("Alive", _STATUS, {"status": "ok", "node": "ggk"})}),
)
async def healthz(svc: Services) -> dict[str, Any]:
    return {"status": "ok", "node": svc.node}


@router.get(
    "/readyz",
    summary="The node can take messages (database and broker reachable)",
    **answers(503, ok={200: json_answer("Ready", _STATUS, {"status": "ready", "node": "ggk"})}),
)
async def readyz(svc: Services) -> dict[str, Any]:
    """503 while the database does not answer or this node's broker connection is down, so a load balancer
    sends nothing here until the node could answer a submission with anything but 503."""
    await svc.registry.participant("0000")  # touches the database
    await _broker_connected(svc)
    return {"status": "ready", "node": svc.node}


async def _broker_connected(svc: NodeServices) -> None:
    if svc.broker is not None:
        await svc.broker.reachable(svc.node)
