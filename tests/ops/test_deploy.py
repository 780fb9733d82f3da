"""deploy/: the Grafana dashboard and the Prometheus alerts use only metrics the gateway serves."""

from __future__ import annotations

import json
import re

from tests.harness import ROOT, GatewayUnderTest
from tests.ops.messages import AANBIEDER, request

NAME = re.compile(r"\bgateway_[a-z_]+")


async def served_names(gw: GatewayUnderTest) -> set[str]:
    await gw.submit(AANBIEDER, request())
    await gw.submit(AANBIEDER, b"<x/>")
    names = set()
    for node in ("ggk", "vecozo"):
        text = (await gw.clients[node].get("/metrics")).text
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
