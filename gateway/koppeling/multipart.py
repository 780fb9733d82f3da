"""``multipart/form-data`` (RFC 7578) read in memory: the named parts of a request body, nothing on disk.

A payload is personal data: it is kept in memory only, never in a temporary file as a framework's form
parser does with a large upload. The body (already bounded by the interface) is split at its boundary
lines with ``bytes.find``, which costs a few microseconds where a byte-by-byte parser costs hundreds; the
header values (``Content-Type``, ``Content-Disposition``) are read with python-multipart's option parser,
except in the plain form nearly every sender writes (an unquoted boundary token; ``form-data; name="..."``
with at most a ``filename``, no quote, backslash or semicolon inside), read directly to the same result.
"""

from __future__ import annotations

import re

from python_multipart.multipart import parse_options_header

from gateway.koppeling.problems import BadRequest

_CRLF = b"\r\n"
# a part's Content-Disposition as senders write it: its name read without the option parser (a quarter of
# the parse of a push's body) when nothing in it needs that parser (quotes, escapes, further options)
_FORM_DATA_NAME = b'form-data; name="'
_FILENAME = b'; filename="'
# the content type as senders write it: the boundary read without the option parser when it is one
# unquoted token of RFC 2046's boundary characters and the last option
_PLAIN_TYPE = "multipart/form-data; boundary="
_PLAIN_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=?]+")


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` content type, else :class:`BadRequest`."""
    if content_type.startswith(_PLAIN_TYPE):
        plain = content_type[len(_PLAIN_TYPE) :]
        if 0 < len(plain) <= 70 and _PLAIN_BOUNDARY.fullmatch(plain):
            return plain.encode("ascii")
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data":
        raise BadRequest(
            "the request body must be multipart/form-data",
            {"Content-Type": [f"is {media.decode('latin-1') or '(none)'}, not multipart/form-data"]},
        )
    if not boundary or len(boundary) > 70:
        raise BadRequest(
            "the multipart/form-data body has no usable boundary",
            {"Content-Type": ["needs a boundary parameter of 1 to 70 characters (RFC 2046)"]},
        )
    return boundary


def _broken(why: str) -> BadRequest:
    return BadRequest("the multipart body cannot be read", {"body": [why]})


def read_parts(body: bytes, boundary: bytes, wanted: tuple[str, ...]) -> dict[str, bytes]:
    """The parts named in ``wanted`` (their bytes); other parts are ignored, a repeated one is refused."""
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0 or (start > 0 and body[start - 2 : start] != _CRLF):
        raise _broken("no boundary line")
    found: dict[str, bytes] = {}
    repeated: list[str] = []
    position = start + len(delimiter)
    while True:
        if body.startswith(b"--", position):  # the closing boundary: the epilogue is ignored
            break
        line_end = body.find(_CRLF, position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise _broken("a boundary line is not followed by a line end")
        head_end = body.find(_CRLF + _CRLF, line_end)
        if head_end < 0:
            raise _broken("a part has no end of its headers")
        following = body.find(_CRLF + delimiter, head_end + 4)
        if following < 0:
            raise _broken("a part has no closing boundary")
        name = _name(body[line_end + 2 : head_end])
        if name in wanted:
            if name in found:
                repeated.append(name)
            found[name] = body[head_end + 4 : following]
        position = following + 2 + len(delimiter)
    if repeated:
        raise BadRequest("a part is sent twice", {name: ["is sent more than once"] for name in repeated})
    return found


def _name(headers: bytes) -> str | None:
    """The ``name`` of a part's ``Content-Disposition: form-data`` header."""
    for line in headers.split(_CRLF):
        field, _, value = line.partition(b":")
        if field.strip().lower() == b"content-disposition":
            plain = _plain_name(value.strip())
            if plain is not None:
                return plain
            disposition, options = parse_options_header(value.strip())
            raw = options.get(b"name")
            if disposition == b"form-data" and raw is not None:
                return raw.decode("utf-8", "replace")
    return None


def _plain_name(value: bytes) -> str | None:
    """The name of ``form-data; name="NAME"`` (optionally followed by ``; filename="FILE"``) where neither
    holds a quote, a backslash or a semicolon: what the option parser reads there; None for anything else
    (the parser reads it)."""
    if not value.startswith(_FORM_DATA_NAME):
        return None
    end = value.find(b'"', len(_FORM_DATA_NAME))
    if end < 0:
        return None
    name = value[len(_FORM_DATA_NAME) : end]
    if end + 1 < len(value):  # more than the name: a filename alone, as the last option
        rest = value[end + 1 :]
        if not rest.startswith(_FILENAME) or not rest.endswith(b'"') or len(rest) <= len(_FILENAME):
            return None
        name_and_file = name + rest[len(_FILENAME) : -1]
    else:
        name_and_file = name
    if b'"' in name_and_file or b"\\" in name_and_file or b";" in name_and_file:
        return None
    return name.decode("utf-8", "replace")
