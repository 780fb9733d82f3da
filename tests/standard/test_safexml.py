"""Safe parsing, unit by unit: declarations, prolog, limits, schema locations, what the tree keeps."""

from __future__ import annotations

import pytest

from gateway.errors import BadEncoding, NotWellFormed, Rejection, UnsafeXml
from gateway.standard import safexml

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


@pytest.mark.parametrize(
    "declaration",
    [
        b'<?xml version="1.0" encoding="UTF-8"?>',
        b"<?xml version='1.0' encoding='utf-8' standalone='yes'?>",
        b'<?xml version="1.0" encoding = "utf8" ?>',
        b'<?xml version="1.0"?>',
        b"",
    ],
)
def test_utf8_declarations_are_accepted(declaration: bytes) -> None:
    """Any spelling of a UTF-8 declaration, or none, is accepted."""
    assert safexml.parse(declaration + b"\n<a/>").tag == "a"


@pytest.mark.parametrize(
    "declaration",
    [b"<?xml version='1.0' encoding='latin1'?>", b'<?xml version="1.0" encoding="US-ASCII"?>'],
)
def test_other_declared_encodings_are_refused(declaration: bytes) -> None:
    """A declaration of anything but UTF-8 is refused, even when the bytes happen to be ASCII."""
    with pytest.raises(BadEncoding):
        safexml.parse(declaration + b"<a/>")


@pytest.mark.parametrize(
    "prolog",
    [
        b"<!DOCTYPE a>",
        b"  \n<!DOCTYPE a>",
        b"<!-- c --><?pi x?>\n<!DOCTYPE a>",
        b'<?xml version="1.0"?><!DOCTYPE a>',
    ],
)
def test_doctype_anywhere_in_the_prolog_is_refused(prolog: bytes) -> None:
    """A DOCTYPE after white space, comments or processing instructions is still refused."""
    with pytest.raises(UnsafeXml):
        safexml.parse(prolog + b"<a/>")


def test_doctype_text_in_a_body_comment_is_harmless() -> None:
    """The letters of a DOCTYPE inside a comment in the body are just a comment."""
    assert len(safexml.parse(b"<a><!-- <!DOCTYPE x> --><b/></a>")) == 1


def test_comments_and_processing_instructions_leave_the_tree() -> None:
    """The parsed tree holds elements only (the bytes themselves are never changed)."""
    root = safexml.parse(b"<a><!-- c --><?pi x?><b/><!-- d --><c/></a>")
    assert [child.tag for child in root] == ["b", "c"]


def test_whitespace_only_value_is_kept() -> None:
    """White space that is an element's whole value stays its value."""
    assert safexml.parse(b"<a>\n  <b>   </b>\n</a>")[0].text == "   "


def test_empty_message_is_not_well_formed() -> None:
    """Empty input is refused as not well-formed."""
    with pytest.raises(NotWellFormed):
        safexml.parse(b"  \n ")


@pytest.mark.parametrize("location", ["urn:x JW319.xsd", "urn:x ./xsd/JW319.xsd"])
def test_local_schema_location_is_tolerated(location: str) -> None:
    """An xsi:schemaLocation naming a plain relative file is tolerated (it is never fetched)."""
    data = f'<a {XSI} xsi:schemaLocation="{location}"/>'.encode()
    assert safexml.parse(data).tag == "a"


@pytest.mark.parametrize(
    "location", ["urn:x https://example.org/JW319.xsd", "urn:x /etc/JW319.xsd", "urn:x file:///x.xsd"]
)
def test_outside_schema_location_is_refused(location: str) -> None:
    """An xsi:schemaLocation naming a URL or an absolute path is refused, on any element."""
    data = f'<a><b {XSI} xsi:schemaLocation="{location}"/></a>'.encode()
    with pytest.raises(UnsafeXml):
        safexml.parse(data)


def test_depth_limit_applies_to_parse() -> None:
    """parse() refuses nesting beyond Limits.max_depth (root = level 1)."""
    data = b"<a>" * 5 + b"</a>" * 5
    with pytest.raises(Rejection) as caught:
        safexml.parse(data, safexml.Limits(max_depth=4))
    assert (caught.value.reason, safexml.parse(data, safexml.Limits(max_depth=5)).tag) == ("too-deep", "a")


@pytest.mark.parametrize("kwargs", [{"max_bytes": 0}, {"max_depth": 0}, {"max_depth": 257}])
def test_limits_refuse_impossible_values(kwargs: dict[str, int]) -> None:
    """Limits outside what can be enforced fail at construction."""
    with pytest.raises(ValueError):
        safexml.Limits(**kwargs)


def test_syntax_error_text_names_the_line() -> None:
    """A syntax error names its line and libxml2's reason, with quoted parts masked."""
    with pytest.raises(NotWellFormed) as caught:
        safexml.parse(b"<a>\n<b>GEHEIM</a>")
    assert ("line 2" in caught.value.detail, "GEHEIM" in caught.value.detail) == (True, False)


@pytest.mark.parametrize(
    ("data", "names_xsi"),
    [
        (f"<a {XSI} xsi:nil='true'/>".encode(), True),
        (f"<a><b {XSI} xsi:nil='true'/></a>".encode(), True),
        (f"<a x='>' {XSI}><b xsi:nil='1'/></a>".encode(), True),
        (
            b'<?xml version="1.0"?>\n<a xmlns="urn:x"><b>http://www.w3.org/2001/XMLSchema-instance</b></a>',
            False,
        ),
        (b"<a xmlns='urn:x'><b/></a>", False),
    ],
)
def test_parse_notes_whether_the_xsi_namespace_may_be_used(data: bytes, names_xsi: bool) -> None:
    """A message may use xsi: only where a namespace declaration names its URI; its text does not count."""
    root, noted = safexml.parse_noting_xsi(data)
    assert (root.tag, noted) == (safexml.parse(data).tag, names_xsi)


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_the_usual_start_still_refuses_what_follows_it(line_end: bytes) -> None:
    """After the usual declaration and line end, a DOCTYPE is refused; a comment or PI is judged in full."""
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>' + line_end
    assert safexml.parse(declaration + b"<a/>").tag == "a"
    assert safexml.parse(declaration + b"<!-- c --><?pi x?><a/>").tag == "a"
    with pytest.raises(UnsafeXml):
        safexml.parse(declaration + b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>")
    with pytest.raises(NotWellFormed):
        safexml.parse(declaration + b"<")
