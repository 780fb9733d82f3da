"""Bounded in-memory ZIP reading: every refusal, and what passes."""

from __future__ import annotations

import time
import zipfile

import pytest

from gateway.errors import Rejection, TooLarge
from gateway.interfaces.errors import NotAZip, ZipBomb, ZipEmpty, ZipEncrypted, ZipTooManyFiles
from gateway.interfaces.ziparchive import ZipLimits, read_zip
from tests.interfaces.helpers import zip_of

SMALL = ZipLimits(max_files=3, max_entry=1000, max_total=1500, max_ratio=20, ratio_floor=100)


def refused(data: bytes, limits: ZipLimits = SMALL) -> Rejection:
    with pytest.raises(Rejection) as caught:
        read_zip(data, limits)
    return caught.value


def test_files_come_back_in_order() -> None:
    """Two files, stored and deflated, come back in archive order with their bytes; directories skipped."""
    archive = zip_of([("d/", b""), ("a.xml", b"<a/>"), ("b.xml", b"<b/>")])
    assert [(1, b"<a/>"), (2, b"<b/>")] == [(e.index, e.data) for e in read_zip(archive, SMALL)]


def test_stored_entries_are_read() -> None:
    """An uncompressed archive is fine."""
    assert [b"<a/>"] == [e.data for e in read_zip(zip_of([("a", b"<a/>")], zipfile.ZIP_STORED), SMALL)]


@pytest.mark.parametrize(
    ("data", "expected", "code"),
    [
        (b"<?xml version='1.0'?><a/>", NotAZip, "IB901"),
        (b"", NotAZip, "IB901"),
        (zip_of([]), ZipEmpty, "IB905"),
        (zip_of([("d/", b"")]), ZipEmpty, "IB905"),
        (zip_of([(f"{i}", b"x") for i in range(4)]), ZipTooManyFiles, "IB902"),
        (zip_of([("a", b"x" * 1001)]), TooLarge, "CC03"),
        (zip_of([("a", bytes(range(256)) * 3), ("b", bytes(range(256)) * 3)]), TooLarge, "CC03"),
        (zip_of([("a", b" " * 900)]), ZipBomb, "CC03"),
    ],
)
def test_refusals(data: bytes, expected: type[Rejection], code: str) -> None:
    """Not a ZIP, empty, too many files, entry too large, total too large, expansion ratio."""
    exc = refused(data)
    assert (expected, code) == (type(exc), exc.code_for("vecozo"))


def test_encrypted_flag_is_ib903() -> None:
    """An entry flagged as encrypted is refused before anything is read."""
    archive = bytearray(zip_of([("a", b"<a/>")]))
    archive[6] |= 1
    archive[archive.rfind(b"PK\x01\x02") + 8] |= 1
    assert ZipEncrypted is type(refused(bytes(archive)))


def test_central_directory_with_thousands_of_entries_is_refused_early() -> None:
    """The end record's entry count refuses an archive with far too many entries before zipfile reads it."""
    archive = bytearray(zip_of([("a", b"x")]))
    end = archive.rfind(b"PK\x05\x06")
    archive[end + 10 : end + 12] = (60000).to_bytes(2, "little")
    assert ZipTooManyFiles is type(refused(bytes(archive)))


def test_directory_far_larger_than_its_declared_count_is_refused_early() -> None:
    """An archive declaring 1 entry whose central directory holds 350,000 records is refused before zipfile
    parses them (it took 1.35 s and 170 MB), in well under a tenth of a second."""
    archive = zip_of([("a", b"x")])
    start = archive.rfind(b"PK\x01\x02")
    end = archive.rfind(b"PK\x05\x06")
    record = archive[start:end]
    directory = record * 350_000
    eocd = bytearray(archive[end:])
    eocd[12:16] = len(directory).to_bytes(4, "little")
    eocd[16:20] = start.to_bytes(4, "little")
    forged = archive[:start] + directory + bytes(eocd)
    began = time.perf_counter()
    exc = refused(forged)
    took = time.perf_counter() - began
    assert (ZipTooManyFiles, "IB902", True) == (type(exc), exc.code_for("vecozo"), took < 0.1)


def test_directory_sized_for_its_entries_is_read() -> None:
    """The directory walk accepts an ordinary archive at the file limit."""
    archive = zip_of([(f"{i}.xml", b"<a/>") for i in range(3)])
    assert 3 == len(read_zip(archive, SMALL))


def test_corrupted_content_is_ib901() -> None:
    """A stored entry whose bytes were changed fails its CRC."""
    archive = bytearray(zip_of([("a", b"<a>hello</a>")], zipfile.ZIP_STORED))
    at = archive.find(b"hello")
    archive[at] = ord("j")
    assert NotAZip is type(refused(bytes(archive)))


def test_lying_declared_size_is_refused() -> None:
    """An entry that expands beyond the size its headers declare stops at the cap."""
    archive = bytearray(zip_of([("a", b"<a>" + b"x" * 200 + b"</a>")]))
    central = archive.rfind(b"PK\x01\x02")
    archive[central + 24 : central + 28] = (10).to_bytes(4, "little")  # uncompressed size: 10
    archive[22:26] = (10).to_bytes(4, "little")
    exc = refused(bytes(archive))
    assert isinstance(exc, NotAZip | ZipBomb)


def test_unsupported_compression_is_ib901() -> None:
    """Only stored and deflate are accepted."""
    assert NotAZip is type(refused(zip_of([("a", b"<a/>")], zipfile.ZIP_BZIP2)))
