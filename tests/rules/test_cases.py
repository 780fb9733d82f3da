"""Each rule, on the official examples: a message that breaks it is refused naming exactly that rule (and the
rules the same fault necessarily breaks), and a near miss touching the same elements is accepted. Both are
XSD-valid, so the verdict is the content rules' own."""

from __future__ import annotations

import pytest

from gateway.errors import ContentRulesBroken
from gateway.standard.engine import Engine
from tests.rules.cases import CASES, Case
from tests.rules.edits import Doc

pytestmark = pytest.mark.shared

PARAMS = [pytest.param(c, name, id=f"{c.rule}-{name}-{c.label}") for c in CASES for name in c.names()]


def built(case: Case, name: str, near: bool) -> bytes:
    doc = Doc(name)
    (case.keeps if near else case.breaks)(doc)
    return doc.data()


@pytest.mark.parametrize(("case", "name"), PARAMS)
def test_breaking_message_is_refused_naming_the_rule(engine: Engine, case: Case, name: str) -> None:
    """The breaking message is schema-valid and refused (BRS28 / StUF055) naming exactly its rule(s)."""
    data = built(case, name, near=False)
    engine.with_mode("off").check(data)  # XSD-valid
    with pytest.raises(ContentRulesBroken) as refused:
        engine.check(data)
    assert {case.rule, *case.also} == {e.rule for e in refused.value.errors}
    assert all(e.retourcode == "0001" and e.path and e.line for e in refused.value.errors)


@pytest.mark.parametrize(("case", "name"), PARAMS)
def test_near_miss_is_accepted(engine: Engine, case: Case, name: str) -> None:
    """The near miss touches the same elements and keeps every rule."""
    data = built(case, name, near=True)
    assert name == engine.check(data).message
