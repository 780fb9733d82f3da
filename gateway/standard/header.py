"""The frozen header value that every later part routes on."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, cast

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
    def of(cls, *values: Any, findings: tuple[ErrorItem, ...] = ()) -> Header:
        """``Header(*values, findings=findings)`` (every field but ``findings``, in order) without the frozen
        dataclass's ``__init__``, which sets each field through ``object.__setattr__`` (about 5 us per
        message, as much as the rest of reading a header): a plain object with the same slots is filled by
        plain attribute stores and then becomes a Header. The same value, field for field."""
        draft: Any = _Draft()  # (typed as Any: its slots are Header's fields)
        (
            draft.standard,
            draft.release,
            draft.message,
            draft.code,
            draft.afzender,
            draft.ontvanger,
            draft.identificatie,
            draft.dagtekening,
            draft.identificatie_retour,
            draft.dagtekening_retour,
            draft.referenties_aanbieder,
            draft.declaratie_identificatie,
            draft.client_bsns,
        ) = values
        draft.findings = findings
        draft.__class__ = cls
        return cast(Header, draft)

    def with_findings(self, findings: tuple[ErrorItem, ...]) -> Header:
        """This header with ``findings`` (``dataclasses.replace`` without the frozen ``__init__``)."""
        return Header.of(*(getattr(self, name) for name in _FIELDS), findings=findings)

    @property
    def is_retour(self) -> bool:
        return self.identificatie_retour is not None

    @property
    def reference(self) -> str:
        """The sender's own id for this message: IdentificatieRetour for a retour, else Identificatie."""
        return self.identificatie_retour if self.identificatie_retour is not None else self.identificatie


class _Draft:
    """Header's slots, in Header's order, on a class that allows plain attribute stores: the only layout
    whose instance may become a Header by ``__class__`` assignment."""

    __slots__ = Header.__slots__  # (a tuple of names, as dataclass slots=True sets it)


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Header) if f.name != "findings")
# Header.of unpacks the values in this order: the slots must be the fields in their order
assert Header.__slots__ == (*_FIELDS, "findings")
