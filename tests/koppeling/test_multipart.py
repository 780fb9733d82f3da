"""The multipart reader's plain forms read as python-multipart's option parser reads them."""

from __future__ import annotations

import pytest
from python_multipart.multipart import parse_options_header

from gateway.koppeling.multipart import _plain_name, boundary_of, read_parts
from gateway.koppeling.problems import BadRequest


def _parsed_name(value: bytes) -> str | None:
    disposition, options = parse_options_header(value)
    raw = options.get(b"name")
    return raw.decode("utf-8", "replace") if disposition == b"form-data" and raw is not None else None


@pytest.mark.parametrize(
    "value",
    [
        b'form-data; name="payload"',
        b'form-data; name="payload"; filename="bericht.xml"',
        b'form-data; name=""',
        b'form-data; name="caf\xc3\xa9"',
        b'form-data; name="a"; filename=""',
        b'form-data; name="a=b"; filename="c=d.xml"',
        b'form-data; name="a"; filename="x;y"',
        b'form-data; name="a\\"b"',
        b'form-data; name="a"; name="b"',
        b'form-data; name="a"; filename="b"; name="c"',
        b'form-data; name="a"; filename="C:\\\\dir\\\\f"',
        b'form-data; name="a" ; filename="b"',
        b'form-data; name="a',
        b'Form-Data; name="a"',
        b'form-data; NAME="a"',
        b"form-data; name=a",
        b'form-data; name*="a"',
    ],
)
def test_a_part_name_reads_as_the_option_parser_reads_it(value: bytes) -> None:
    plain = _plain_name(value)
    assert plain is None or plain == _parsed_name(value)
    body = b"--b\r\nContent-Disposition: " + value + b"\r\n\r\nx\r\n--b--\r\n"
    name = _parsed_name(value)
    assert read_parts(body, b"b", (name,) if name is not None else ()) == (
        {name: b"x"} if name is not None else {}
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=benchboundary7d1f3c",
        "multipart/form-data; boundary=a'()+_,-./:=?Z9",
        'multipart/form-data; boundary="quoted boundary"',
        "multipart/form-data; boundary=abc; charset=utf-8",
        "multipart/form-data; boundary=" + "x" * 70,
        "multipart/form-data; boundary=" + "x" * 71,
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=a b",
        "Multipart/Form-Data; boundary=abc",
        "multipart/mixed; boundary=abc",
        "application/xml",
        "",
    ],
)
def test_a_boundary_reads_as_the_option_parser_reads_it(content_type: str) -> None:
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    expected = boundary if media == b"multipart/form-data" and boundary and len(boundary) <= 70 else None
    if expected is None:
        with pytest.raises(BadRequest):
            boundary_of(content_type)
    else:
        assert boundary_of(content_type) == expected


@pytest.mark.parametrize(
    ("content_type", "says"),
    [
        ("application/json", "is application/json, not multipart/form-data"),
        ("", "is (none), not multipart/form-data"),
        ("multipart/form-data", "needs a boundary parameter of 1 to 70 characters (RFC 2046)"),
        (
            "multipart/form-data; boundary=" + "x" * 71,
            "needs a boundary parameter of 1 to 70 characters (RFC 2046)",
        ),
    ],
)
def test_a_content_type_without_a_usable_boundary_says_what_is_wrong(content_type: str, says: str) -> None:
    """Another media type names the type it is; multipart/form-data without a boundary (or one too long)
    says so, not that it is not multipart/form-data."""
    with pytest.raises(BadRequest) as caught:
        boundary_of(content_type)
    assert {"Content-Type": [says]} == caught.value.fields
