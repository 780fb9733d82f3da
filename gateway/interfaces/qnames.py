"""Element names in a namespace, as lxml writes them (``{namespace}name``, James Clark's notation)."""

from __future__ import annotations

from collections.abc import Callable


def in_namespace(namespace: str) -> Callable[[str], str]:
    """The function that gives a local name its qualified form in ``namespace``: ``stuf("zender")``."""
    prefix = f"{{{namespace}}}"

    def qualified(name: str) -> str:
        return prefix + name

    return qualified
