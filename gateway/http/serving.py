"""How a node is served: the uvicorn configuration with mutual TLS (when configured) and abuse limits.

With ``GATEWAY_TLS_DIR`` (a ``gateway pki init`` directory) the node serves HTTPS with its node certificate
and asks clients for a certificate of the dev CA (``GATEWAY_CLIENT_CERTS=optional|required``). The
handshake checks the chain; validity times and the CRL are checked by the app, so an expired, not yet valid
or revoked certificate is answered ``401`` with the reason. A certificate of another CA fails the handshake.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import uvicorn

from gateway import paths
from gateway.config import Settings, environment
from gateway.errors import NodeRole
from gateway.http.limits import SlowClientLimits, guarded_protocol
from gateway.security.pkidir import PkiDir
from gateway.security.tls import client_context, node_server_context


def tls_context(settings: Settings, node: NodeRole) -> ssl.SSLContext | None:
    """The node's server TLS context, or None when TLS is not configured."""
    sec = settings.security
    if sec.tls_dir is None:
        return None
    return node_server_context(PkiDir(sec.tls_dir), node, client_certs=sec.client_certs, check_time=False)


DEV_PKI = paths.PKI_DIR  # where `scripts/run` keeps the dev PKI it serves with

# a node listening on every address is reached on the loopback address (its certificate names 127.0.0.1)
_WILDCARD = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}


def scheme(settings: Settings) -> str:
    return "https" if settings.security.tls_dir is not None else "http"


def base_url(settings: Settings, node: NodeRole) -> str:
    """Where a client reaches ``node`` of this configuration (``https://`` when TLS is on)."""
    host = settings.host
    host = _WILDCARD.get(host, f"[{host}]" if ":" in host else host)
    return f"{scheme(settings)}://{host}:{settings.port(node)}"


def client_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of a command-line client of the local gateway (``gateway status``, ``gateway simulate``).

    As the nodes' settings, except that without ``GATEWAY_TLS_DIR`` in the environment the dev PKI that
    ``scripts/run`` serves with (``var/pki``) is used when it exists, so a second shell needs no exports;
    ``GATEWAY_TLS_DIR=`` (set, empty) asks for plain HTTP.
    """
    given = environment() if env is None else dict(env)
    if "GATEWAY_TLS_DIR" not in given and (DEV_PKI / "ca.pem").exists():
        given["GATEWAY_TLS_DIR"] = str(DEV_PKI)
    return Settings.from_env(given)


def client_verify(settings: Settings, party: str | None = None) -> ssl.SSLContext | bool:
    """What an HTTP client (httpx ``verify=``) needs to talk to the nodes: with TLS a context trusting the dev
    CA and, given ``party``, presenting that participant's certificate; without TLS just ``True``."""
    sec = settings.security
    if sec.tls_dir is None:
        return True
    pki = PkiDir(sec.tls_dir)
    if party is None:
        return client_context(pki.ca_cert)
    return client_context(pki.ca_cert, pki.client_cert(party), pki.client_key(party))


def node_server_config(app: Any, settings: Settings, node: NodeRole, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of one node: address, TLS, timeouts, connection and header limits."""
    sec = settings.security
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port(node),
        "lifespan": "off",
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 30,
        "backlog": 4096,
        "timeout_keep_alive": sec.keep_alive,
        "limit_concurrency": sec.max_connections,
        "http": guarded_protocol(SlowClientLimits(sec.header_timeout, sec.body_timeout)),
    }
    context = tls_context(settings, node)
    if context is not None:
        options["ssl_context_factory"] = lambda _config, _default: context
    options.update(overrides)
    return uvicorn.Config(app, **options)
