"""``multipart/form-data`` (RFC 7578) read in memory: the named parts of a request body, nothing on disk.

A payload is personal data: it is kept in memory only, never in a temporary file as a framework's form
parser does with a large upload. The body (already bounded by the interface) is split at its boundary
lines with ``bytes.find``, which costs a few microseconds where a byte-by-byte parser costs hundreds; the
header values (``Content-Type``, ``Content-Disposition``) are read with python-multipart's option parser.
"""

from __future__ import annotations

from python_multipart.multipart import parse_options_header

from gateway.koppeling.problems import BadRequest

_CRLF = b"\r\n"


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` content type, else :class:`BadRequest`."""
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary or len(boundary) > 70:
        raise BadRequest(
            "the request body must be multipart/form-data",
            {"Content-Type": [f"is {media.decode('latin-1') or '(none)'}, not multipart/form-data"]},
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
            disposition, options = parse_options_header(value.strip())
            raw = options.get(b"name")
            if disposition == b"form-data" and raw is not None:
                return raw.decode("utf-8", "replace")
    return None
