"""``gateway serve`` processes of one deployment, run from outside: started per node role, waited for until
ready, killed and restarted one by one, stopped with SIGTERM (then SIGKILL).

The bench's system under measurement (:mod:`bench._stack`) and the fault suite's gateway
(``tests/faults/processes.py``) are both this.
"""

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
from typing import ClassVar, Self

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listening(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a listening TCP socket on ``port`` (read from Linux's /proc; True where
    there is no /proc to read)."""
    if not Path("/proc/self/fd").is_dir():
        return True
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
    return False


def ready(url: str) -> bool:
    """Whether the gateway at ``url`` answers 200 on ``/readyz``."""
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    return False


@dataclass
class Gateway:
    """``gateway serve`` processes of one deployment: ``groups`` maps a label to the nodes it serves
    (comma-separated) and how many processes serve them (sharing each node's port, ``--reuse-port``).
    Logs (and state) under ``workdir``; the processes run in ``cwd`` (``workdir`` when not given)."""

    # environment every deployment of the class gets, before the ``extra`` of :meth:`prepare`
    settings: ClassVar[Mapping[str, str]] = {}

    env: dict[str, str]
    workdir: Path
    ports: dict[str, int]
    groups: dict[str, tuple[str, int]]
    cwd: Path | None = None
    processes: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)
    _killed: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

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
        cwd: Path | None = None,
    ) -> Self:
        """A deployment on the broker's vhosts of ``vhost_prefix`` and on this database, with a free port
        for each node role (nothing started yet)."""
        ports = {"ggk": free_port(), "vecozo": free_port()}
        own = workdir / "var"  # the keys every process of the deployment shares, not the checkout's var/
        env = {
            "GATEWAY_PRIVACY_KEY_FILE": str(own / "privacy.key"),
            "GATEWAY_AUDIT_KEY_FILE": str(own / "audit.key"),
            "GATEWAY_AUDIT_CHECKPOINT_FILE": str(own / "audit.checkpoints.jsonl"),
            "GATEWAY_LINK_KEY_FILE": str(own / "link.key"),
            "GATEWAY_RECEIPT_DIR": str(own / "pki"),
            **os.environ,
            "GATEWAY_AMQP_URL": amqp_url,
            "GATEWAY_MANAGEMENT_URL": management_url,
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_VHOST_PREFIX": vhost_prefix,
            "GATEWAY_GGK_PORT": str(ports["ggk"]),
            "GATEWAY_VECOZO_PORT": str(ports["vecozo"]),
            **cls.settings,
            "PYTHONUNBUFFERED": "1",
            **(extra or {}),
        }
        return cls(env, workdir, ports, dict(groups), cwd)

    @property
    def pids(self) -> list[int]:
        return [p.pid for procs in self.processes.values() for p in procs]

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
            self._wait_listening(timeout)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, label: str, nodes: str, index: int, count: int) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "gateway", "serve", "--node", nodes]
        if count > 1:
            args.append("--reuse-port")
        with (self.workdir / f"gateway-{label.replace(',', '+')}-{index}.log").open("ab") as log:
            proc = subprocess.Popen(
                args, env=self.env, cwd=self.cwd or self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        procs = self.processes.setdefault(label, [])
        if index < len(procs):
            procs[index] = proc
        else:
            procs.append(proc)
        return proc

    def wait_ready(self, timeout: float = 90.0, nodes: Sequence[str] | None = None) -> None:
        """Wait until every node served (or each of ``nodes``) answers ready; fails when a process exits
        that :meth:`kill` did not kill, or after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        served = {node for nodes_, _ in self.groups.values() for node in nodes_.split(",")}
        pending = set(nodes or served)
        while pending:
            for label, procs in self.processes.items():
                for proc in procs:
                    if proc.poll() is not None and proc not in self._killed:
                        raise RuntimeError(
                            f"gateway {label} exited with {proc.returncode}; logs in {self.workdir}"
                        )
            for node in list(pending):
                if ready(self.url(node)):
                    pending.discard(node)
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway not ready within {timeout} s; logs in {self.workdir}")
            time.sleep(0.2)

    def _wait_listening(self, timeout: float) -> None:
        """Wait until every process listens on the port of each node it serves. Processes sharing a port
        answer ready as soon as the first of them does: without this wait the others would still be starting
        (imports, schemas: seconds of CPU) while a measurement runs."""
        deadline = time.monotonic() + timeout
        for label, procs in self.processes.items():
            ports = [self.ports[node] for node in self.groups[label][0].split(",")]
            for proc in procs:
                while not all(listening(proc.pid, port) for port in ports):
                    if proc.poll() is not None:
                        raise RuntimeError(
                            f"gateway {label} exited with {proc.returncode}; logs in {self.workdir}"
                        )
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"gateway not listening within {timeout} s; logs in {self.workdir}"
                        )
                    time.sleep(0.2)

    def kill(self, label: str, index: int = 0) -> None:
        """SIGKILL one process: no shutdown, nothing flushed, connections dropped."""
        proc = self.processes[label][index]
        self._killed.append(proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def restart(self, label: str, index: int = 0) -> None:
        """Start a killed process again (as a supervisor would)."""
        nodes, count = self.groups[label]
        self._spawn(label, nodes, index, count)

    def stop(self, timeout: float = 40.0) -> None:
        """SIGTERM to every process still running; SIGKILL to those not gone within ``timeout`` s."""
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
