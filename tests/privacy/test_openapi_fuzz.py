"""Schemathesis against each node's own OpenAPI spec: generated requests to every operation, none answered 5xx.

The gateway (in-memory broker, SQLite) runs in a thread of its own with its own event loop, served by uvicorn
as ``gateway serve`` serves it; schemathesis calls it over HTTP. Bounded: a few dozen examples per operation.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")
GenerationMode = schemathesis.GenerationMode

from tests.harness import OPERATOR_TOKEN  # noqa: E402

from .conftest import fake_gateway, security, served  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.shared]

EXAMPLES = 30


@dataclass
class Running:
    urls: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)
    failed: list[BaseException] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    stop: asyncio.Event | None = None


async def _serve(tmp: Path, running: Running) -> None:
    running.loop, running.stop = asyncio.get_running_loop(), asyncio.Event()
    async with fake_gateway(tmp, security(tmp)) as gw:
        runtime = gw.runtime
        running.tokens = gw.tokens
        async with (
            served(runtime.apps["ggk"], runtime.settings, "ggk") as ggk,
            served(runtime.apps["vecozo"], runtime.settings, "vecozo") as vecozo,
        ):
            running.urls = {"ggk": ggk, "vecozo": vecozo}
            running.ready.set()
            await running.stop.wait()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = Running()
    tmp = tmp_path_factory.mktemp("fuzz")

    def main() -> None:
        try:
            asyncio.run(_serve(tmp, running))
        except BaseException as exc:  # surfaced to the test below
            running.failed.append(exc)
            running.ready.set()

    thread = threading.Thread(target=main, name="fuzzed-gateway", daemon=True)
    thread.start()
    running.ready.wait(120)
    if running.failed:
        raise running.failed[0]
    yield running
    assert running.loop is not None and running.stop is not None
    running.loop.call_soon_threadsafe(running.stop.set)
    thread.join(60)


def soap_fault(path: str, text: str) -> bool:
    """SOAP 1.1 answers a fault with HTTP 500 by its HTTP binding (section 6.2): that 500 is the protocol's."""
    return path.startswith("/soap/") and "<soap:Fault>" in text


def server_errors(url: str, node: str, tokens: dict[str, str]) -> list[tuple[str, str, int, str]]:
    """Every generated request (valid and invalid, per operation) that got a 5xx: method, path, status, text.

    Requests are sent as a party at home on ``node`` (the operator for the admin API)."""
    home = "0384" if node == "ggk" else "42420001"
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    found: list[tuple[str, str, int, str]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.given(operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(hypothesis.HealthCheck),
                derandomize=True,
                database=None,
            )
            def call(case: Any) -> None:
                token = OPERATOR_TOKEN if case.path.startswith("/v1/admin") else tokens[home]
                headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
                response = case.call(base_url=url, headers=headers, timeout=30)
                if response.status_code >= 500 and not soap_fault(case.path, response.text):
                    found.append((case.method, case.path, response.status_code, response.text[:200]))

            try:
                call()
            except hypothesis.errors.Unsatisfiable:  # nothing in this operation can be made invalid
                continue
    return found


@pytest.mark.parametrize("node", ["ggk", "vecozo"])
def test_no_operation_answers_a_server_error(gateway: Running, node: str) -> None:
    """Whatever schemathesis sends to an operation of the node's spec, valid or not, no answer is a 5xx."""
    assert [] == server_errors(gateway.urls[node], node, gateway.tokens)


def test_lease_on_the_other_node_is_not_a_server_error(gateway: Running) -> None:
    """A municipality asking the provider node for its mailbox gets a refusal, not a 500 (found by the fuzzer)."""
    import httpx

    response = httpx.get(
        f"{gateway.urls['vecozo']}/v1/mailbox", headers={"Authorization": f"Bearer {gateway.tokens['0384']}"}
    )
    assert response.status_code < 500
