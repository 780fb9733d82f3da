"""The chain's own interfaces, as pure code over bytes and values (no I/O).

- StUF-GGk ggk0210 on the municipal node: :mod:`.stufenvelope` reads ``Di01``/``Du01`` envelopes,
  :mod:`.stufcheck` holds the envelope rules, :mod:`.stufanswer` writes ``Bv03``/``Fo01``,
  :mod:`.stufdelivery` wraps mailbox messages for a municipality that receives in envelopes;
- VECOZO-style SOAP on the provider node: :mod:`.vsp` (routing header, response, fault detail) and
  :mod:`.ziparchive` (bounded in-memory ZIP reading);
- shared: :mod:`.soap` (SOAP 1.1), :mod:`.xmlparse` (safe envelope parsing), :mod:`.ids`, :mod:`.errors`.

The HTTP edge lives in :mod:`gateway.http.stuf` and :mod:`gateway.http.vsp`.
"""
