"""Simulated counterparts: a municipality and a provider that answer like real software, and a traffic
generator. They are HTTP clients of a running gateway (``gateway simulate``) and need nothing beyond the
project itself: messages come from :mod:`gateway.simulate.templates`."""
