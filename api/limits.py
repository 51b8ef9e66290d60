"""Caps on what one upload may unpack to: decompressed bytes and rows (bomb guards).

The body limit (``VIVRES_MAX_BODY_MB``, 64 MiB) bounds what a client sends; these bound what
it expands to. A gzip body or a zip member is decompressed in chunks and refused as soon as
the running total passes ``max_uncompressed_bytes`` (by default twice the body limit) or the
rows pass ``max_rows``: a 1 MB gzip of 1 GB, or a zip of 15 M order lines, stops after a few
tens of megabytes instead of filling the memory.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from api.settings import (
    DEFAULT_MAX_BODY_MB,
    DEFAULT_MAX_ROWS,
    ENV_MAX_BODY,
    ENV_MAX_ROWS,
    ENV_MAX_UNCOMPRESSED,
    settings,
)
from core.errors import InputError, InputTooLarge

__all__ = ["DEFAULT_MAX_BODY_MB", "ENV_MAX_BODY", "Budget", "UploadLimits"]
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadLimits:
    """Per-upload caps (every table of one request counts against the same budget)."""

    max_uncompressed_bytes: int = 2 * DEFAULT_MAX_BODY_MB << 20
    max_rows: int = DEFAULT_MAX_ROWS

    def __post_init__(self) -> None:
        if self.max_uncompressed_bytes < 1 or self.max_rows < 1:
            raise InputError(
                "upload limits must be positive; got "
                f"{self.max_uncompressed_bytes} bytes, {self.max_rows} rows"
            )

    @classmethod
    def from_env(cls) -> UploadLimits:
        """Read ``VIVRES_MAX_UNCOMPRESSED_MB`` (default 2 × ``VIVRES_MAX_BODY_MB``) and
        ``VIVRES_MAX_UPLOAD_ROWS`` (default 2,000,000)."""
        s = settings()
        return cls(
            max_uncompressed_bytes=int(s.max_uncompressed_mb * (1 << 20)),
            max_rows=s.max_upload_rows,
        )


class Budget:
    """What is left of the limits while one request's files are unpacked."""

    def __init__(self, limits: UploadLimits | None = None):
        self.limits = limits or UploadLimits.from_env()
        self.bytes = 0

    def take(self, chunk: bytes, file: str, rows_so_far: int) -> int:
        """Count ``chunk`` against the caps; return the rows seen so far in this file."""
        self.bytes += len(chunk)
        if self.bytes > self.limits.max_uncompressed_bytes:
            raise InputTooLarge.of_file(
                file,
                f"unpacks to more than {self.limits.max_uncompressed_bytes >> 20} MiB "
                f"({ENV_MAX_UNCOMPRESSED})",
            )
        rows = rows_so_far + chunk.count(b"\n")
        self.check_rows(rows - 1, file)  # the header is not a row
        return rows

    def check_rows(self, rows: int, file: str) -> None:
        """Refuse a table of more than ``max_rows`` rows."""
        if rows > self.limits.max_rows:
            raise InputTooLarge.of_file(
                file,
                f"has more than {self.limits.max_rows:,} rows; send it in several uploads "
                f"({ENV_MAX_ROWS})",
            )


def gunzip(content: bytes, *, file: str, budget: Budget) -> bytes:
    """Decompress gzip ``content`` (several members allowed) in bounded chunks."""
    out: list[bytes] = []
    rows = 0
    data = content
    try:
        while data:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while data and not inflater.eof:
                chunk = inflater.decompress(data, _CHUNK)
                rows = budget.take(chunk, file, rows)
                out.append(chunk)
                data = inflater.unconsumed_tail
            if not inflater.eof:
                raise zlib.error("truncated gzip stream")
            data = inflater.unused_data
    except zlib.error as exc:
        raise InputError.of_file(file, f"not a valid gzip file ({exc})") from None
    return b"".join(out)


#: What a damaged or hostile archive raises in zipfile (RuntimeError: an encrypted member;
#: NotImplementedError: an unknown version or method; struct.error: truncated records).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    KeyError,
    IndexError,
)


def open_zip(content: bytes, *, file: str = "body") -> zipfile.ZipFile:
    """Open an uploaded zip archive; any damage is an InputError, never a crash."""
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except _ZIP_ERRORS as exc:
        raise InputError.of_file(file, f"is not a readable zip archive ({exc})") from None


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, budget: Budget) -> bytes:
    """One zip member, streamed against the budget; a bad CRC or method is an InputError."""
    file = info.filename.rsplit("/", 1)[-1]
    out: list[bytes] = []
    rows = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                rows = budget.take(chunk, file, rows)
                out.append(chunk)
    except InputError:  # over a cap (InputTooLarge is a ValueError too): keep it as is
        raise
    except _ZIP_ERRORS as exc:
        raise InputError.of_file(file, f"cannot be unpacked from the zip ({exc})") from None
    return b"".join(out)
