"""deploy/: the Grafana dashboard and the Prometheus alerts use only metrics the gateway serves, and the
Prometheus scrape config reaches the nodes as ``scripts/run`` serves them (mutual TLS, dev PKI)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]

from gateway.config import Settings
from gateway.errors import NodeRole
from gateway.ports import NODES
from gateway.security.pkidir import PkiDir
from gateway.security.tls import client_context
from tests.harness import OPERATOR_TOKEN, ROOT, GatewayUnderTest
from tests.ops.messages import AANBIEDER, request
from tests.privacy.conftest import served

SCRAPER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}  # /metrics is for operators

PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"

NAME = re.compile(r"\bgateway_[a-z_]+")


async def served_names(gw: GatewayUnderTest) -> set[str]:
    await gw.submit(AANBIEDER, request())
    await gw.submit(AANBIEDER, b"<x/>")
    names = set()
    for node in ("ggk", "vecozo"):
        text = (await gw.clients[node].get("/metrics", headers=SCRAPER)).text
        names |= {m.group(0) for m in NAME.finditer(text)}
    return names


async def test_grafana_dashboard_queries_served_metrics(fake_gw: GatewayUnderTest) -> None:
    """Every metric in the dashboard's queries is served by some node."""
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "gateway-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    assert set() == set(NAME.findall(exprs)) - await served_names(fake_gw) - {"gateway_link_up"}


async def test_prometheus_alerts_use_served_metrics(fake_gw: GatewayUnderTest) -> None:
    """Every metric in the alert rules is served by some node (the link gauge needs the real broker)."""
    rules = (ROOT / "deploy" / "prometheus" / "gateway-alerts.yml").read_text()
    assert set() == set(NAME.findall(rules)) - await served_names(fake_gw) - {"gateway_link_up"}


def gateway_jobs() -> dict[NodeRole, dict[str, Any]]:
    """node -> its scrape job in deploy/prometheus/prometheus.yml."""
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    return {node: jobs[f"gateway-{node}"] for node in NODES}


async def test_prometheus_scrapes_the_nodes_over_mutual_tls(
    fake_gw: GatewayUnderTest, demo_pki: PkiDir
) -> None:
    """Each job asks its node on the default port over HTTPS trusting var/pki/ca.pem (paths are relative to
    the config file) with the operator credential `scripts/run` writes to var/operator-token; so configured,
    a scrape of the node served with the dev PKI gets its metrics, and without the credential a 401."""
    dev_pki = (ROOT / "var" / "pki").resolve()
    runtime = fake_gw.runtime
    tls = runtime.settings.model_copy(
        update={"security": runtime.settings.security.model_copy(update={"tls_dir": demo_pki.root})}
    )
    for node, job in gateway_jobs().items():
        ca = (PROMETHEUS.parent / job["tls_config"]["ca_file"]).resolve()
        token_file = (PROMETHEUS.parent / job["authorization"]["credentials_file"]).resolve()
        assert (
            ["127.0.0.1:" + str(Settings().port(node))],
            "https",
            dev_pki / "ca.pem",
            (ROOT / "var" / "operator-token").resolve(),
        ) == (
            [t for c in job["static_configs"] for t in c["targets"]],
            job["scheme"],
            ca,
            token_file,
        )
        async with (
            served(runtime.apps[node], tls, node) as url,
            httpx.AsyncClient(verify=client_context(demo_pki.root / ca.relative_to(dev_pki))) as client,
        ):
            response = await client.get(url + job["metrics_path"], headers=SCRAPER)
            anonymous = await client.get(url + job["metrics_path"])
        assert (200, True, 401) == (response.status_code, "gateway_" in response.text, anonymous.status_code)
