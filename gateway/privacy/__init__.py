"""Privacy: citizen access (inzage) without storing BSNs, and retention (bewaartermijn).

``bsnkey``: the HMAC key file (outside the database) and :class:`BsnHasher`; ``index``: what the BSN index
holds and the port to store it; ``sink``: the ingest decision sink that fills it; ``retention``: the purge
job. The database side is ``adapters/db/privacy.py``.
"""
