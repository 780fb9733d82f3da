"""The provider node's OpenAPI document carries VECOZO's operations as the official specifications do.

Every operation of the three specs in ``../shared/vecozo-rest`` (skipped without them) is in the node's
document under the path of the spec's servers, with the spec's parameters, request body and answers, each
schema equal to the spec's once references are resolved (descriptions, titles and examples aside), and an
example of every body; the node adds its security and its own 401/429/503 answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.http.koppelingdoc import describe

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "vecozo-rest"
FILES = (
    "vspkoppeling-berichtuitwisseling-rest-push-v1.json",
    "vspkoppeling-berichtuitwisseling-rest-pull-v1.json",
    "vspkoppeling-berichtstatus-rest-pull-v3.json",
)
WORDS = {"description", "title", "example", "examples", "pattern", "summary", "tags", "operationId"}


def load(name: str) -> dict[str, Any]:
    path = SPECS / name
    if not path.exists():
        pytest.skip(f"{path} not available (../shared/vecozo-rest absent?)")
    found: dict[str, Any] = json.loads(path.read_text())
    return found


def resolved(node: Any, doc: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` replaced by what it names (a discriminator's mapping left as names),
    without the words that only explain; ``required`` as a set."""
    if isinstance(node, list):
        return [resolved(item, doc) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return resolved(doc["components"]["schemas"][name], doc)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in WORDS:
            continue
        if key == "discriminator":
            out[key] = {"propertyName": value["propertyName"], "mapped": sorted(value.get("mapping", {}))}
        elif key == "required" and isinstance(value, list):
            out[key] = sorted(value)
        else:
            out[key] = resolved(value, doc)
    return out


@pytest.fixture(scope="module")
def node() -> dict[str, Any]:
    return describe({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}})


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    base = urlsplit(spec["servers"][0]["url"]).path
    return [(base + path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


@pytest.mark.parametrize("name", FILES)
def test_each_operation_is_the_specs(node: dict[str, Any], name: str) -> None:
    """Parameters, request body and every answer of the spec's operations, schema for schema."""
    spec = load(name)
    differences: list[str] = []
    for path, method, theirs in operations(spec):
        ours = node["paths"].get(path, {}).get(method)
        if ours is None:
            differences.append(f"{method} {path}: missing")
            continue
        for part in ("parameters", "requestBody"):
            if resolved(theirs.get(part), spec) != resolved(ours.get(part), node):
                differences.append(f"{method} {path} {part}")
        for status, answer in theirs["responses"].items():
            if resolved(answer, spec) != resolved(ours["responses"].get(status), node):
                differences.append(f"{method} {path} {status}")
    assert [] == differences


def test_the_node_adds_security_its_refusals_and_examples(node: dict[str, Any]) -> None:
    """Each operation asks for a party (certificate or credential), lists 401, 429 and 503, and has an
    example of every body of VECOZO's it sends or takes."""
    missing: list[str] = []
    for path, item in node["paths"].items():
        for method, operation in item.items():
            where = f"{method} {path}"
            if operation.get("security") != [{"bearer": []}, {"mutualTLS": []}]:
                missing.append(f"{where}: security")
            if not {"401", "429", "503"} <= set(operation["responses"]):
                missing.append(f"{where}: node refusals")
            bodies = [*operation["responses"].values(), operation.get("requestBody", {})]
            for body in bodies:
                for media, content in body.get("content", {}).items():
                    shared = media == "application/problem+json"  # the node's one Problem schema
                    if not shared and "example" not in content and "examples" not in content:
                        missing.append(f"{where} {media}: no example")
    assert [] == missing
