"""Reading a ZIP archive of messages from untrusted bytes, in memory, within hard bounds.

Nothing is extracted to disk and nothing is decompressed beyond the limits: the declared sizes are checked
first (per entry, in total, and the expansion ratio), then each entry is stream-decompressed in chunks with
a running cap, so an archive that lies about its sizes stops at the cap too. zlib's CRC check catches
entries whose content does not match. Refusals name entries by their position, never by file name (a file
name may carry personal data). Pure: no I/O.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Final

from gateway.errors import TooLarge
from gateway.interfaces.errors import NotAZip, ZipBomb, ZipEmpty, ZipEncrypted, ZipTooManyFiles

MiB: Final = 1024 * 1024
_CHUNK: Final = 64 * 1024
_LOCAL_HEADER: Final = b"PK\x03\x04"
_END_RECORD: Final = b"PK\x05\x06"
_ZIP64_LOCATOR: Final = b"PK\x06\x07"
_ZIP64_END: Final = b"PK\x06\x06"
_DIRECTORY_RECORD: Final = b"PK\x01\x02"
_AES: Final = 99  # WinZip AES encryption marks itself by this compression method
_METHODS: Final = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Bounds for one archive. ``max_ratio`` applies to entries larger than ``ratio_floor`` bytes."""

    max_files: int = 30
    max_entry: int = 25 * MiB
    max_total: int = 25 * MiB
    max_ratio: int = 200
    ratio_floor: int = 1 * MiB


DEFAULT_ZIP_LIMITS: Final = ZipLimits()


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the archive: its position (1-based), name and bytes (neither shown in the repr)."""

    index: int
    name: str = field(repr=False)
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


def _directory(data: bytes) -> tuple[int, int, int] | None:
    """Where zipfile will read the central directory: (declared entries, directory size, end of the
    directory), from the end-of-central-directory record (or its ZIP64 record), read before zipfile
    builds anything; None when there is no end record."""
    at = data.rfind(_END_RECORD, max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        return None
    count = int.from_bytes(data[at + 10 : at + 12], "little")
    size = int.from_bytes(data[at + 12 : at + 16], "little")
    locator = at - 20
    if locator >= 0 and data[locator : locator + 4] == _ZIP64_LOCATOR:  # the real figures are in ZIP64
        end64 = int.from_bytes(data[locator + 8 : locator + 16], "little")
        if data[end64 : end64 + 4] == _ZIP64_END and len(data) >= end64 + 56:
            count = int.from_bytes(data[end64 + 32 : end64 + 40], "little")
            size = int.from_bytes(data[end64 + 40 : end64 + 48], "little")
            return count, size, end64
    return count, size, at


def _directory_records(data: bytes, size: int, end: int, most: int) -> int:
    """How many records zipfile would parse from the directory (counting stops past ``most``): the
    directory's size, not its declared entry count, decides how much zipfile reads and builds."""
    pos, records = end - size, 0
    while 0 <= pos < end and data[pos : pos + 4] == _DIRECTORY_RECORD and records <= most:
        lengths = data[pos + 28 : pos + 34]
        if len(lengths) < 6:
            break
        name, extra, comment = (int.from_bytes(lengths[i : i + 2], "little") for i in (0, 2, 4))
        pos += 46 + name + extra + comment
        records += 1
    return records


def _open(data: bytes, limits: ZipLimits) -> zipfile.ZipFile:
    if data.startswith(_END_RECORD):
        raise ZipEmpty("The ZIP archive holds no file")
    if not data.startswith(_LOCAL_HEADER):
        raise NotAZip("The content is not a ZIP archive")
    directory = _directory(data)
    most = limits.max_files * 4  # directories count there too
    if directory is not None:
        declared, size, end = directory
        if declared > most:
            raise ZipTooManyFiles(
                f"The ZIP archive declares {declared} entries; at most {limits.max_files} files"
            )
        if _directory_records(data, size, end, most) > most:
            raise ZipTooManyFiles(
                f"The ZIP archive's central directory holds more than {most} entries; "
                f"at most {limits.max_files} files"
            )
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, NotImplementedError, EOFError):
        raise NotAZip("The ZIP archive cannot be read") from None


def _check_declared(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    total = 0
    for index, info in enumerate(infos, 1):
        if info.flag_bits & 0x1 or info.compress_type == _AES:
            raise ZipEncrypted(f"File {index} of the ZIP archive is password-protected")
        if info.compress_type not in _METHODS:
            raise NotAZip(f"File {index} of the ZIP archive uses a compression method other than deflate")
        if info.file_size > limits.max_entry:
            raise TooLarge(f"File {index} of the ZIP archive is larger than {limits.max_entry} bytes")
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise ZipBomb(f"File {index} of the ZIP archive expands more than {limits.max_ratio} times")
        total += info.file_size
        if total > limits.max_total:
            raise TooLarge(f"The files of the ZIP archive are larger than {limits.max_total} bytes together")


def _read(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, index: int, budget: int, limits: ZipLimits
) -> bytes:
    cap = min(limits.max_entry, budget, info.file_size)
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise ZipBomb(f"File {index} of the ZIP archive expands beyond its declared size")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, ValueError, NotImplementedError):
        raise NotAZip(f"File {index} of the ZIP archive cannot be read") from None
    if size != info.file_size:
        raise NotAZip(f"File {index} of the ZIP archive does not have its declared size")
    return b"".join(chunks)


def read_zip(data: bytes, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> tuple[Entry, ...]:
    """The files of a ZIP archive (directories skipped), in archive order, or the refusal."""
    with _open(data, limits) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if not infos:
            raise ZipEmpty("The ZIP archive holds no file")
        if len(infos) > limits.max_files:
            raise ZipTooManyFiles(f"The ZIP archive holds {len(infos)} files; at most {limits.max_files}")
        _check_declared(infos, limits)
        entries: list[Entry] = []
        budget = limits.max_total
        for index, info in enumerate(infos, 1):
            content = _read(archive, info, index, budget, limits)
            budget -= len(content)
            entries.append(Entry(index, info.filename, content))
        return tuple(entries)
