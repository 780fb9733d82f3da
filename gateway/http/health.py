"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.http.deps import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz(svc: Services) -> dict[str, Any]:
    return {"status": "ok", "node": svc.node}


@router.get("/readyz", summary="The node can take messages (database and broker reachable)")
async def readyz(svc: Services) -> dict[str, Any]:
    await svc.registry.participant("0000")  # touches the database
    return {"status": "ready", "node": svc.node}
