"""Run wrk (Debian package ``wrk``) with ``bench/post.lua`` and read the JSON line its ``done()`` prints."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("post.lua")
PUSH_SCRIPT = Path(__file__).with_name("push.lua")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    not_202: int
    socket_errors: int

    @property
    def rate(self) -> float:
        return (self.requests - self.not_202) / self.seconds


def available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    message: Path,
    token: str,
    tag: str,
    concurrency: int,
    seconds: float,
    threads: int = 1,
    script: Path = SCRIPT,
) -> WrkResult:
    """Closed loop: ``concurrency`` keep-alive connections for ``seconds``; socket timeout 10 s. ``script``
    writes the requests (default ``post.lua``: ``POST /v1/berichten``; ``push.lua``: VECOZO REST Push)."""
    if not available():
        raise SystemExit("wrk is missing: apt-get install wrk")
    threads = max(1, min(threads, concurrency))
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
            "--",
            str(message),
            tag,
            token,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in reversed(done.stdout.splitlines()) if ln.startswith("{"))
    raw = json.loads(line)
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["seconds"],
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        not_202=raw["not_202"],
        socket_errors=raw["socket_errors"],
    )
