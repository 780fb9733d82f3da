"""VECOZO's own OpenAPI specifications of push, pull and status, run by schemathesis against the provider node.

Loads the three specs from ``../shared/vecozo-rest`` (skips without them) and sends every operation of each
generated requests, valid and invalid, to the node served over HTTP under the path of the spec's servers.
Every answer must be one the spec lists, with its content type and body schema, and none a 5xx. The pull
list holds messages of a municipality first, so the listing is checked with content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis import checks  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402

from tests.messages import example, new_id, set_header  # noqa: E402
from tests.privacy.test_openapi_fuzz import Running, gateway  # noqa: E402, F401 (the served gateway)

pytestmark = [pytest.mark.slow, pytest.mark.shared]

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "vecozo-rest"
FILES = (
    "vspkoppeling-berichtuitwisseling-rest-push-v1.json",
    "vspkoppeling-berichtuitwisseling-rest-pull-v1.json",
    "vspkoppeling-berichtstatus-rest-pull-v3.json",
)
EXAMPLES = 25
AANBIEDER, GEMEENTE = "42420001", "0384"
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def spec(name: str) -> Any:
    path = SPECS / name
    if not path.exists():
        pytest.skip(f"{path} not available (../shared/vecozo-rest absent?)")
    return schemathesis.openapi.from_path(path)


def server_path(name: str) -> str:
    """The path of the spec's production server (``/berichtenservice/...``)."""
    import json

    return urlsplit(json.loads((SPECS / name).read_text())["servers"][0]["url"]).path


def failures(schema: Any, base_url: str, token: str) -> list[str]:
    """Every generated request whose answer the spec does not allow: operation, status and why."""
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @hypothesis.given(operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(
                max_examples=EXAMPLES,
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


@pytest.fixture(scope="module")
def filled(gateway: Running) -> Running:  # noqa: F811
    """The served gateway with three municipality messages waiting for the provider."""
    for _ in range(3):
        data = set_header(example("WMO301"), Afzender=GEMEENTE, Ontvanger=AANBIEDER, Identificatie=new_id())
        response = httpx.post(
            f"{gateway.urls['ggk']}/v1/berichten",
            content=data,
            headers={
                "Authorization": f"Bearer {gateway.tokens[GEMEENTE]}",
                "Content-Type": "application/xml",
            },
        )
        assert 202 == response.status_code, response.text
    return gateway


@pytest.mark.parametrize("name", FILES)
def test_every_operation_answers_as_the_spec_says(filled: Running, name: str) -> None:
    """Generated requests to each operation of VECOZO's spec get answers the spec allows, never a 5xx."""
    schema = spec(name)
    base_url = filled.urls["vecozo"] + server_path(name)
    assert [] == failures(schema, base_url, filled.tokens[AANBIEDER])
