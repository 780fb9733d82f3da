"""The deployment files parse and hang together (Docker and a Kubernetes cluster are not at hand here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose"
K8S = DEPLOY / "k8s"


def _compose() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    return found


def _k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((K8S / name).read_text())
        if doc is not None
    ]


def test_compose_mounts_only_files_that_exist() -> None:
    """Every file a compose service mounts from the repository is there."""
    missing = [
        (name, volume)
        for name, service in _compose()["services"].items()
        for volume in service.get("volumes", [])
        if volume.startswith(".") and not (COMPOSE / volume.split(":")[0]).exists()
    ]
    assert [] == missing


def test_compose_required_variables_are_in_the_example_env() -> None:
    """Every ${VAR:?} the compose file requires is listed in env.example."""
    required = set(re.findall(r"\$\{(\w+):\?", (COMPOSE / "compose.yaml").read_text()))
    listed = set(re.findall(r"^#?\s*(\w+)=", (COMPOSE / "env.example").read_text(), re.MULTILINE))
    assert set() == required - listed


def test_compose_runs_several_processes_per_node_role_and_waits_for_in_flight_requests() -> None:
    """Both roles run more than one process, each `serve --node ROLE`, with a grace period over 30 s."""
    services = _compose()["services"]
    shape = {
        role: (
            services[f"gateway-{role}"]["command"],
            services[f"gateway-{role}"]["deploy"]["replicas"] > 1,
            int(services[f"gateway-{role}"]["stop_grace_period"].rstrip("s")) > 30,
        )
        for role in ("ggk", "vecozo")
    }
    assert {
        "ggk": (["serve", "--node", "ggk"], True, True),
        "vecozo": (["serve", "--node", "vecozo"], True, True),
    } == shape


def test_compose_has_a_three_node_broker_cluster() -> None:
    """Three RabbitMQ nodes, clustered by the mounted configuration."""
    services = _compose()["services"]
    conf = (COMPOSE / "rabbitmq" / "rabbitmq.conf").read_text()
    nodes = re.findall(r"classic_config\.nodes\.\d+ = rabbit@(\S+)", conf)
    assert ["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"] == [n for n in nodes if n in services]


def test_k8s_documents_name_their_kind() -> None:
    """Every Kubernetes document has apiVersion, kind and a name."""
    bad = [
        d for d in _k8s_documents() if not (d.get("apiVersion") and d.get("kind") and d["metadata"]["name"])
    ]
    assert [] == bad


def test_k8s_workloads_select_their_own_pods() -> None:
    """Each Deployment and StatefulSet selects exactly the labels its pod template carries."""
    mismatched = [
        d["metadata"]["name"]
        for d in _k8s_documents()
        if d["kind"] in ("Deployment", "StatefulSet")
        and not all(
            d["spec"]["template"]["metadata"]["labels"].get(k) == v
            for k, v in d["spec"]["selector"]["matchLabels"].items()
        )
    ]
    assert [] == mismatched


def test_k8s_gateway_probes_and_grace() -> None:
    """Gateway pods: readiness on /readyz, liveness on /healthz, more than 30 s to shut down."""
    found = {}
    for d in _k8s_documents():
        if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("gateway-"):
            pod = d["spec"]["template"]["spec"]
            container = pod["containers"][0]
            found[d["metadata"]["name"]] = (
                container["readinessProbe"]["httpGet"]["path"],
                container["livenessProbe"]["httpGet"]["path"],
                pod["terminationGracePeriodSeconds"] > 30,
                d["spec"]["replicas"] > 1,
            )
    expected = ("/readyz", "/healthz", True, True)
    assert {"gateway-ggk": expected, "gateway-vecozo": expected} == found


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_build() -> None:
    """The kustomization builds (offline) into the documents of every file it lists, plus the generated maps."""
    done = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(K8S)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    built = [d for d in yaml.safe_load_all(done.stdout) if d is not None]
    assert len(_k8s_documents()) + 2 == len(built)


def test_compose_prometheus_scrapes_the_gateway_with_the_metrics_credential() -> None:
    """/metrics is for operators: compose hands GATEWAY_METRICS_TOKEN to the gateways and, as a secret, to
    Prometheus, whose gateway jobs send it as their bearer credential."""
    compose = _compose()
    config = yaml.safe_load((COMPOSE / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert (
        "GATEWAY_METRICS_TOKEN",
        ["metrics-token"],
        ["/run/secrets/metrics-token"] * 2,
        True,
    ) == (
        compose["secrets"]["metrics-token"]["environment"],
        compose["services"]["prometheus"]["secrets"],
        [jobs[f"gateway-{n}"]["authorization"]["credentials_file"] for n in ("ggk", "vecozo")],
        "GATEWAY_METRICS_TOKEN" in compose["x-gateway"]["environment"],
    )


def test_k8s_prometheus_scrapes_the_gateway_with_the_metrics_credential() -> None:
    """The k8s Prometheus mounts the gateway secret's metrics-token and its gateway job sends it; the job for
    other pods never sees it."""
    docs = _k8s_documents()
    config_map = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "prometheus-config"
    )
    jobs = {j["job_name"]: j for j in yaml.safe_load(config_map["data"]["prometheus.yml"])["scrape_configs"]}
    prometheus = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "prometheus")
    spec = prometheus["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    secret = next(v["secret"] for v in spec["volumes"] if v["name"] == "metrics-token")
    assert ("/etc/prometheus/secrets/metrics-token", None, "/etc/prometheus/secrets", "gateway") == (
        jobs["gateway"]["authorization"]["credentials_file"],
        jobs["pods"].get("authorization"),
        mounts["metrics-token"],
        secret["secretName"],
    )


def test_audit_checkpoints_are_kept_on_a_persistent_volume() -> None:
    """The audit chain's signed checkpoints (GATEWAY_AUDIT_CHECKPOINT_FILE) lie on a volume that outlives the
    pod: compose's named volume, in Kubernetes a ReadWriteMany claim that every gateway pod mounts writable.
    In the pod's /tmp they were lost with the pod, and with them the point of signing the head."""
    docs = _k8s_documents()
    env = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "gateway-env")["data"]
    path = env["GATEWAY_AUDIT_CHECKPOINT_FILE"]
    claims = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    held = {}
    for d in docs:
        if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("gateway-"):
            pod = d["spec"]["template"]["spec"]
            volumes = {v["name"]: v for v in pod["volumes"]}
            held[d["metadata"]["name"]] = [
                claims[claim]["accessModes"]
                for m in pod["containers"][0]["volumeMounts"]
                if path.startswith(m["mountPath"].rstrip("/") + "/") and not m.get("readOnly")
                for claim in [volumes[m["name"]].get("persistentVolumeClaim", {}).get("claimName")]
                if claim in claims
            ]
    compose = _compose()
    file = compose["x-gateway"]["environment"]["GATEWAY_AUDIT_CHECKPOINT_FILE"]
    named = {
        volume.split(":")[0]
        for volume in compose["services"]["gateway-ggk"].get("volumes", [])
        if file.startswith(volume.split(":")[1].rstrip("/") + "/")
    }
    assert ({"gateway-ggk": [["ReadWriteMany"]], "gateway-vecozo": [["ReadWriteMany"]]}, True) == (
        held,
        bool(named) and named <= set(compose.get("volumes", {})),
    )
