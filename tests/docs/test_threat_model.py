"""docs/security.md's threat model names, for every row, tests that exist, are not switched off, and covers
every item of the security review (1-16). That each named test passes (and is not skipped) in the run that
includes it is checked by ``tests/conftest.py`` at the end of every run: a named test that failed or was
skipped fails the run, naming the row's test."""

from __future__ import annotations

import ast
import re

from tests.docs.threatmodel import ROOT, named, rows

SWITCHED_OFF = re.compile(r"\bpytest\.mark\.(skip|xfail)\b(?!if)")


def _function(path: str, name: str) -> tuple[ast.Module, ast.AsyncFunctionDef | ast.FunctionDef] | None:
    file = ROOT / path
    if not file.is_file():
        return None
    module = ast.parse(file.read_text(encoding="utf-8"))
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return module, node
    return None


def _marks(module: ast.Module, function: ast.AsyncFunctionDef | ast.FunctionDef) -> list[str]:
    """The source of the function's decorators and of the module's ``pytestmark``."""
    found = [ast.unparse(d) for d in function.decorator_list]
    for node in module.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            found.append(ast.unparse(node.value))
    return found


def test_every_row_names_tests_that_exist() -> None:
    """Each row's last cell names at least one test, and each named test is a test function of its file."""
    missing = []
    for row in rows():
        tests = named(row)
        if not tests:
            missing.append(row[:60])
        missing += [f"{path}::{name}" for path, name in tests if _function(path, name) is None]
    assert [] == missing


def test_no_named_test_is_switched_off() -> None:
    """No named test (nor its module) is marked to skip or to be expected to fail whatever happens."""
    switched_off = []
    for row in rows():
        for path, name in named(row):
            found = _function(path, name)
            if found is not None and any(SWITCHED_OFF.search(mark) for mark in _marks(*found)):
                switched_off.append(f"{path}::{name}")
    assert [] == switched_off


def test_every_item_of_the_review_has_a_row() -> None:
    """Items 1 to 16 of the security review each appear in a row."""
    items = {int(n) for row in rows() for n in re.findall(r"\[(\d+)\]", row)}
    assert set(range(1, 17)) == items
