"""The rule XPaths are compiled with each row ``P = 'a' or P = 'b'`` as ``P[. = 'a' or . = 'b']``
(:func:`gateway.standard.rules.one_walk_per_row`): where it rewrites, where it must not, and that the rewritten
XPaths select what the written ones do, on small documents and on every example and rule case."""

from __future__ import annotations

from itertools import product

import pytest
from lxml import etree

from gateway.standard.engine import Engine
from gateway.standard.rules import REPO_RULES, RULES_FILE, SCH, one_walk_per_row
from gateway.standard.safexml import parse
from tests.rules.cases import judged_messages

NS = {"a": "urn:a"}


@pytest.mark.parametrize(
    ("written", "compiled"),
    [
        ("a:B[a:X = '1' or a:X = '2']", "a:B[a:X[. = '1' or . = '2']]"),
        ("not(a:P/a:Q = '11' or a:P/a:Q = '12')", "not(a:P/a:Q[. = '11' or . = '12'])"),
        ("(y or ../a:X = '1' or ../a:X = '2')", "(y or ../a:X[. = '1' or . = '2'])"),
        # a prefix of an or-chain whose last operand is an and: or binds loosest, the prefix is an operand
        ("(a:X = '1' or a:X = '2' or a:X = '3' and z)", "(a:X[. = '1' or . = '2'] or a:X = '3' and z)"),
        # where the value is not taken as a boolean: wrapped
        ("number(a:X = '1' or a:X = '2')", "number(boolean(a:X[. = '1' or . = '2']))"),
        ("(a:X = '1' or a:X = '2') = false()", "(boolean(a:X[. = '1' or . = '2'])) = false()"),
    ],
)
def test_rows_are_rewritten(written: str, compiled: str) -> None:
    assert one_walk_per_row(written) == compiled


@pytest.mark.parametrize(
    "written",
    [
        "a:X = '1'",  # one comparison: nothing to share
        "(x and a:X = '1' or a:X = '2')",  # the first comparison belongs to the and
        "(a:X = '1' or a:X = '2' and z)",  # the last comparison belongs to the and
        "(a:X = '1' or a:Y = '2')",  # two paths
        "(a:X != '1' or a:X != '2')",  # not an equality
        "($v/a:X = '1' or $v/a:X = '2')",  # not a plain relative path
        "(a:B[1]/a:X = '1' or a:B[1]/a:X = '2')",
        "(a:X = 1 or a:X = 2)",  # numbers, not strings
        "concat('(a:X = ', \"'1' or a:X = '2')\")",  # inside string literals
    ],
)
def test_other_expressions_are_left_alone(written: str) -> None:
    assert one_walk_per_row(written) == written


def test_rewritten_rows_select_the_same_nodes() -> None:
    """Every document of up to three B, each with up to two X of the values 1, 2, 3 or empty: the written and the
    rewritten XPaths agree (predicate, negation, boolean and number contexts)."""
    expressions = [
        "/a:R/a:B[a:X = '1' or a:X = '2']",
        "/a:R/a:B[not(a:X = '1' or a:X = '3')]",
        "/a:R/a:B[a:X = '' or a:X = '3' or a:X = '2']",
        "/a:R/a:B[number(a:X = '2' or a:X = '3') = 1]",
        "/a:R/a:B[(a:X = '1' or a:X = '2') = false()]",
        "/a:R[a:B/a:X = '1' or a:B/a:X = '2' or a:B/a:X = '3' and count(a:B) = 2]",
    ]
    pairs = [
        (etree.XPath(e, namespaces=NS), etree.XPath(one_walk_per_row(e), namespaces=NS)) for e in expressions
    ]
    assert all(one_walk_per_row(e) != e for e in expressions)
    values = [(), ("1",), ("2",), ("3",), ("",), ("1", "3"), ("2", "2")]
    for count in range(4):
        for bs in product(values, repeat=count):
            inner = "".join("<B>" + "".join(f"<X>{v}</X>" for v in xs) + "</B>" for xs in bs)
            root = etree.fromstring(f'<R xmlns="urn:a">{inner}</R>')
            for written, rewritten in pairs:
                assert written(root) == rewritten(root), (written.path, inner)


@pytest.mark.shared
def test_every_rule_selects_what_it_is_written_to(engine: Engine) -> None:
    """Each rule's failing nodes by its compiled XPath equal those of its written context and test, over every
    official example and rule case (the messages the rules are judged on)."""
    namespaces = {
        standard: {ns.get("prefix"): ns.get("uri") for ns in sch.iterfind(f"{{{SCH}}}ns")}
        for standard in ("ijw", "iwmo")
        for sch in [etree.parse(str(REPO_RULES / standard / "3_2" / RULES_FILE)).getroot()]
    }
    compared = 0
    for data in judged_messages():
        root = parse(data)
        rules = engine.rules.for_namespace(etree.QName(root).namespace or "")
        if rules is None:
            continue
        variables = {name: let(root) for name, let in rules._lets}
        for check in rules._simple:
            written = f"({check.context})[{'' if check.report else 'not'}({check.test_text})]"
            expected = etree.XPath(written, namespaces=namespaces[rules.namespace.split("/")[3]])
            assert check.failing(root, **variables) == expected(root, **variables)
            compared += 1
    assert compared > 1000
