"""Security parts of a node: the dev PKI, binding a client certificate to a party, signed receipts, audit.

Pure modules (no I/O): ``pki``, ``binding``, ``receipts``, ``audit``. The edge: ``pkidir`` (the files of
``var/pki``), ``tls`` (SSL contexts and the peer certificate for uvicorn) and ``keys_api`` (``GET /v1/keys``).
"""
