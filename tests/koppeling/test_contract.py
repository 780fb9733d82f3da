"""VECOZO's own OpenAPI specifications of push, pull and status, run by schemathesis against the provider node.

Loads the three specs from ``../shared/vecozo-rest`` (skips without them) and sends every operation of each
generated requests, valid and invalid, to the node served over HTTP under the path of each of the spec's
servers: production, and the acceptance (``/acc``) and test (``/tst``) environments the node serves beside it,
each with its own registry and credentials. Every answer must be one the spec lists, with its content type
and body schema, and none a 5xx. Each environment's pull list holds messages of a municipality first, so the
listing is checked with content.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis import checks  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402

from adapters.db.engine import environment_url  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from tests.harness import OPERATOR_TOKEN, seed_demo, shared_engine  # noqa: E402
from tests.messages import example, new_id, set_header  # noqa: E402
from tests.privacy.conftest import fake_broker, security, served  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.shared]

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "vecozo-rest"
FILES = (
    "vspkoppeling-berichtuitwisseling-rest-push-v1.json",
    "vspkoppeling-berichtuitwisseling-rest-pull-v1.json",
    "vspkoppeling-berichtstatus-rest-pull-v3.json",
)
SERVERS = ("Productie", "Acceptatie", "Test")  # the specs' servers, by their description
EXAMPLES = {"Productie": 25, "Acceptatie": 12, "Test": 12}
AANBIEDER, GEMEENTE = "42420001", "0384"
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@dataclass
class Node:
    """The gateway with its test and acceptance environments, served from a thread of its own."""

    urls: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)  # by path prefix ("", "/tst", "/acc")
    ready: threading.Event = field(default_factory=threading.Event)
    failed: list[BaseException] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    stop: asyncio.Event | None = None


async def _serve(tmp: Path, node: Node) -> None:
    node.loop, node.stop = asyncio.get_running_loop(), asyncio.Event()
    url = f"sqlite+aiosqlite:///{tmp / 'gateway.db'}"
    node.tokens[""] = await seed_demo(url)
    for name in ("tst", "acc"):
        node.tokens[f"/{name}"] = await seed_demo(environment_url(url, name))
    settings = Settings(
        database_url=url, operator_token=OPERATOR_TOKEN, security=security(tmp), environments=("tst", "acc")
    )
    runtime = await Runtime.start(settings, broker_factory=fake_broker, engine=shared_engine())
    try:
        async with (
            served(runtime.apps["ggk"], settings, "ggk") as ggk,
            served(runtime.apps["vecozo"], settings, "vecozo") as vecozo,
        ):
            node.urls = {"ggk": ggk, "vecozo": vecozo}
            node.ready.set()
            await node.stop.wait()
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """The served gateway, with three municipality messages waiting for the provider in each environment."""
    node = Node()
    tmp = tmp_path_factory.mktemp("vecozo-contract")

    def main() -> None:
        try:
            asyncio.run(_serve(tmp, node))
        except BaseException as exc:  # surfaced to the test
            node.failed.append(exc)
            node.ready.set()

    thread = threading.Thread(target=main, name="vecozo-contract", daemon=True)
    thread.start()
    node.ready.wait(120)
    if node.failed:
        raise node.failed[0]
    for prefix, tokens in node.tokens.items():
        for _ in range(3):
            data = set_header(
                example("WMO301"), Afzender=GEMEENTE, Ontvanger=AANBIEDER, Identificatie=new_id()
            )
            response = httpx.post(
                f"{node.urls['ggk']}{prefix}/v1/berichten",
                content=data,
                headers={"Authorization": f"Bearer {tokens[GEMEENTE]}", "Content-Type": "application/xml"},
            )
            assert 202 == response.status_code, response.text
    yield node
    assert node.loop is not None and node.stop is not None
    node.loop.call_soon_threadsafe(node.stop.set)
    thread.join(60)


def spec(name: str) -> Any:
    path = SPECS / name
    if not path.exists():
        pytest.skip(f"{path} not available (../shared/vecozo-rest absent?)")
    return schemathesis.openapi.from_path(path)


def server_path(name: str, server: str) -> str:
    """The path of the spec's server (``/berichtenservice/...``, ``/tst/berichtenservice/...``)."""
    import json

    servers = json.loads((SPECS / name).read_text())["servers"]
    [url] = [s["url"] for s in servers if s["description"] == server]
    return urlsplit(url).path


def failures(schema: Any, base_url: str, token: str, examples: int) -> list[str]:
    """Every generated request whose answer the spec does not allow: operation, status and why."""
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @hypothesis.given(operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(hypothesis.HealthCheck),
                derandomize=True,
                database=None,
            )
            def call(case: Any) -> None:
                headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
                response = case.call(base_url=base_url, headers=headers, timeout=30)
                try:
                    case.validate_response(response, checks=CHECKS)
                except FailureGroup as exc:  # the checks that failed, as one group
                    found.append(f"{case.method} {case.path} {response.status_code}: {str(exc)[:300]}")

            try:
                call()
            except hypothesis.errors.Unsatisfiable:  # nothing in this operation can be made invalid
                continue
    return found


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("name", FILES)
def test_every_operation_answers_as_the_spec_says(filled: Node, name: str, server: str) -> None:
    """Generated requests to each operation of VECOZO's spec, at each of its servers' paths, get answers the
    spec allows, never a 5xx."""
    schema = spec(name)
    path = server_path(name, server)
    prefix = path.split("/berichtenservice/")[0]
    base_url = filled.urls["vecozo"] + path
    assert [] == failures(schema, base_url, filled.tokens[prefix][AANBIEDER], EXAMPLES[server])


@pytest.mark.parametrize("prefix", ["", "/acc", "/tst"])
def test_each_environment_lists_its_payloads_at_its_own_address(filled: Node, prefix: str) -> None:
    """Each environment's pull list gives every payload's ``url`` under that environment's own path (a test
    environment's under ``/tst``), where the party's credential of that environment fetches it: the bytes of
    the listed ``grootte`` and SHA-256 ``checksum``."""
    import hashlib

    headers = {"Authorization": f"Bearer {filled.tokens[prefix][AANBIEDER]}"}
    pull = filled.urls["vecozo"] + prefix + "/berichtenservice/berichten/rest-pull/v1"
    listed = httpx.get(f"{pull}/berichten", headers=headers)
    assert 200 == listed.status_code, listed.text
    assert listed.json()
    for item in listed.json():
        download = item["basisgegevens"]["payload"]
        traceer = item["referentiegegevens"]["traceerId"]
        assert f"{pull}/berichten/{traceer}/payload" == download["url"]
        fetched = httpx.get(download["url"], headers=headers)
        assert (200, download["grootte"], download["checksum"]["waarde"]) == (
            fetched.status_code,
            len(fetched.content),
            hashlib.sha256(fetched.content).hexdigest(),
        )
