"""The Bsn 11-proof judged in Python from the Bsn texts the header reader saw: the same answer as the rule's
XPath, and the same findings as the whole gate, passing or failing."""

from __future__ import annotations

import itertools
import random

from lxml import etree

from gateway.standard import rules
from gateway.standard.engine import Engine
from gateway.standard.safexml import parse
from tests.rules.cases import judged_messages

_TEST = etree.XPath(f"boolean({rules.ELFPROEF_TEST})")


def _by_xpath(text: str) -> bool:
    element = etree.Element("Bsn")
    element.text = text
    return bool(_TEST(element))


def test_elfproef_agrees_with_the_rule_xpath() -> None:
    """On nine ASCII digits (random ones and every one-digit change of a valid one) the same answer; on any
    other text Python says no (the whole gate then judges) wherever the XPath might say yes or no."""
    rng = random.Random(20261208)
    digits = ["".join(rng.choice("0123456789") for _ in range(9)) for _ in range(5000)]
    digits += [f"99990000{d}" for d in "0123456789"]
    digits += [
        "999900006"[:i] + d + "999900006"[i + 1 :] for i, d in itertools.product(range(9), "0123456789")
    ]
    for text in digits:
        assert rules.elfproef(text) == _by_xpath(text), repr(text)
    others = ["", "12345678", "1234567820", " 99990000", "99990000 ", "9999 0006", "-99990006", "99990000.6"]
    others += ["١٢٣٤٥٦٧٨٢", "９９９９０００６"]
    assert _by_xpath("1234567820")  # (the XPath reads the first nine characters only)
    assert not any(map(rules.elfproef, others))


def test_every_message_type_with_the_11_proof_has_a_gate_without_it(engine: Engine) -> None:
    """Each message type whose rules hold CS002 (one per message type with a Bsn) gets the second gate."""
    with_proof = [r for rel in engine.rules.releases for r in rel.messages.values() if "CS002" in r.codes]
    assert len(with_proof) == 14
    assert all(r._elfproef_gate is not None for r in with_proof)


def test_findings_with_the_bsns_equal_those_without(engine: Engine) -> None:
    """Over the examples and every rule case: check with the header's Bsn texts finds what check without
    them finds, whether the 11-proof passes or not."""
    seen_failing = 0
    for data in judged_messages():
        root = parse(data)
        namespace = etree.QName(root).namespace or ""
        message_rules = engine.rules.for_namespace(namespace)
        if message_rules is None:
            continue
        texts = [e.text or "" for e in root.iter(f"{{{namespace}}}Bsn")]
        seen_failing += not all(map(rules.elfproef, texts))
        assert message_rules.check(root, None, texts) == message_rules.check(root), data[:200]
    assert seen_failing > 0
