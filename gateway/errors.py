"""Refusals that know how they reach the wire.

Every refusal is a :class:`Rejection` subclass. Its chain codes (one for the municipal GGk side, one for the
provider VECOZO side, which has its own
CC codes only for schema, size, UUID and uniqueness faults and otherwise shares the IB code), HTTP status, stable reason slug and title are class attributes; one handler at the
edge turns any of them into problem+json, a StUF ``Fo01`` or a SOAP fault. Texts never carry payload values:
only element paths, rule names and ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

NodeRole = Literal["ggk", "vecozo"]


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One thing wrong with a message: chain code, readable text, and where (line, element path); for a
    broken content rule also the rule's code (``CS002``) and the retourcode the standard attaches to it."""

    code: str
    text: str
    line: int | None = None
    path: str | None = None
    rule: str | None = None
    retourcode: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "line": self.line,
            "path": self.path,
            "rule": self.rule,
            "retourcode": self.retourcode,
            "text": self.text,
        }


class GatewayError(Exception):
    """Base of every error that the gateway turns into an answer on the wire."""

    code: ClassVar[str] = "GW500"
    vecozo_code: ClassVar[str] = "GW500"
    status: ClassVar[int] = 500
    reason: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"
    transient: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, errors: Sequence[ErrorItem] = ()) -> None:
        self.detail = detail or self.title
        self.errors: tuple[ErrorItem, ...] = tuple(errors) or (ErrorItem(self.code, self.detail),)
        self.tracking_id: str | None = None  # set when the refusal was recorded in track & trace
        self.judged = False  # set when the pipeline decided it and told its observers (metrics count it)
        super().__init__(self.detail)

    def code_for(self, node: NodeRole) -> str:
        """The chain code this error carries on the given node's interfaces."""
        return self.code if node == "ggk" else self.vecozo_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, errors={len(self.errors)})"


class Rejection(GatewayError):
    """A message refused for good: resending the same bytes will be refused again."""

    status = 400
    reason = "rejected"
    title = "Message refused"


# --- transport and safe parsing -------------------------------------------------------------------------


class TooLarge(Rejection):
    code, vecozo_code, status, reason = "IB007", "CC03", 413, "too-large"
    title = "Message larger than the allowed size"


class BadEncoding(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 400, "encoding"
    title = "Message is not UTF-8 without byte order mark"


class XmlVersion(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 400, "xml-version"
    title = "Message is not XML 1.0 (the standard prescribes XML 1.0 in UTF-8 without byte order mark)"


class UnsafeXml(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 400, "unsafe-xml"
    title = "Message uses an XML feature that is not allowed (DTD, entity, external reference)"


class NotWellFormed(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 400, "not-well-formed"
    title = "Message is not well-formed XML"


class TooDeep(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 400, "too-deep"
    title = "Message nests elements deeper than allowed"


class UnsupportedMediaType(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 415, "media-type"
    title = "Content type must be application/xml"


# --- classification and validation ----------------------------------------------------------------------


class NotStandardMessage(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 422, "not-standard-message"
    title = "Not a standard message (unknown namespace or root element)"


class ReleaseNotSupported(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 422, "release-not-supported"
    title = "Release of this standard is not supported by this node"


class SchemaInvalid(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 422, "schema"
    title = "Message does not conform to its XSD"


class ContentRulesBroken(Rejection):
    """Schema-valid, but breaks content rules of the standard (TR, CD, CS): VECOZO's BRS28 ("afgekeurd op
    basis van XSLT-controles"), StUF055 in a Fo01 on the municipal side; every item names its rule."""

    code, vecozo_code, status, reason = "StUF055", "BRS28", 422, "content-rules"
    title = "Message breaks content rules of the standard"


class CodeMismatch(Rejection):
    code, vecozo_code, status, reason = "IB240", "CC02", 422, "code-mismatch"
    title = "BerichtCode, BerichtVersie or BerichtSubversie does not match the message namespace"


# --- parties, direction, uniqueness ---------------------------------------------------------------------


class NotAuthenticated(Rejection):
    code, vecozo_code, status, reason = "IB002", "IB002", 401, "not-authenticated"
    title = "No valid credential"


class NotAuthorised(Rejection):
    code, vecozo_code, status, reason = "IB002", "IB002", 403, "not-authorised"
    title = "Organisation is not authorised to send for this party"


class UnknownReceiver(Rejection):
    code, vecozo_code, status, reason = "IB210", "IB210", 422, "unknown-receiver"
    title = "Receiving organisation unknown or not active"


class UnknownSender(Rejection):
    code, vecozo_code, status, reason = "IB213", "IB213", 422, "unknown-sender"
    title = "Sending organisation unknown or not active"


class WrongDirection(Rejection):
    code, vecozo_code, status, reason = "IB234", "IB234", 403, "wrong-direction"
    title = "This organisation may not send this message type"


class NoRoute(Rejection):
    code, vecozo_code, status, reason = "IB102", "IB102", 422, "no-route"
    title = "No route for this organisation and message type"


class NoOriginal(Rejection):
    """A retour must answer a message that was sent to its sender; the same answer whether the quoted message
    does not exist or was sent to someone else, so a refusal tells nothing about other parties' messages."""

    code, vecozo_code, status, reason = "IB102", "IB102", 422, "no-original"
    title = "The retour answers no message sent to its sender"


class NotUnique(Rejection):
    code, vecozo_code, status, reason = "IB216", "CC08", 409, "not-unique"
    title = "Sender and reference already used for other content"


class ReferenceNotUuid(Rejection):
    code, vecozo_code, status, reason = "IB009", "CC04", 400, "reference-not-uuid4"
    title = "Reference is not a UUID version 4"


# --- transient ------------------------------------------------------------------------------------------


class Unavailable(GatewayError):
    """The broker or database cannot take the message now; the client should retry later."""

    code, vecozo_code, status, reason = "IB103", "IB103", 503, "unavailable"
    title = "Service temporarily unavailable, retry later"
    transient = True
    retry_after: ClassVar[int] = 5


class Busy(Unavailable):
    """This party (or the node) is over a limit now; ``retry_after`` says when it is free again."""

    status, reason = 429, "busy"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after  # type: ignore[misc]  # per refusal, not per class
