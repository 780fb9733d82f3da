"""Fixtures for the content-rule tests: the engine over the project's schemas and rules."""

from __future__ import annotations

import pytest

from gateway.standard.engine import Engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine over the project's own schemas, catalogue and content rules, refusing on a broken rule."""
    return Engine.load()
