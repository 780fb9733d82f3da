"""A RabbitMQ node of a test's own, beside the machine's broker (which these tests never touch).

Own node name, ports, data, log and config; everything under a temporary folder owned by the ``rabbitmq``
user (Debian's scripts run every node as that user). Only this node is ever stopped.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class OwnNode:
    name: str
    base: Path
    amqp_port: int
    management_port: int
    dist_port: int

    @classmethod
    def create(cls, definitions: Path | None = None) -> OwnNode:
        """Prepare (not start) a node; with ``definitions``, it loads them at boot."""
        base = Path(tempfile.mkdtemp(prefix="gw-own-node-"))
        node = cls(f"gwtest{secrets.token_hex(3)}@localhost", base, _free_port(), _free_port(), _free_port())
        for sub in ("mnesia", "log"):
            (base / sub).mkdir()
        (base / "enabled_plugins").write_text(
            "[rabbitmq_management,rabbitmq_shovel,rabbitmq_shovel_management].\n"
        )
        lines = [
            f"listeners.tcp.local = 127.0.0.1:{node.amqp_port}",
            "management.tcp.ip = 127.0.0.1",
            f"management.tcp.port = {node.management_port}",
        ]
        if definitions is not None:
            shutil.copy(definitions, base / "definitions.json")
            lines.append(f"load_definitions = {base / 'definitions.json'}")
        (base / "rabbitmq.conf").write_text("\n".join(lines) + "\n")
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(base)], check=True)
        return node

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def management_url(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.management_port}"

    def _env(self) -> dict[str, str]:
        b = self.base
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(b / "mnesia"),
            "RABBITMQ_LOG_BASE": str(b / "log"),
            "RABBITMQ_PID_FILE": str(b / "node.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(b / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(b / "rabbitmq.conf"),
        }

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            ["rabbitmqctl", "-n", self.name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    def start(self) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=self._env(), check=True, timeout=60)
        # ``wait`` first waits for the pid file, then for the broker to run (await_startup alone fails
        # while the freshly detached node has not registered yet)
        self.ctl(
            "wait", "--timeout", str(START_TIMEOUT), str(self.base / "node.pid"), timeout=START_TIMEOUT + 10
        )

    def stop_app(self) -> None:
        """Stop RabbitMQ on this node (the Erlang VM stays): every connection is closed, nothing is accepted."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.ctl("await_startup", "--timeout", str(START_TIMEOUT), timeout=START_TIMEOUT + 10)

    def destroy(self) -> None:
        """Stop this node and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.ctl("stop", timeout=120)
        shutil.rmtree(self.base, ignore_errors=True)
