"""The status lifecycle follows the events of a message's way, and refusals become VECOZO meldingen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import ErrorItem, NotWellFormed, SchemaInvalid, UnknownReceiver
from gateway.koppeling.problems import brs_code, meldingen, problem
from gateway.koppeling.status import stand
from gateway.ports import TrackingEvent

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def events(*names: str) -> list[TrackingEvent]:
    return [TrackingEvent("t", name, "vecozo", T0 + timedelta(seconds=i)) for i, name in enumerate(names)]


@pytest.mark.parametrize(
    ("way", "status"),
    [
        ((), "Ontvangen"),
        (("received",), "Ontvangen"),
        (("received", "routed"), "WordtVerwerkt"),
        (("received", "routed", "published"), "VerwerkingVoltooid"),
        (("received", "routed", "published", "crossed-link", "in-mailbox"), "WordtAangeboden"),
        (("received", "routed", "published", "crossed-link", "in-mailbox", "fetched"), "WordtAangeboden"),
        (("received", "published", "in-mailbox", "fetched", "acked"), "Bezorgd"),
        (("received", "published", "in-mailbox", "fetched", "acked", "fetched"), "Bezorgd"),
        (("received", "published", "dead-lettered"), "AanbiedenMislukt"),
        (("received", "published", "dead-lettered", "redriven"), "WordtAangeboden"),
        (("received", "published", "dead-lettered", "discarded"), "BezorgingAfgebroken"),
        (("received", "refused"), "AfgekeurdDoorDienst"),
    ],
)
def test_each_step_of_the_way_has_its_status(way: tuple[str, ...], status: str) -> None:
    """Received, checked, published, offered, confirmed, failed: each maps to the spec's status."""
    assert status == stand(events(*way), T0).status


def test_a_delivery_over_amqp_seen_by_the_node_is_bezorgd() -> None:
    """A read over AMQP the node traces (fetched via amqp) is Bezorgd; a lease over HTTP is not yet."""
    way = events("received", "published", "in-mailbox")
    amqp = TrackingEvent("t", "fetched", "ggk", T0 + timedelta(seconds=9), {"by": "0384", "via": "amqp"})
    http = TrackingEvent("t", "fetched", "ggk", T0 + timedelta(seconds=9), {"by": "0384", "via": "http"})
    assert ("Bezorgd", "WordtAangeboden") == (stand([*way, amqp], T0).status, stand([*way, http], T0).status)


def test_the_status_changes_at_the_event_that_set_it() -> None:
    """berichtstatusGewijzigdOp is the time of the event that set the status."""
    found = stand(events("received", "published", "in-mailbox"), T0)
    assert T0 + timedelta(seconds=2) == found.since


@pytest.mark.parametrize(
    ("refusal", "code"),
    [
        (NotWellFormed(), "BRS14"),
        (SchemaInvalid(), "BRS13"),
        (UnknownReceiver(), "BRS04"),
        (
            SchemaInvalid(
                errors=[ErrorItem("CS002", "BSN fails the eleven test", 12, "/Bericht/Client/Bsn")]
            ),
            "BRS13",
        ),
    ],
)
def test_a_refusal_has_its_brs_code(refusal: Exception, code: str) -> None:
    """Each refusal of the pipeline maps to VECOZO's code."""
    assert code == brs_code(refusal)  # type: ignore[arg-type]


def test_content_rule_codes_become_brs28_meldingen_with_their_rule() -> None:
    """A refusal whose errors are content rules is BRS28, each melding carrying its rule code and path."""
    from gateway.errors import Rejection

    class ContentRules(Rejection):
        code, vecozo_code, status, reason = "StUF055", "CC02", 422, "content"

    refusal = ContentRules("2 rules fail", errors=[ErrorItem("TR018", "a text", 3, "/Bericht/Header")])
    found = meldingen(refusal)
    assert ["BRS28", "TR018"] == [m.code for m in found]
    assert "regel 3 /Bericht/Header" == found[1].toelichting


def test_a_refusal_is_a_422_validation_problem() -> None:
    """The answer to a refused message: 422, its code, its meldingen, errors under payload."""
    status, body = problem(SchemaInvalid("not valid"), "/x", traceer_id="abc")
    assert (422, "BRS13", "abc") == (status, body["code"], body["traceerId"])
    assert ["payload"] == list(body["errors"])
