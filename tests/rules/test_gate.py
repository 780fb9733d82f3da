"""The recording gate: one call names exactly the simple checks that have failing nodes, on any thread."""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree

from gateway.standard import rules
from gateway.standard.engine import Engine, Verdict
from gateway.standard.safexml import parse
from tests.rules.cases import judged_messages


def _variables(message_rules: rules.MessageRules, root: etree._Element) -> dict[str, Any]:
    return {name: let(root) for name, let in message_rules._lets}


def test_gate_names_exactly_the_checks_with_failing_nodes(engine: Engine) -> None:
    """Over the examples and every rule case (breaking and near miss): the checks the gate names are those
    whose own XPath selects a failing node, the context nodes it names for each rule that binds ``$this``
    are those its context selects (in order), and the gate itself says false."""
    named_some = walked_some = 0
    for data in judged_messages():
        root = parse(data)
        message_rules = engine.rules.for_namespace(etree.QName(root).namespace or "")
        if message_rules is None or message_rules._gate is None:
            continue
        variables = _variables(message_rules, root)
        named, contexts = rules._failing_checks(message_rules._gate, root, variables)
        failing = {
            i
            for i, check in enumerate(message_rules._simple)
            if rules._nodes(check.failing(root, **variables))
        }
        assert named == failing
        for r, rule in enumerate(message_rules._bound):
            if r in message_rules._gated:
                assert contexts.get(r, []) == rules._nodes(rule.context(root, **variables))
        assert set(contexts) <= message_rules._gated
        assert message_rules._gate(root, **variables) is False
        named_some += bool(named)
        walked_some += bool(contexts)
    assert named_some > 50 and walked_some > 50


def test_every_bound_context_is_walked_by_the_gate(engine: Engine) -> None:
    """Every rule that binds ``$this`` in the project's rules has a plain context path: no call of its own."""
    for release in engine.rules.releases:
        for message_rules in release.messages.values():
            assert len(message_rules._gated) == len(message_rules._bound)


def _seen(verdict: Verdict) -> tuple[object, ...]:
    rejection = verdict.rejection
    refused = (type(rejection).__name__, str(rejection), rejection.errors) if rejection is not None else None
    return verdict.header, verdict.message, refused


def test_threads_find_what_one_thread_finds(engine: Engine) -> None:
    """Four threads judging the same messages at once (warn) find what one thread finds, message by message."""
    warn = engine.with_mode("warn")
    messages = judged_messages()
    expected = [_seen(warn.verdict(m)) for m in messages]
    results: dict[int, list[tuple[object, ...]]] = {}

    def run(n: int) -> None:
        results[n] = [_seen(warn.verdict(m)) for m in messages]

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n] == expected for n in range(4))
