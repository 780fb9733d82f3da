"""Operating a gateway process: observation wrappers, broker snapshot, dead letters, track & trace search.

:class:`gateway.ops.operations.Operations` bundles them for the runtime; the HTTP edge
(``gateway/http/metrics.py``, ``gateway/http/dashboard.py``) and ``gateway status`` read from it.
"""
