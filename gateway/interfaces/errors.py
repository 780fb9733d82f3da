"""Refusals that only the chain's own interfaces can produce (envelopes, SOAP, ZIP archives).

Like every :class:`gateway.errors.Rejection` each carries its chain codes, HTTP status and a stable reason.
The ZIP codes are VECOZO's own (IB901-IB905); a ZIP that is too large or expands too far is ``CC03``.
"""

from __future__ import annotations

from gateway.errors import Rejection, TooLarge


class NotAnEnvelope(Rejection):
    code, vecozo_code, status, reason = "StUF055", "CC02", 400, "not-an-envelope"
    title = "Not an envelope of this interface"


class EnvelopeMismatch(Rejection):
    code, vecozo_code, status, reason = "IB240", "CC02", 422, "envelope-mismatch"
    title = "Envelope or routing header does not match the message it carries"


class WrongNode(Rejection):
    code, vecozo_code, status, reason = "IB102", "IB102", 404, "wrong-node"
    title = "This interface is served by the other node"


class NotAZip(Rejection):
    code, vecozo_code, status, reason = "IB901", "IB901", 400, "zip-invalid"
    title = "Not a valid ZIP archive"


class ZipTooManyFiles(Rejection):
    code, vecozo_code, status, reason = "IB902", "IB902", 400, "zip-too-many-files"
    title = "ZIP archive holds more files than allowed"


class ZipEncrypted(Rejection):
    code, vecozo_code, status, reason = "IB903", "IB903", 400, "zip-encrypted"
    title = "ZIP archive is password-protected"


class ZipEmpty(Rejection):
    code, vecozo_code, status, reason = "IB905", "IB905", 400, "zip-empty"
    title = "ZIP archive holds no file"


class ZipBomb(TooLarge):
    reason = "zip-bomb"
    title = "ZIP archive expands further than allowed"
