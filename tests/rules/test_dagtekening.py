"""The rules' ``$dagtekening`` let, given from the header the engine read instead of evaluated: only where the
schema proves it is the same element, and then the same number."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from gateway.standard.engine import Engine
from gateway.standard.headerread import first_dagtekening
from gateway.standard.safexml import parse
from tests.rules.cases import judged_messages

LAYOUT = {
    "Header": 0,
    "Header/BerichtCode": 0,
    "Header/Afzender": 1,
    "Header/BerichtIdentificatie": 2,
    "Header/BerichtIdentificatie/Identificatie": 0,
    "Header/BerichtIdentificatie/Dagtekening": 1,
}


def test_first_dagtekening_of_a_fixed_header() -> None:
    assert first_dagtekening(LAYOUT)


@pytest.mark.parametrize(
    "change",
    [
        {"Header": 1},  # not the root's first child
        {"Header/Afzender": None},  # a child before BerichtIdentificatie whose name the schema does not fix
        {"Header/BerichtIdentificatie/Identificatie": None},
        {"Header/BerichtIdentificatie/Dagtekening": None},
        {"Header/BerichtIdentificatie": None},
    ],
)
def test_no_first_dagtekening_where_the_schema_does_not_fix_it(change: dict[str, int | None]) -> None:
    layout = {k: v for k, v in {**LAYOUT, **change}.items() if v is not None}
    assert not first_dagtekening(layout)


@pytest.mark.shared
def test_given_dagtekening_is_the_lets_number(engine: Engine) -> None:
    """On every official example and rule case, the number given from the header's date is the let's value,
    and the findings are those of the let evaluated."""
    compared = 0
    for data in judged_messages():
        header = engine.with_mode("off").check(data)
        root = parse(data)
        namespace = etree.QName(root).namespace or ""
        rules = engine.rules.for_namespace(namespace)
        lets = dict(rules._lets) if rules is not None else {}
        if rules is not None and "dagtekening" in lets:
            d: date = header.dagtekening
            assert lets["dagtekening"](root) == float(d.year * 10000 + d.month * 100 + d.day)
            assert rules.check(root, d) == rules.check(root)
            compared += 1
    assert compared > 400
