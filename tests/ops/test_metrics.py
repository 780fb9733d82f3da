"""Prometheus metrics: after a known set of messages the counters and histograms hold the expected counts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.errors import NodeRole
from gateway.ops.metrics import GatewayMetrics
from gateway.ops.operations import _quantiles
from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.ops.conftest import fake_gateway
from tests.ops.messages import AANBIEDER, GEMEENTE, invalid_request, request, start_care

SCRAPER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}  # /metrics is for operators

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(gw: GatewayUnderTest, node: NodeRole) -> Samples:
    response = await gw.clients[node].get("/metrics", headers=SCRAPER)
    assert 200 == response.status_code
    out: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def submit_known_set(gw: GatewayUnderTest) -> None:
    """Two WMO315 and one JW305 accepted, one resubmission, one schema-invalid WMO315, one non-XML body."""
    first = request("iwmo")
    for data in (first, request("iwmo"), start_care("ijw")):
        assert 202 == (await gw.submit(AANBIEDER, data)).status_code
    assert 202 == (await gw.submit(AANBIEDER, first)).status_code
    assert 422 == (await gw.submit(AANBIEDER, invalid_request())).status_code
    assert 400 == (await gw.submit(AANBIEDER, b"not xml at all")).status_code


async def test_counters_after_a_known_set(fake_gw: GatewayUnderTest) -> None:
    """Received, accepted, resubmitted and refused counters count each submission once, by type and code."""
    await submit_known_set(fake_gw)
    s = await scrape(fake_gw, "vecozo")
    wmo = {"node": "vecozo", "standard": "iwmo", "message": "WMO315"}
    unknown = {"node": "vecozo", "standard": "unknown", "message": "unknown"}
    assert {
        "received WMO315": 4.0,
        "accepted WMO315": 2.0,
        "resubmitted WMO315": 1.0,
        "refused WMO315 CC02": 1.0,
        "accepted JW305": 1.0,
        "refused unknown CC02": 1.0,
        "received unknown": 1.0,
    } == {
        "received WMO315": value(s, "gateway_messages_received_total", **wmo),
        "accepted WMO315": value(s, "gateway_messages_accepted_total", **wmo),
        "resubmitted WMO315": value(s, "gateway_messages_resubmitted_total", **wmo),
        "refused WMO315 CC02": value(s, "gateway_messages_refused_total", **wmo, code="CC02"),
        "accepted JW305": value(
            s, "gateway_messages_accepted_total", node="vecozo", standard="ijw", message="JW305"
        ),
        "refused unknown CC02": value(s, "gateway_messages_refused_total", **unknown, code="CC02"),
        "received unknown": value(s, "gateway_messages_received_total", **unknown),
    }


async def test_histograms_after_a_known_set(fake_gw: GatewayUnderTest) -> None:
    """Each accepted message is timed once to the confirm (sending node), over the link and into the mailbox."""
    await submit_known_set(fake_gw)
    sender = await scrape(fake_gw, "vecozo")
    receiver = await scrape(fake_gw, "ggk")
    assert (3.0, 3.0, 3.0, 0.0) == (
        value(sender, "gateway_receipt_to_confirm_seconds_count", node="vecozo"),
        value(receiver, "gateway_link_lag_seconds_count", node="ggk"),
        value(receiver, "gateway_receipt_to_mailbox_seconds_count", node="ggk"),
        value(receiver, "gateway_receipt_to_confirm_seconds_count", node="ggk"),
    )


async def test_each_node_serves_only_its_own_series(fake_gw: GatewayUnderTest) -> None:
    """The municipal node's /metrics holds no series of the provider node."""
    await submit_known_set(fake_gw)
    s = await scrape(fake_gw, "ggk")
    assert set() == {name for name, labels in s if ("node", "vecozo") in labels}


async def test_mailbox_and_dlq_gauges_from_the_snapshot(fake_gw: GatewayUnderTest) -> None:
    """The mailbox gauge shows the three waiting messages; the DLQ gauge is zero."""
    await submit_known_set(fake_gw)
    s = await scrape(fake_gw, "ggk")
    assert (3.0, 0.0) == (
        value(s, "gateway_mailbox_messages", node="ggk", party=GEMEENTE),
        value(s, "gateway_dlq_messages", node="ggk"),
    )


async def test_a_scrape_storm_reads_the_broker_once(fake_gw: GatewayUnderTest) -> None:
    """Fifty concurrent scrapes share one broker snapshot."""
    ops = fake_gw.runtime.ops
    assert ops is not None
    await asyncio.gather(*(fake_gw.clients["ggk"].get("/metrics", headers=SCRAPER) for _ in range(50)))
    assert 1 == ops.snapshot.reads


async def test_no_label_holds_a_tracking_id(fake_gw: GatewayUnderTest) -> None:
    """No label value of any series is a tracking id of an accepted message."""
    response = await fake_gw.submit(AANBIEDER, request())
    tracking_id = response.json()["trackingId"]
    s = await scrape(fake_gw, "vecozo") | await scrape(fake_gw, "ggk")
    assert [] == [labels for _, labels in s if any(tracking_id in v for _, v in labels)]


@pytest.mark.parametrize("node", ["ggk", "vecozo"])
async def test_metrics_is_prometheus_text(fake_gw: GatewayUnderTest, node: NodeRole) -> None:
    """/metrics answers in the Prometheus text format."""
    response: httpx.Response = await fake_gw.clients[node].get("/metrics", headers=SCRAPER)
    assert "text/plain" == response.headers["content-type"].split(";")[0]


async def test_refusals_before_ingest_are_counted_once(fake_gw: GatewayUnderTest) -> None:
    """A submission refused for its content type or for lacking a credential counts under its code; an
    unauthenticated mailbox read is no submission and counts nowhere."""
    client = fake_gw.clients["vecozo"]
    headers = {**fake_gw.auth(AANBIEDER), "Content-Type": "text/plain"}
    assert 415 == (await client.post("/v1/berichten", content=request(), headers=headers)).status_code
    plain = {"Content-Type": "application/xml"}
    assert 401 == (await client.post("/v1/berichten", content=request(), headers=plain)).status_code
    assert 401 == (await client.get("/v1/mailbox")).status_code
    s = await scrape(fake_gw, "vecozo")
    unknown = {"node": "vecozo", "standard": "unknown", "message": "unknown"}
    assert (1.0, 1.0, 2.0) == (
        value(s, "gateway_messages_refused_total", **unknown, code="CC02"),
        value(s, "gateway_messages_refused_total", **unknown, code="IB002"),
        value(s, "gateway_messages_received_total", **unknown),
    )


async def test_certificate_expiry_per_node(tmp_path: Path) -> None:
    """Each node reports the CA, its own certificate and those of its own parties (of the directory the nodes
    serve TLS from), in days."""
    from gateway.config import SecuritySettings
    from gateway.security.pkidir import PkiDir

    PkiDir(tmp_path / "pki").init({GEMEENTE: "Diemen", AANBIEDER: "De Linde"})
    sec = SecuritySettings(tls_dir=tmp_path / "pki", privacy_key_file=tmp_path / "privacy.key")
    async with fake_gateway(tmp_path, security=sec) as gw:
        s = await scrape(gw, "ggk")
    names = {dict(labels)["certificate"] for name, labels in s if name == "gateway_certificate_expiry_days"}
    assert {"ca.pem", "nodes/ggk.pem", f"clients/{GEMEENTE}.pem"} == names


async def test_metrics_are_for_operators_only(fake_gw: GatewayUnderTest) -> None:
    """/metrics without a credential, or with a participant's, is 401; the scrape-only metrics credential
    and the operator credential get the figures."""
    import dataclasses

    from gateway.http.app import create_app

    svc = dataclasses.replace(fake_gw.runtime.services["ggk"], metrics_token="scrape-only")
    transport = httpx.ASGITransport(app=create_app(svc))
    async with httpx.AsyncClient(transport=transport, base_url="http://ggk") as client:
        statuses = [
            (await client.get("/metrics", headers=headers)).status_code
            for headers in (
                {},
                fake_gw.auth(GEMEENTE),
                {"Authorization": "Bearer scrape-only"},
                SCRAPER,
            )
        ]
        other = await client.get("/v1/admin/participants", headers={"Authorization": "Bearer scrape-only"})
    assert ([401, 401, 200, 200], 401) == (statuses, other.status_code)


def test_a_sending_node_observes_the_other_nodes_delivery_under_that_nodes_label() -> None:
    """A process serving only the sending node that put a message straight into the other node's mailbox
    observes that node's link lag and delivery, labelled with that node; its own dashboard figures leave
    those series out."""
    metrics = GatewayMetrics(("vecozo",))
    metrics.crossed("ggk", 0.2)
    metrics.delivered("ggk", 0.3)
    metrics.delivered("vecozo", 0.1)
    mailbox = metrics.nodes["vecozo"].mailbox_seconds
    counts = {
        s.labels["node"]: s.value
        for family in mailbox.collect()
        for s in family.samples
        if s.name.endswith("_count")
    }
    assert counts == {"ggk": 1.0, "vecozo": 1.0}
    assert _quantiles(mailbox, "vecozo")["count"] == 1.0
    assert _quantiles(metrics.nodes["vecozo"].link_lag_seconds, "vecozo")["count"] == 0.0


def test_accepted_messages_are_counted_by_their_catalogue_name_each_time() -> None:
    """Accepted, by name in and outside the catalogue, for a node not served, and a resubmission: the
    counters and the dashboard's window as each call counts them (the children found once are the same)."""
    metrics = GatewayMetrics(["vecozo"], ["WMO315"])
    for name in ("WMO315", "WMO315", "XYZ", "JW315", "WMO315"):
        metrics.accepted("vecozo", name)
    metrics.accepted("ggk", "WMO315")  # not a node of this process: nothing
    metrics.accepted("vecozo", "WMO315", duplicate=True)
    sample = metrics.nodes["vecozo"].registry.get_sample_value

    def value(family: str, standard: str, message: str) -> float | None:
        return sample(
            f"gateway_messages_{family}_total", {"node": "vecozo", "standard": standard, "message": message}
        )

    assert [
        value("received", "iwmo", "WMO315"),
        value("accepted", "iwmo", "WMO315"),
        value("resubmitted", "iwmo", "WMO315"),
        value("received", "unknown", "unknown"),
        value("accepted", "unknown", "unknown"),
    ] == [4.0, 3.0, 1.0, 2.0, 2.0]
    assert metrics.accepted_window.totals() == {("vecozo", "WMO315"): 3, ("vecozo", "unknown"): 2}
