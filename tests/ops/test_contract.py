"""The API contract: each node's OpenAPI document lists exactly its own operations, and schemathesis, driven
by that document against the running node, finds no 5xx and no answer the document does not describe.

Both nodes run in a thread of their own (in-memory broker, SQLite) on real ports; schemathesis calls them
over HTTP with the credential each operation's security asks for. The SOAP operations answer every fault
with HTTP 500, as SOAP 1.1 over HTTP prescribes and as their documents say; only for them is a 500 no
failure (it is still checked against the document).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance

from tests.browser import served
from tests.harness import OPERATOR_TOKEN
from tests.ops.messages import AANBIEDER, GEMEENTE
from tests.privacy.conftest import fake_gateway, security

pytestmark = pytest.mark.slow

HOME = {"ggk": GEMEENTE, "vecozo": AANBIEDER}
OPERATOR_PATHS = ("/v1/admin", "/dashboard", "/metrics")
SOAP = {"/soap/ggk0210", "/soap/vsp"}
VECOZO_REST = "/berichtenservice/"  # documented by its own module (gateway.http.koppeling)
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


class Nodes:
    """Both nodes served from a thread with its own event loop, so the synchronous schemathesis tests can
    call them over HTTP."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.urls: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="contract-nodes", daemon=True)

    def __enter__(self) -> Nodes:
        self._thread.start()
        self._ready.wait(60)
        if self._failed is not None or not self.urls:
            raise RuntimeError(f"the nodes did not start: {self._failed!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by __enter__
            self._failed = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with fake_gateway(self.tmp, security(self.tmp, rate_limit=0)) as gw, served(gw) as urls:
            self.urls, self.tokens = urls, gw.tokens
            self._ready.set()
            await self._stop.wait()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    with Nodes(tmp_path_factory.mktemp("contract")) as running:
        yield running


def document(nodes: Nodes, node: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(nodes.urls[node] + "/openapi.json").json()
    return found


def call(case: Any, nodes: Nodes, node: str) -> None:
    path = case.operation.path
    token = OPERATOR_TOKEN if path.startswith(OPERATOR_PATHS) else nodes.tokens[HOME[node]]
    headers = {"Authorization": f"Bearer {token}"}
    # a body's validity depends on the XSDs, which no OpenAPI schema expresses: a schema-valid body may be
    # refused (422), so "positive data accepted" does not apply here
    excluded = [positive_data_acceptance, *([not_a_server_error] if path in SOAP else [])]
    case.call_and_validate(base_url=nodes.urls[node], headers=headers, excluded_checks=excluded, timeout=30)


def contract_failures(nodes: Nodes, node: str) -> list[str]:
    """Run every operation of ``node``'s own document with generated requests; what failed, per operation."""
    schema = schemathesis.openapi.from_dict(document(nodes, node))
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @EXAMPLES
        def run(case: Any) -> None:
            call(case, nodes, node)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one line per operation that broke its contract
            failures.append(
                f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {str(exc)[:900]}"
            )
    assert operations > 10
    return failures


def test_municipal_node_keeps_its_contract(nodes: Nodes) -> None:
    """Every operation of the municipal node's document, called as it describes: no 5xx, answers conform."""
    assert [] == contract_failures(nodes, "ggk")


def test_provider_node_keeps_its_contract(nodes: Nodes) -> None:
    """Every operation of the provider node's document, called as it describes: no 5xx, answers conform."""
    assert [] == contract_failures(nodes, "vecozo")


def test_each_document_lists_only_its_own_interfaces(nodes: Nodes) -> None:
    """StUF-GGk is the municipal node's, VSP the provider node's: each is absent from the other's document
    and answers 404 problem+json there with IB102 (served by the other node), not 500."""
    paths = {node: set(document(nodes, node)["paths"]) for node in ("ggk", "vecozo")}
    wrong = [
        (
            node,
            path,
            httpx.post(nodes.urls[node] + path, content=b"<x/>", headers={"Content-Type": "text/xml"}),
        )
        for node, path in (("ggk", "/soap/vsp"), ("vecozo", "/stuf/ggk0210"), ("vecozo", "/soap/ggk0210"))
    ]
    assert (
        {"/stuf/ggk0210", "/soap/ggk0210"},
        True,
        [(404, "application/problem+json", "IB102")] * 3,
    ) == (
        paths["ggk"] - paths["vecozo"],
        {"/soap/vsp"} <= paths["vecozo"] - paths["ggk"],
        [(r.status_code, r.headers["content-type"], r.json()["code"]) for _, _, r in wrong],
    )


def test_documents_describe_security_refusals_and_examples(nodes: Nodes) -> None:
    """Both documents declare bearer and mutual TLS, answer refusals with the problem+json schema (never
    FastAPI's HTTPValidationError), give every operation an example, and document the sign-in as 303."""
    problems: list[str] = []
    for node in ("ggk", "vecozo"):
        doc = document(nodes, node)
        schemes = doc["components"]["securitySchemes"]
        if {schemes["bearer"]["scheme"], schemes["mutualTLS"]["type"]} != {"bearer", "mutualTLS"}:
            problems.append(f"{node}: security schemes")
        if "HTTPValidationError" in str(doc):
            problems.append(f"{node}: HTTPValidationError")
        for path, item in doc["paths"].items():
            # VECOZO's REST interfaces answer their spec's refusals in VECOZO's own format (a bare 404,
            # ValidationProblemDetails as application/json), as tests/koppeling/test_openapi.py checks
            vecozo = path.startswith(VECOZO_REST)
            for method, operation in item.items():
                where = f"{node} {method.upper()} {path}"
                answers = operation["responses"]
                xml = path in SOAP or path == "/stuf/ggk0210"  # refusals as Fo01 or SOAP fault
                for status, answer in answers.items():
                    problem = answer.get("content", {}).get("application/problem+json", {})
                    own = vecozo and (
                        status in ("400", "404", "422") or "application/json" in answer.get("content", {})
                    )
                    if (
                        status.startswith(("4", "5"))
                        and not xml
                        and not own
                        and problem.get("schema") is None
                    ):
                        problems.append(f"{where} {status}: no problem+json schema")
                if not _has_example(operation):
                    problems.append(f"{where}: no example")
        login = doc["paths"]["/dashboard/login"]["post"]["responses"]
        if set(login) & {"200", "201"} or "303" not in login:
            problems.append(f"{node}: POST /dashboard/login not documented as 303")
        stuf = doc["paths"].get("/stuf/ggk0210", {}).get("post", {}).get("responses", {})
        if stuf and set(stuf["200"]["content"]) != {"text/xml"}:
            problems.append(f"{node}: /stuf/ggk0210 does not declare text/xml")
    assert [] == problems, "\n".join(problems)


def _has_example(operation: dict[str, Any]) -> bool:
    """An example of a request body, a parameter, an answer or an answer's header."""
    bodies = [*operation["responses"].values(), operation.get("requestBody", {})]
    in_content = any("example" in c for b in bodies for c in b.get("content", {}).values())
    in_parameters = any("examples" in p.get("schema", {}) for p in operation.get("parameters", []))
    in_headers = any(
        "example" in h.get("schema", {})
        for a in operation["responses"].values()
        for h in a.get("headers", {}).values()
    )
    return in_content or in_parameters or in_headers
