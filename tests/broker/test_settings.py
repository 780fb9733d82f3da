"""Broker settings (the ``broker`` group): read from an environment mapping, failing with the name of the bad key."""

from __future__ import annotations

import pytest

from adapters.rabbitmq.settings import BrokerSettings
from gateway.config import ConfigError, Settings


def broker(env: dict[str, str]) -> BrokerSettings:
    return Settings.from_env(env).broker


def test_defaults_point_at_the_local_broker() -> None:
    """Without any keys the gateway talks to the local broker as guest."""
    s = broker({})
    assert (
        s.node_url("ggk"),
        s.management_credentials,
    ) == ("amqp://guest:guest@127.0.0.1:5672/ggk", ("guest", "guest"))


def test_credentials_in_the_url_win() -> None:
    """User and password in GATEWAY_AMQP_URL are used for AMQP and the management API."""
    s = broker({"GATEWAY_AMQP_URL": "amqp://gw:secret@broker:5672/", "GATEWAY_BROKER_USER": "x"})
    assert (
        s.node_url("vecozo"),
        s.management_credentials,
    ) == ("amqp://gw:secret@broker:5672/vecozo", ("gw", "secret"))


def test_prefix_names_the_vhosts() -> None:
    """The vhost prefix comes before each node's name."""
    s = broker({"GATEWAY_VHOST_PREFIX": "t1-"})
    assert (s.vhost("ggk"), s.vhost("vecozo")) == ("t1-ggk", "t1-vecozo")


def test_shovel_uri_per_node() -> None:
    """Each node's shovel URI carries its vhost; the default reaches the broker that runs the shovel."""
    s = broker({"GATEWAY_SHOVEL_URI_VECOZO": "amqps://link:pw@vecozo.example:5671/"})
    assert (
        s.shovel_uri("ggk"),
        s.shovel_uri("vecozo"),
    ) == ("amqp:///ggk", "amqps://link:pw@vecozo.example:5671/vecozo")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("GATEWAY_DELIVERY_LIMIT", "0"),
        ("GATEWAY_DELIVERY_LIMIT", "five"),
        ("GATEWAY_AMQP_URL", "http://127.0.0.1:5672/"),
        ("GATEWAY_MANAGEMENT_URL", "127.0.0.1:15672"),
        ("GATEWAY_AMQP_CONFIRM_TIMEOUT", "-1"),
        ("GATEWAY_VHOST_PREFIX", "a/b"),
    ],
)
def test_bad_value_names_its_key(key: str, value: str) -> None:
    """A malformed setting fails with its key in the message."""
    with pytest.raises(ConfigError, match=key):
        broker({key: value})


def test_repr_hides_credentials() -> None:
    """The settings' repr shows no password."""
    s = broker({"GATEWAY_AMQP_URL": "amqp://gw:s3cr3t@broker:5672/", "GATEWAY_BROKER_PASSWORD": "pw2"})
    assert ("s3cr3t" in repr(s), "pw2" in repr(s)) == (False, False)
