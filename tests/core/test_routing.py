"""Header rules and routing, as pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from gateway.errors import NoRoute, NotAuthorised, UnknownReceiver, UnknownSender, WrongDirection
from gateway.ports import Participant
from gateway.routing import Parties, authorise, parties, route
from gateway.standard.header import Header

TODAY = date(2026, 11, 23)
GEMEENTE = Participant("0384", "gemeente", "Diemen", "ggk", date(2020, 1, 1))
AANBIEDER = Participant("42420001", "aanbieder", "Jeugdzorg", "vecozo", date(2020, 1, 1))
AANBIEDER_2 = Participant("65656055", "aanbieder", "Zorg Twee", "vecozo", date(2020, 1, 1))
RETIRED = Participant("0363", "gemeente", "Oud", "ggk", date(2020, 1, 1), date(2026, 1, 1))


@dataclass(frozen=True)
class K:
    name: str
    sender: str
    retour: bool = False


def header(afzender: str, ontvanger: str, retour: bool = False) -> Header:
    return Header(
        standard="ijw",
        release="3.2",
        message="JW315",
        code="446",
        afzender=afzender,
        ontvanger=ontvanger,
        identificatie="1",
        dagtekening=TODAY,
        identificatie_retour="R1" if retour else None,
    )


def test_heen_message_travels_from_afzender_to_ontvanger() -> None:
    """A message that is not a retour goes from the header's Afzender to its Ontvanger."""
    assert Parties("42420001", "0384") == parties(header("42420001", "0384"), K("JW315", "aanbieder"))


def test_retour_travels_back_to_the_header_afzender() -> None:
    """A retour keeps its original's header, so it is sent by the Ontvanger to the Afzender."""
    assert Parties("0384", "42420001") == parties(
        header("42420001", "0384", True), K("JW316", "gemeente", True)
    )


def test_sending_for_another_party_is_refused() -> None:
    """An authenticated party that is neither the sender nor registered for it gets IB002."""
    with pytest.raises(NotAuthorised):
        authorise("65656055", "42420001", may_submit=False)


def test_registered_submitter_may_send_for_its_party() -> None:
    """A registered submitter may send on behalf of its party."""
    authorise("99990001", "42420001", may_submit=True)


def test_route_goes_to_the_recipients_home_node() -> None:
    """The route's target is the node that serves the recipient."""
    decided = route(
        K("JW315", "aanbieder"), Parties("42420001", "0384"), AANBIEDER, GEMEENTE, "vecozo", TODAY
    )
    assert ("vecozo", "ggk") == (decided.origin_node, decided.target_node)


def test_unknown_recipient_is_ib210() -> None:
    """A recipient that is not registered is refused with IB210."""
    with pytest.raises(UnknownReceiver):
        route(K("JW315", "aanbieder"), Parties("42420001", "0999"), AANBIEDER, None, "vecozo", TODAY)


def test_retired_recipient_is_ib210() -> None:
    """A recipient whose registration ended never receives anything new."""
    with pytest.raises(UnknownReceiver):
        route(K("JW315", "aanbieder"), Parties("42420001", "0363"), AANBIEDER, RETIRED, "vecozo", TODAY)


def test_unknown_sender_is_ib213() -> None:
    """A sender that is not registered is refused with IB213."""
    with pytest.raises(UnknownSender):
        route(K("JW315", "aanbieder"), Parties("42420009", "0384"), None, GEMEENTE, "vecozo", TODAY)


def test_wrong_direction_is_ib234() -> None:
    """A municipality may not send a message that providers send."""
    with pytest.raises(WrongDirection):
        route(K("JW315", "aanbieder"), Parties("0384", "42420001"), GEMEENTE, AANBIEDER, "ggk", TODAY)


def test_provider_to_provider_is_refused() -> None:
    """A message never travels between two parties of the same kind."""
    with pytest.raises(WrongDirection):
        route(
            K("JW315", "aanbieder"), Parties("42420001", "65656055"), AANBIEDER, AANBIEDER_2, "vecozo", TODAY
        )


def test_sender_on_the_other_node_has_no_route() -> None:
    """A provider posting to the municipal node is refused: its home is the provider node."""
    with pytest.raises(NoRoute):
        route(K("JW315", "aanbieder"), Parties("42420001", "0384"), AANBIEDER, GEMEENTE, "ggk", TODAY)
