"""The composition root's parts beside :mod:`gateway.runtime`: what builds the security, privacy and
operator sides of a process on the real adapters (database, broker, audit store). Only the runtime imports
these; the logic they wire (``gateway.security``, ``gateway.privacy``, ``gateway.ops``) knows ports only."""
