"""Header rules and routing: who sends, who receives, which node serves the receiver. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from gateway.errors import (
    NodeRole,
    NoRoute,
    NotAuthorised,
    UnknownReceiver,
    UnknownSender,
    WrongDirection,
)
from gateway.ports import Participant
from gateway.standard.header import Header


class MessageKind(Protocol):
    """What routing needs from a catalogue entry."""

    @property
    def name(self) -> str: ...

    @property
    def sender(self) -> str: ...  # "gemeente" | "aanbieder"

    @property
    def retour(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Parties:
    """The parties that actually send and receive a message (a retour swaps the header's pair)."""

    sender: str
    recipient: str


@dataclass(frozen=True, slots=True)
class Route:
    sender: Participant
    recipient: Participant
    origin_node: NodeRole
    target_node: NodeRole


def parties(header: Header, kind: MessageKind) -> Parties:
    """A retour keeps the header of the message it answers, so it travels back to the header's Afzender."""
    if kind.retour:
        return Parties(sender=header.ontvanger, recipient=header.afzender)
    return Parties(sender=header.afzender, recipient=header.ontvanger)


def authorise(principal: str, sender: str, may_submit: bool) -> None:
    """The authenticated party must be the sending party, or registered to submit for it (IB002)."""
    if principal != sender and not may_submit:
        raise NotAuthorised(f"organisation {principal} may not send on behalf of {sender}")


def registered(
    who: Parties, sender: Participant | None, recipient: Participant | None, today: date
) -> tuple[Participant, Participant]:
    """Both parties are registered and active today (IB213 for the sender, IB210 for the recipient)."""
    if sender is None or not sender.active_on(today):
        raise UnknownSender(f"sending organisation {who.sender} is unknown or not active")
    if recipient is None or not recipient.active_on(today):
        raise UnknownReceiver(f"receiving organisation {who.recipient} is unknown or not active")
    return sender, recipient


def route(
    kind: MessageKind,
    who: Parties,
    sender: Participant | None,
    recipient: Participant | None,
    node: NodeRole,
    today: date,
) -> Route:
    """Check that both parties are registered and active today, the direction is allowed, and route."""
    sender, recipient = registered(who, sender, recipient, today)
    if sender.kind != kind.sender:
        raise WrongDirection(f"{kind.name} is sent by a {kind.sender}, not by {sender.kind} {sender.code}")
    if recipient.kind == sender.kind:
        raise WrongDirection(f"{kind.name} cannot travel from a {sender.kind} to a {recipient.kind}")
    if sender.home_node != node:
        raise NoRoute(f"organisation {sender.code} is served by the {sender.home_node} node, not by {node}")
    return Route(sender=sender, recipient=recipient, origin_node=node, target_node=recipient.home_node)
