"""What every route of a node may ask for: the node's services, the caller's party, the request body."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Scope

from adapters.db.admin import RegistryAdmin
from adapters.rabbitmq import Broker
from gateway.errors import GatewayError, NodeRole, NotAuthenticated, TooLarge, UnsupportedMediaType
from gateway.http.limits import Limits, RequestAbandoned
from gateway.identity import Credentials, Identity
from gateway.koppeling.service import Koppeling
from gateway.ops.operations import Operations
from gateway.pipeline import Pipeline
from gateway.ports import MailboxReader, Registry, Tracking
from gateway.security.audit import AuditLog
from gateway.security.receipts import ReceiptSigner
from gateway.security.tls import peer_certificate_der
from gateway.standard.engine import Engine

XML_TYPES = ("application/xml", "text/xml")


@dataclass(frozen=True)
class NodeServices:
    """The wiring of one node, built at start-up and kept on ``app.state.services``."""

    node: NodeRole
    pipeline: Pipeline
    identity: Identity
    registry: Registry
    tracking: Tracking
    reader: MailboxReader
    max_bytes: int
    lease_seconds: int
    operator_token: str | None = None
    koppeling: Koppeling | None = None  # VECOZO REST push, pull, status (provider node)
    admin: RegistryAdmin | None = None  # the registry's management interface
    broker: Broker | None = None  # mailbox provisioning, depths, reachability
    ops: Operations | None = None  # metrics, dashboard, dead letters
    metrics_token: str | None = None  # may read /metrics and nothing else (the operator credential may too)
    # security (issue 5): receipt signing, per-party rate limit, the audit trail for operator actions
    receipts: ReceiptSigner | None = None
    limits: Limits | None = None
    audit: AuditLog | None = None
    engine: Engine | None = None  # the standard engine, for the validation service (POST /v1/validaties)
    amqp_reads_traced: bool = False  # GATEWAY_TRACE_AMQP_DELIVERIES: reads over AMQP show in track & trace

    def __repr__(self) -> str:
        return f"NodeServices(node={self.node!r})"


async def services(request: Request) -> NodeServices:
    svc: NodeServices = request.app.state.services
    return svc


Services = Annotated[NodeServices, Depends(services)]


def header(scope: Scope, name: bytes) -> str | None:
    """The request's first ``name`` header (lower case), as ``request.headers.get`` gives it, without the
    headers object Starlette builds for the request."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def credentials(request: Request) -> Credentials:
    """What the request presents; a bearer token outside ASCII is no credential of ours (401, never 500)."""
    scope = request.scope
    scheme, token = get_authorization_scheme_param(header(scope, b"authorization"))
    bearer = token.strip() if scheme.lower() == "bearer" else None
    if bearer and not bearer.isascii():
        raise NotAuthenticated("the bearer token holds characters outside ASCII; no credential has them")
    return Credentials(bearer=bearer or None, peer_certificate=peer_certificate_der(scope))


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a presented secret with the configured one (any characters)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


async def caller(request: Request, svc: Services) -> str:
    """The authenticated party code of the caller (401 otherwise; 429 over its rate limit)."""
    party = await svc.identity.party(credentials(request))
    if svc.limits is not None:
        svc.limits.check(svc.node, party)
    return party


Caller = Annotated[str, Depends(caller)]


def is_operator(request: Request, svc: NodeServices) -> bool:
    return same_secret(credentials(request).bearer, svc.operator_token)


async def operator(request: Request, svc: Services) -> None:
    if not is_operator(request, svc):
        raise NotAuthenticated("this operation needs the operator credential")


Operator = Annotated[None, Depends(operator)]


async def xml_body(request: Request, limit: int) -> bytes:
    """The request body, refused early when it is not XML or larger than ``limit`` bytes."""
    media = (header(request.scope, b"content-type") or "").split(";")[0].strip().lower()
    if media not in XML_TYPES:
        raise UnsupportedMediaType(f"content type {media or '(none)'} is not application/xml")
    return await bounded_body(request, limit)


async def bounded_body(
    request: Request, limit: int, too_large: Callable[[str], GatewayError] = TooLarge
) -> bytes:
    """The request body, streamed and refused (``too_large``) as soon as it passes ``limit`` bytes."""
    declared = header(request.scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(f"a request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    # the messages read as ``request.stream()`` reads them, without its async generator
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise too_large(f"the request body exceeds the limit of {limit} bytes")
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif kind == "http.disconnect":  # gone, or cut off at the body deadline (gateway.http.limits)
            raise RequestAbandoned("the connection closed before the whole message arrived")
