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


def _declared_entries(data: bytes) -> int | None:
    """The entry count of the end-of-central-directory record, read before zipfile builds anything."""
    at = data.rfind(_END_RECORD, max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        return None
    count = int.from_bytes(data[at + 10 : at + 12], "little")
    return None if count == 0xFFFF else count  # ZIP64 keeps the real count elsewhere


def _open(data: bytes, limits: ZipLimits) -> zipfile.ZipFile:
    if data.startswith(_END_RECORD):
        raise ZipEmpty("The ZIP archive holds no file")
    if not data.startswith(_LOCAL_HEADER):
        raise NotAZip("The content is not a ZIP archive")
    declared = _declared_entries(data)
    if declared is not None and declared > limits.max_files * 4:  # directories count there too
        raise ZipTooManyFiles(
            f"The ZIP archive declares {declared} entries; at most {limits.max_files} files"
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
