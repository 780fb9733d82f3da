"""Broker settings: the ``broker`` group of the one settings model (:mod:`gateway.config`)."""

from gateway.config import LOCAL_SHOVEL_URI, BrokerSettings

__all__ = ["LOCAL_SHOVEL_URI", "BrokerSettings"]
