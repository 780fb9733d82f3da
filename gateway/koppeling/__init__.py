"""VECOZO's REST interfaces of the VSP-Koppeling on the provider node: push, pull and message status.

A thin envelope around the one ingest pipeline (see ``docs/interfaces.md``): :mod:`.metadata` reads and
checks ``berichtMetadata`` against the message it carries, :mod:`.meldingen` turns a verdict into VECOZO's
BRS codes, :mod:`.status` derives the status lifecycle from the message's tracking events, :mod:`.store`
is the port of the REST data (traceerIds, the pull list), and :mod:`.push`, :mod:`.pull` and
:mod:`.statuses` are the three services. No framework and no I/O of their own: HTTP lives in
``gateway/http/koppeling.py``, the database in ``adapters/db``.
"""
