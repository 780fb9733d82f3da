"""The frozen header value that every later part routes on."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from gateway.errors import ErrorItem


@dataclass(frozen=True, slots=True)
class Header:
    """What a valid standard message says about itself: its repr is safe to log (codes and ids only).

    ``message`` is the catalogue name (``JW301``, ``WMO315``); ``code`` the BerichtCode (``436``).
    For a retour (302, 306, 308, 316, 318, 320), ``identificatie``/``dagtekening`` are those of the message it answers (as the standard
    puts them in ``BerichtIdentificatie``) and ``identificatie_retour``/``dagtekening_retour`` its own.
    """

    standard: str
    release: str
    message: str
    code: str
    afzender: str
    ontvanger: str
    identificatie: str
    dagtekening: date
    identificatie_retour: str | None = None
    dagtekening_retour: date | None = None
    # business keys that link messages of one conversation beyond the retour header:
    # ReferentieAanbieder values (315/317 offer them, 319 answers with one) and the
    # DeclaratieIdentificatie by which a 325 answers a 323.
    referenties_aanbieder: tuple[str, ...] = ()
    declaratie_identificatie: str | None = None
    # personal data, for the keyed BSN index only (gateway.privacy): out of the repr and comparisons,
    # never logged, never stored in clear
    client_bsns: tuple[str, ...] = field(default=(), repr=False, compare=False)
    # content rules the message breaks, when the engine only warns (GATEWAY_CONTENT_RULES=warn): codes,
    # texts and element paths, never values
    findings: tuple[ErrorItem, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(cls, *values: Any) -> Header:
        """``Header(*values)`` (every field but ``findings``, in order) without the frozen dataclass's
        ``__init__``, which sets each field through ``object.__setattr__``: that was a third of reading
        a header, about 2 % of checking a message. The same value, field for field."""
        header = _new(cls)
        for setter, value in zip(_SETTERS, values, strict=True):
            setter(header, value)
        _set_findings(header, ())
        return header

    @property
    def is_retour(self) -> bool:
        return self.identificatie_retour is not None

    @property
    def reference(self) -> str:
        """The sender's own id for this message: IdentificatieRetour for a retour, else Identificatie."""
        return self.identificatie_retour if self.identificatie_retour is not None else self.identificatie


_new = object.__new__
# each slot's own descriptor sets it directly (a frozen class refuses plain attribute assignment)
_SETTERS: tuple[Any, ...] = tuple(
    Header.__dict__[f.name].__set__ for f in fields(Header) if f.name != "findings"
)
_set_findings = Header.__dict__["findings"].__set__
