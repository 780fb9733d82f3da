"""The processes a fault test runs and kills: ``gateway serve`` per node role, and mailbox subscribers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Gateway:
    """``gateway serve`` processes of one deployment: ``groups`` maps a label to the nodes it serves and
    how many processes serve them (sharing each node's port). Logs and state under ``workdir``."""

    env: dict[str, str]
    workdir: Path
    ports: dict[str, int]
    groups: dict[str, tuple[str, int]]
    processes: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)

    @classmethod
    def prepare(
        cls,
        workdir: Path,
        amqp_url: str,
        management_url: str,
        database_url: str,
        vhost_prefix: str,
        groups: Mapping[str, tuple[str, int]],
        extra: Mapping[str, str] | None = None,
    ) -> Gateway:
        ports = {"ggk": free_port(), "vecozo": free_port()}
        env = {
            **os.environ,
            "GATEWAY_AMQP_URL": amqp_url,
            "GATEWAY_MANAGEMENT_URL": management_url,
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_VHOST_PREFIX": vhost_prefix,
            "GATEWAY_GGK_PORT": str(ports["ggk"]),
            "GATEWAY_VECOZO_PORT": str(ports["vecozo"]),
            "GATEWAY_AMQP_CONNECT_TIMEOUT": "3",
            "GATEWAY_AMQP_CONFIRM_TIMEOUT": "5",
            "PYTHONUNBUFFERED": "1",
            **(extra or {}),
        }
        return cls(env, workdir, ports, dict(groups))

    def url(self, node: str) -> str:
        return f"http://127.0.0.1:{self.ports[node]}"

    def start(self, timeout: float = 90.0) -> None:
        """Start every group; the first process alone first, so that it declares the topology alone.
        Fails (and stops what it started) when they are not ready within ``timeout`` s."""
        first = True
        try:
            for label, (nodes, count) in self.groups.items():
                for index in range(count):
                    self._spawn(label, nodes, index, count)
                    if first:
                        self.wait_ready(timeout, nodes.split(","))
                        first = False
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, label: str, nodes: str, index: int, count: int) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "gateway", "serve", "--node", nodes]
        if count > 1:
            args.append("--reuse-port")
        with (self.workdir / f"gateway-{label}-{index}.log").open("ab") as log:
            proc = subprocess.Popen(
                args, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        procs = self.processes.setdefault(label, [])
        if index < len(procs):
            procs[index] = proc
        else:
            procs.append(proc)
        return proc

    def wait_ready(self, timeout: float = 90.0, nodes: Sequence[str] | None = None) -> None:
        deadline = time.monotonic() + timeout
        served = {node for nodes_, _ in self.groups.values() for node in nodes_.split(",")}
        pending = set(nodes or served)
        while pending:
            for label, procs in self.processes.items():
                for proc in procs:
                    if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                        raise RuntimeError(
                            f"gateway {label} exited with {proc.returncode}; see {self.workdir}"
                        )
            for node in list(pending):
                if ready(self.url(node)):
                    pending.discard(node)
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway not ready within {timeout} s; see {self.workdir}")
            time.sleep(0.2)

    def kill(self, label: str, index: int = 0) -> None:
        """SIGKILL one process: no shutdown, nothing flushed, connections dropped."""
        self.processes[label][index].send_signal(signal.SIGKILL)
        self.processes[label][index].wait()

    def restart(self, label: str, index: int = 0) -> None:
        """Start a killed process again (as a supervisor would)."""
        nodes, count = self.groups[label]
        self._spawn(label, nodes, index, count)

    def stop(self, timeout: float = 40.0) -> None:
        every = [p for procs in self.processes.values() for p in procs]
        for proc in every:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in every:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    return False


@dataclass
class Subscriber:
    """A mailbox subscriber process (:mod:`tests.faults.subscriber`) writing what it got to ``out``."""

    out: Path
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, out: Path, vhost: str, queue: str, urls: Sequence[str], hold: float = 0.005) -> Subscriber:
        args = [sys.executable, "-m", "tests.faults.subscriber", str(out), vhost, queue, str(hold), *urls]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"consuming":
            proc.kill()
            raise RuntimeError("the subscriber did not start consuming")
        return cls(out, proc)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def _close(self) -> None:
        if self.process.stdout is not None:
            self.process.stdout.close()


def received(paths: Sequence[Path]) -> list[tuple[str, str, float, bool]]:
    """Every (tracking id, identificatie, unix time, redelivered) the subscribers recorded, in file order."""
    out = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4:
                out.append((parts[0], parts[1], float(parts[2]), parts[3] == "1"))
    return out
