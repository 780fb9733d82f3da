"""The serving process's log set-up: JSON lines off a terminal, a level filter, clear errors."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from gateway import logs
from gateway.config import ConfigError, Settings


def configure(env: dict[str, str], out: io.StringIO) -> str:
    return logs.configure(Settings.from_env(env).log, out)


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_off_a_terminal_each_event_is_one_json_line() -> None:
    out = io.StringIO()
    chosen = configure({}, out)
    structlog.get_logger("t").info("message.accepted", tracking_id="abc", size=3)
    line = json.loads(out.getvalue())
    assert (chosen, line["event"], line["tracking_id"], line["level"], "timestamp" in line) == (
        "json",
        "message.accepted",
        "abc",
        "info",
        True,
    )


def test_events_below_the_level_are_not_written() -> None:
    out = io.StringIO()
    configure({"GATEWAY_LOG_LEVEL": "warning", "GATEWAY_LOG_FORMAT": "json"}, out)
    log = structlog.get_logger("t")
    log.info("quiet")
    log.warning("loud")
    assert [json.loads(x)["event"] for x in out.getvalue().splitlines()] == ["loud"]


def test_console_format_writes_text() -> None:
    out = io.StringIO()
    configure({"GATEWAY_LOG_FORMAT": "console"}, out)
    structlog.get_logger("t").info("link.delivered", node="ggk")
    assert "link.delivered" in out.getvalue() and "node=ggk" in out.getvalue()


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"GATEWAY_LOG_FORMAT": "xml"}, "GATEWAY_LOG_FORMAT"),
        ({"GATEWAY_LOG_LEVEL": "loud"}, "GATEWAY_LOG_LEVEL"),
    ],
)
def test_an_unknown_setting_is_refused_naming_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        Settings.from_env(env)
