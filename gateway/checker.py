"""The engine as the pipeline sees it: check bytes, look up the message's kind, the catalogue by name."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.errors import NotStandardMessage
from gateway.standard.catalog import MessageType
from gateway.standard.engine import Engine
from gateway.standard.header import Header


class EngineChecker:
    """Adapts :class:`Engine` to :class:`gateway.pipeline.Checker`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kinds = {kind.name: kind for kind in engine.catalog}

    def __repr__(self) -> str:
        return f"EngineChecker({self.engine!r})"

    def check(self, data: bytes) -> Header:
        return self.engine.check(data)

    def kind_of(self, header: Header) -> MessageType:
        kind = self.engine.catalog.resolve(header.standard, header.release, header.message, header.code)
        if kind is None:  # the engine only accepts catalogued messages; this is a safety net
            raise NotStandardMessage(
                f"{header.message} of {header.standard} {header.release} is not catalogued"
            )
        return kind

    def kinds(self) -> Mapping[str, MessageType]:
        return self._kinds
