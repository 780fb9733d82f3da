"""The StUF-GGk envelope rules that need the registry and the catalogue, as pure functions over values.

- the ``zender`` organisation is registered and active (IB213), so is the ``ontvanger`` (IB210);
- the ``functie`` names a catalogued message that this kind of organisation sends, a heenbericht in a
  ``Di01`` and a retour in a ``Du01`` (IB234);
- the payload is an XML message (``xmlBestand``; a ``tekstBestand`` is no standard message: StUF055);
- once the payload is checked: its message is the ``functie`` and its sending and receiving parties are the
  envelope's ``zender`` and ``ontvanger`` (IB240).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

from gateway.errors import NotStandardMessage, WrongDirection
from gateway.interfaces.errors import EnvelopeMismatch
from gateway.interfaces.ids import echoable
from gateway.interfaces.stufenvelope import Envelope
from gateway.pipeline import Kind
from gateway.ports import Participant
from gateway.routing import Parties, parties, registered
from gateway.standard.header import Header


def functies(kinds: Iterable[Kind]) -> dict[str, Kind]:
    """The catalogue by message name (``JW301``): what a ``functie`` may name."""
    return {k.name: k for k in kinds}


def check_envelope(
    env: Envelope,
    zender: Participant | None,
    ontvanger: Participant | None,
    known: Mapping[str, Kind],
    today: date,
) -> Kind:
    """Raise the envelope's refusal, or return the catalogue entry its ``functie`` names."""
    zender, _ = registered(
        Parties(env.zender.organisatie, env.ontvanger.organisatie), zender, ontvanger, today
    )
    kind = known.get(env.functie)
    if kind is None:
        raise WrongDirection(f"functie {echoable(env.functie) or '?'} is not a message this node routes")
    if kind.sender != zender.kind:
        raise WrongDirection(f"functie {kind.name} is sent by a {kind.sender}, not by a {zender.kind}")
    if kind.retour != (env.kind == "Du01"):
        expected = "Du01" if kind.retour else "Di01"
        raise WrongDirection(f"functie {kind.name} travels in a {expected}, not in a {env.kind}")
    if env.content != "xml":
        raise NotStandardMessage("the envelope carries a text file; only an iJw or iWmo XML message passes")
    return kind


def expectation(env: Envelope) -> Callable[[Header, Kind], None]:
    """The check of the carried message against its envelope, for :class:`gateway.pipeline.Facts`."""

    def expect(header: Header, kind: Kind) -> None:
        if header.message != env.functie:
            raise EnvelopeMismatch(f"functie {env.functie} does not match the carried {header.message}")
        who = parties(header, kind)
        if (who.sender, who.recipient) != (env.zender.organisatie, env.ontvanger.organisatie):
            raise EnvelopeMismatch(
                "zender and ontvanger of the envelope are not the sending and receiving party of the message"
            )

    return expect
