"""Envelope overhead per message versus REST (a measurement, not a test).

Run: ``.venv/bin/python -m tests.interfaces.timing`` (needs ../shared for the example message).

REST does ``engine.check(payload)``; a StUF-GGk Di01 adds parsing the envelope, validating it against
ggk0210, decoding the base64, the envelope rules, and writing the Bv03; a VSP IndienenBericht adds the SOAP
parse, the routing header, base64 and the ZIP. Both then run the same ingest (registry, claim, publish) as
REST, which this does not time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from gateway.interfaces import soap
from gateway.interfaces.stufanswer import Addressing, bv03_element, serialise
from gateway.interfaces.stufcheck import check_envelope, functies
from gateway.interfaces.stufenvelope import read_envelope, stuurgegevens_of
from gateway.interfaces.stufschema import stuf_schema
from gateway.interfaces.vsp import read_bestand, read_routering
from gateway.interfaces.xmlparse import parse_envelope
from gateway.interfaces.ziparchive import read_zip
from gateway.ports import Participant
from tests.harness import shared_engine
from tests.interfaces.helpers import indienen, routering, stuf, zip_of
from tests.messages import example, new_id, set_header

GEMEENTE = Participant("0384", "gemeente", "Diemen", "ggk", date(2015, 1, 1))
AANBIEDER = Participant("42420001", "aanbieder", "De Linde", "vecozo", date(2015, 1, 1))


def per_call(action: Callable[[], object], seconds: float = 1.5) -> float:
    """Median-free simple mean over as many calls as fit in ``seconds`` (after a warm-up), in µs."""
    for _ in range(20):
        action()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        action()
        count += 1
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    engine = shared_engine()
    known = functies(engine.catalog)
    schema = stuf_schema()
    for label, padding in (("typical", 0), ("1 MB", 1_000_000)):
        payload = set_header(example("JW301"), Afzender="0384", Ontvanger="42420001", Identificatie=new_id())
        payload = payload.replace(b"<jw301:Client>", b"<jw301:Client>" + b" " * padding, 1)
        envelope = stuf(payload, "0384", "42420001", "JW301")

        def stuf_part(data: bytes = envelope) -> None:
            root = parse_envelope(data)
            env = read_envelope(root, schema)
            check_envelope(env, GEMEENTE, AANBIEDER, known, datetime.now(UTC).date())
            serialise(bv03_element(Addressing.answering(stuurgegevens_of(root), "0384"), datetime.now(UTC)))

        vsp_payload = set_header(
            example("JW315"), Afzender="42420001", Ontvanger="0384", Identificatie=new_id()
        )
        vsp_payload = vsp_payload.replace(b"<jw315:Client>", b"<jw315:Client>" + b" " * padding, 1)
        request = indienen(zip_of([("a.xml", vsp_payload)]), routering("42420001", ["0384"], ["JW315"]))

        def vsp_part(data: bytes = request) -> None:
            unwrapped = soap.unwrap(parse_envelope(data))
            read_routering(unwrapped.headers)
            read_zip(read_bestand(unwrapped.body))

        rest = per_call(lambda p=payload: engine.check(p))  # type: ignore[misc]
        rest_vsp = per_call(lambda p=vsp_payload: engine.check(p))  # type: ignore[misc]
        envelope_us, vsp_us = per_call(stuf_part), per_call(vsp_part)
        print(
            f"{label:8} payload {len(payload):>8} B | REST check {rest:9.1f} µs | "
            f"StUF envelope +{envelope_us:9.1f} µs ({envelope_us / rest:5.1%}) | "
            f"VSP SOAP+ZIP +{vsp_us:9.1f} µs ({vsp_us / rest_vsp:5.1%} of its REST check {rest_vsp:.1f} µs)"
        )


if __name__ == "__main__":
    main()
