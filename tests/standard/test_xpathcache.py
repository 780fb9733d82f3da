"""libxml2's XPath object cache switched on for a compiled XPath: found, switched on, results unchanged."""

from __future__ import annotations

from lxml import etree

from gateway.standard import xpathcache
from gateway.standard.engine import Engine

DOC = etree.fromstring(b"<a><b n='1'>2019-03-04</b><b n='2'>x</b><c><b>7</b></c></a>")
EXPRESSIONS = (
    "count(//b)",
    "//b[@n = '2']",
    "number(translate(/a/b[1], '-', '')) + 1",
    "boolean(/a/b[not(. = preceding-sibling::b)])",
    "concat(/a/b[2], substring('12 ', 1, 3 * boolean(//c/b)))",
    "sum(//b[number(.) = number(.)])",
)


def test_enabled_on_this_lxml_and_the_results_are_the_same() -> None:
    for expression in EXPRESSIONS:
        plain, cached = etree.XPath(expression), etree.XPath(expression)
        assert xpathcache.enable(cached)
        for _ in range(3):  # the later calls reuse what the first left in the cache
            assert cached(DOC) == plain(DOC)


def test_only_a_compiled_xpath_is_touched() -> None:
    assert not xpathcache.enable(etree.XPathEvaluator(DOC))  # type: ignore[arg-type]
    assert not xpathcache.enable(etree.ETXPath("//b"))


def test_every_content_rule_runs_with_the_cache(engine: Engine) -> None:
    for release in engine.rules.releases:
        for rules in release.messages.values():
            assert rules._gate is not None and xpathcache.enable(rules._gate)
