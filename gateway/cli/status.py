"""``gateway status``: the dashboard's health and figures in the terminal.

Asks a running gateway (its ``/readyz`` on each node and the operator summary ``/dashboard/api/summary``)
with the operator credential: ``--token``, else ``GATEWAY_OPERATOR_TOKEN``, else the file
``var/operator-token`` that ``scripts/run`` writes. Over HTTPS, trusting the dev CA, when the nodes serve TLS:
``GATEWAY_TLS_DIR``, else ``var/pki`` when it exists (as ``scripts/run``); ``GATEWAY_TLS_DIR=`` for plain HTTP.
Exit code 0 when all is well, 1 when something needs attention (a node not ready, the node link down, an
expired certificate), 2 when the gateway cannot be asked.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import typer

from gateway import paths
from gateway.http.serving import base_url, client_settings, client_verify
from gateway.ports import NODES

TOKEN_FILE = paths.OPERATOR_TOKEN_FILE


def _token(given: str) -> str | None:
    if given:
        return given
    configured = client_settings().operator_token
    if configured:
        return configured
    try:
        return TOKEN_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def render(summary: dict[str, Any], ready: dict[str, bool]) -> tuple[list[str], bool]:
    """The status lines and whether anything needs attention."""
    attention = False
    lines = [f"Gegevensknooppunt status at {summary['generatedAt']} (nodes: {', '.join(summary['nodes'])})"]
    health = ", ".join(f"{node} {'ready' if ok else 'NOT READY'}" for node, ok in ready.items())
    attention |= not all(ready.values())
    lines.append(f"{'Health':<11}{health}")
    links = summary.get("links") or []
    if links:
        attention |= not all(link["up"] for link in links)
        lines.append(f"{'Node link':<11}" + ", ".join(f"{link['name']} {link['state']}" for link in links))
    queues = summary.get("linkQueues") or []
    if queues:
        lines.append(
            f"{'Link queue':<11}" + ", ".join(f"{q['node']} {q['queue']} {q['messages']}" for q in queues)
        )
    dlq = summary.get("dlq")
    if dlq is not None:
        lines.append(f"{'Dead lett.':<11}" + ", ".join(f"{node} {n}" for node, n in dlq.items()))
    w = summary["window"]
    lines.append(
        f"{'Last 15 m':<11}accepted {w['accepted']} (last minute {w['acceptedLastMinute']}), "
        f"refused {w['refused']} ({w['refusalRate'] * 100:.1f} %)"
    )
    totals = {name: sum(values) for name, values in summary["throughput"]["series"].items()}
    if totals:
        top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
        lines.append(f"{'By type':<11}" + ", ".join(f"{name} {n}" for name, n in top))
    if summary["topRefusals"]:
        lines.append(
            f"{'Refusals':<11}"
            + ", ".join(f"{r['code']} {r['reason']} {r['count']}" for r in summary["topRefusals"][:5])
        )
    mailboxes = [m for m in summary.get("mailboxes") or [] if m["messages"]]
    lines.append(
        f"{'Mailboxes':<11}"
        + (", ".join(f"{m['party']} {m['messages']}" for m in mailboxes[:8]) or "all empty")
    )
    for node, lat in summary["latency"].items():
        parts = [
            f"{label} p50 {_ms(lat[key]['p50'])} p95 {_ms(lat[key]['p95'])}"
            for key, label in (("confirm", "confirm"), ("linkLag", "link"), ("mailbox", "mailbox"))
            if lat[key]["count"]
        ]
        if parts:
            lines.append(f"{'Latency':<11}{node}: " + "; ".join(parts))
    certificates = summary.get("certificates") or []
    if certificates:
        attention |= any(c["daysLeft"] < 0 for c in certificates)
        lines.append(
            f"{'Certific.':<11}"
            + ", ".join(f"{c['certificate']} {c['daysLeft']} d" for c in certificates[:4])
        )
    errors = summary.get("broker", {}).get("errors") or []
    if errors:
        lines.append(f"{'Not read':<11}" + ", ".join(errors))
    return lines, attention


def status(
    url: str = typer.Option(
        "", "--url", help="a node of the gateway (default: the municipal node, https with GATEWAY_TLS_DIR)"
    ),
    token: str = typer.Option("", "--token", help="operator credential (default: GATEWAY_OPERATOR_TOKEN)"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Health and figures of a running gateway: link, DLQs, throughput, refusals, mailboxes, latency."""
    settings = client_settings()
    base = url or base_url(settings, "ggk")
    credential = _token(token)
    if not credential:
        typer.echo("no operator credential: --token, GATEWAY_OPERATOR_TOKEN or var/operator-token", err=True)
        raise typer.Exit(2)
    nodes = {node: base_url(settings, node) for node in NODES}
    try:
        verify = client_verify(settings)
    except OSError as exc:  # also ssl.SSLError
        typer.echo(f"cannot read the dev CA in {settings.security.tls_dir} ({type(exc).__name__})", err=True)
        raise typer.Exit(2) from None
    try:
        with httpx.Client(timeout=10, verify=verify) as client:
            response = client.get(
                base + "/dashboard/api/summary?scope=gateway",
                headers={"Authorization": f"Bearer {credential}"},
            )
            if response.status_code != 200:
                typer.echo(f"the gateway answered {response.status_code} at {base}", err=True)
                raise typer.Exit(2)
            summary = response.json()
            ready = {}
            for node in summary["nodes"]:
                try:
                    ready[node] = client.get(nodes[node] + "/readyz").status_code == 200
                except httpx.HTTPError:
                    ready[node] = False
    except httpx.HTTPError as exc:
        hint = (
            "GATEWAY_TLS_DIR= (empty) if they serve plain HTTP"
            if base.startswith("https:")
            else "GATEWAY_TLS_DIR if they serve HTTPS"
        )
        typer.echo(f"the gateway at {base} cannot be reached ({type(exc).__name__}; {hint})", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"ready": ready, **summary}, indent=2))
        lines, attention = render(summary, ready)
    else:
        lines, attention = render(summary, ready)
        for line in lines:
            typer.echo(line)
    raise typer.Exit(1 if attention else 0)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
