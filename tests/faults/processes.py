"""The processes a fault test runs and kills: ``gateway serve`` per node role, and mailbox subscribers."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from bench import _serve

ROOT = Path(__file__).resolve().parents[2]


class Gateway(_serve.Gateway):
    """``gateway serve`` per node role (:class:`bench._serve.Gateway`), with AMQP timeouts short enough for a
    fault to show within a scenario's seconds."""

    settings: ClassVar[Mapping[str, str]] = {
        "GATEWAY_AMQP_CONNECT_TIMEOUT": "3",
        "GATEWAY_AMQP_CONFIRM_TIMEOUT": "5",
    }


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
