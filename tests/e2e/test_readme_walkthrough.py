"""README.md's "A first exchange", run as written: `scripts/run` starts the nodes (demo traffic on) and bash
runs the README's shell blocks with curl; only the nodes' ports differ. Fails when the README drifts."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.broker.conftest import Cleanup

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "istandaarden"
START_SECONDS = 120

pytestmark = [
    pytest.mark.broker,
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not present"),
]


def readme_blocks() -> list[str]:
    """The shell blocks of the README's "A first exchange" section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A first exchange", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """`scripts/run` in a checkout of its own (links to this one's scripts, venv and deploy files)."""

    home: Path
    ports: dict[str, int]
    log: Path

    def run(self, block: str) -> tuple[int, str, str]:
        """A README shell block, with this run's ports for the README's 8081/8082."""
        script = block.replace("127.0.0.1:8081", f"127.0.0.1:{self.ports['ggk']}")
        script = script.replace("127.0.0.1:8082", f"127.0.0.1:{self.ports['vecozo']}")
        done = subprocess.run(
            ["bash", "-e", "-c", script], cwd=self.home, capture_output=True, text=True, timeout=120
        )
        return done.returncode, done.stdout, done.stderr


def _values(out: str) -> list[Any]:
    """The JSON values a block printed one after the other (status codes and json.tool documents)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(out):
        if out[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(out, at)
        values.append(value)
    return values


def _wait_until_serving(running: Running, process: subprocess.Popen[bytes]) -> None:
    """Both nodes answer /healthz and the demo traffic (demo-only parties) flows."""
    deadline = time.monotonic() + START_SECONDS
    ca = running.home / "var" / "pki" / "ca.pem"
    while time.monotonic() < deadline:
        assert process.poll() is None, running.log.read_text(errors="replace")[-3000:]
        log = running.log.read_text(errors="replace")
        if ca.exists() and re.search(r'"sender": "(99\d\d|9899\d{4})"', log):
            try:
                verify = ssl.create_default_context(cafile=str(ca))
                answers = [
                    httpx.get(f"https://127.0.0.1:{port}/healthz", verify=verify, timeout=5).status_code
                    for port in running.ports.values()
                ]
            except httpx.HTTPError:
                answers = []
            if answers == [200, 200]:
                return
        time.sleep(0.5)
    raise AssertionError(
        "scripts/run did not serve in time:\n" + running.log.read_text(errors="replace")[-3000:]
    )


@pytest.fixture
def scripts_run(tmp_path: Path, broker_cleanup: Cleanup) -> Iterator[Running]:
    """`scripts/run` as a reader starts it, on free ports, in vhosts of this test's own, stopped with Ctrl-C."""
    home = tmp_path / "checkout"
    home.mkdir()
    for name in ("scripts", "deploy", ".venv", "pyproject.toml"):
        (home / name).symlink_to(ROOT / name)
    (tmp_path / "shared").symlink_to(ROOT.parent / "shared")  # the README's ../shared
    ports = {"ggk": _free_port(), "vecozo": _free_port()}
    var = home / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_AMQP_URL=broker_cleanup.settings.amqp_url,
        GATEWAY_MANAGEMENT_URL=os.environ.get("GATEWAY_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672"),
        GATEWAY_VHOST_PREFIX=broker_cleanup.fresh().vhost_prefix,
        GATEWAY_GGK_PORT=str(ports["ggk"]),
        GATEWAY_VECOZO_PORT=str(ports["vecozo"]),
        # this checkout's var/, not the one of the checkout the gateway package is imported from
        GATEWAY_DATABASE_URL=f"sqlite+aiosqlite:///{var / 'gateway.db'}",
        GATEWAY_PRIVACY_KEY_FILE=str(var / "privacy.key"),
        GATEWAY_AUDIT_KEY_FILE=str(var / "audit.key"),
        GATEWAY_LINK_KEY_FILE=str(var / "link.key"),
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["scripts/run"], cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Running(home, ports, log)
    try:
        _wait_until_serving(running, process)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_readme_first_exchange_works_as_written(scripts_run: Running) -> None:
    """With demo traffic on, the README's commands give the 202, a lease holding the message, the ack and a
    trace that ends acked; the same bytes again give the first answer back; the JW315 example is a 422. The
    fresh set-up made the audit chain's key, readable by its owner only."""
    assert 0o600 == stat.S_IMODE((scripts_run.home / "var" / "audit.key").stat().st_mode)
    exchange, again, jw315 = readme_blocks()
    paragraphs = exchange.split("\n\n")
    lease = next(i for i, p in enumerate(paragraphs) if "/v1/mailbox $GEMEENTE >var/lease.json" in p)
    # "if "messages" is empty, run it again", as the README says: at most ten times, a second apart
    paragraphs[lease] = (
        f'for try in $(seq 10); do\n{paragraphs[lease]}\ngrep -q "$TRACKING_ID" var/lease.json && break\n'
        "sleep 1\ndone"
    )
    code, out, err = scripts_run.run("\n\n".join(paragraphs))
    assert 0 == code, err
    status, answer, leased, acked, trace = _values(out)
    sent = (scripts_run.home / "var" / "wmo315.xml").read_bytes()
    ours = [m for m in leased["messages"] if m["trackingId"] == answer["trackingId"]]
    assert (
        (202, "WMO315", "42420001", "0384", False),
        [sent],
        204,
        (answer["trackingId"], ["received", "acked"]),
    ) == (
        (status, answer["message"], answer["sender"], answer["recipient"], answer["duplicate"]),
        [base64.b64decode(m["body"]) for m in ours],
        acked,
        (trace["trackingId"], [e["event"] for e in trace["events"]][:: len(trace["events"]) - 1]),
    )

    code, out, err = scripts_run.run(again)
    (repeated,) = _values(out)
    assert (0, answer["trackingId"], True) == (code, repeated["trackingId"], repeated["duplicate"]), err

    code, out, err = scripts_run.run(jw315)
    (problem,) = _values(out)
    paths = [e["path"] for e in problem["errors"]]
    assert (0, 422, "CC02", True) == (
        code,
        problem["status"],
        problem["code"],
        all(p.endswith("/ToewijzingEinddatum") for p in paths) and len(paths) > 0,
    ), err
