"""``multipart/form-data`` read in memory: the named parts of a request body, nothing spooled to disk.

Parsed with python-multipart's streaming parser (the one Starlette uses), over a body whose size the
interface has already bounded. A payload is personal data: it is kept in memory only, never in a temporary
file as a framework's form parser would do with a large upload.
"""

from __future__ import annotations

from python_multipart.multipart import MultipartParser, parse_options_header

from gateway.koppeling.problems import BadRequest


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` content type, else :class:`BadRequest`."""
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise BadRequest(
            "the request body must be multipart/form-data",
            {"Content-Type": [f"is {media.decode('latin-1') or '(none)'}, not multipart/form-data"]},
        )
    return boundary


def read_parts(body: bytes, boundary: bytes, wanted: tuple[str, ...]) -> dict[str, bytes]:
    """The parts named in ``wanted`` (their bytes); other parts are ignored, a repeated one is refused."""
    found: dict[str, bytes] = {}
    headers: dict[bytes, bytes] = {}
    name: list[str | None] = [None]
    chunks: list[bytes] = []
    header_field: list[bytes] = []
    header_value: list[bytes] = []
    repeated: list[str] = []

    def on_part_begin() -> None:
        headers.clear()
        chunks.clear()
        name[0] = None

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.append(data[start:end])

    def on_header_end() -> None:
        headers[b"".join(header_field).lower()] = b"".join(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        raw = options.get(b"name")
        name[0] = raw.decode("utf-8", "replace") if raw is not None else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if name[0] in wanted:
            chunks.append(data[start:end])

    def on_part_end() -> None:
        part = name[0]
        if part in wanted:
            assert part is not None
            if part in found:
                repeated.append(part)
            found[part] = b"".join(chunks)

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own errors (and ValueError) on a broken body
        raise BadRequest("the multipart body cannot be read", {"body": [type(exc).__name__]}) from None
    if repeated:
        raise BadRequest("a part is sent twice", {name: ["is sent more than once"] for name in repeated})
    return found
