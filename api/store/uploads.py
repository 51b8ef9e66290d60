"""Uploaded tables: their formats (CSV, gzip, xlsx, JSON rows, a zip of a folder), unpacked
within the upload caps (``api.limits``) and written where the territory loader looks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from api.limits import Budget, gunzip, open_zip, read_member
from core.errors import InputError, RowError
from core.schema import TABLES
from core.tables import MAX_COLUMNS, canonical, read_raw

FORMATS = ("csv", "csv.gz", "xlsx", "json")
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """One uploaded table: its name, its bytes and their format."""

    table: str
    content: bytes
    format: str = "csv"  # csv | csv.gz | xlsx | json

    def __post_init__(self) -> None:
        if self.table not in TABLES:
            raise InputError(
                [
                    RowError(
                        file=self.table,
                        row=None,
                        column=None,
                        message="unknown table; expected one of " + ", ".join(TABLES),
                    )
                ]
            )
        if self.format not in FORMATS:
            raise InputError(
                f"{self.table}: unknown format {self.format!r}; expected one of "
                + ", ".join(FORMATS)
            )


def format_of(filename: str | None, content_type: str | None = None) -> str:
    """Guess an upload's format from its file name, then its media type."""
    name = (filename or "").lower()
    for ext in ("csv.gz", "xlsx", "json", "csv"):
        if name.endswith("." + ext):
            return ext
    media = (content_type or "").split(";")[0].strip().lower()
    return {
        "application/json": "json",
        "application/gzip": "csv.gz",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    }.get(media, "csv")


def rows_to_csv(table: str, rows: object) -> bytes:
    """Turn a JSON array of row objects into CSV bytes (values kept as text)."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError(
            [
                RowError(
                    file=f"{table}.json",
                    row=None,
                    column=None,
                    message="expected a JSON array of objects, one per row",
                )
            ]
        )
    Budget().check_rows(len(rows), f"{table}.json")
    num_columns = len(set().union(*rows)) if rows else 0
    if num_columns > MAX_COLUMNS:  # column bomb: refuse before building the frame
        raise InputError(
            [
                RowError(
                    file=f"{table}.json",
                    row=None,
                    column=None,
                    message=f"rows have {num_columns} distinct keys; at most "
                    f"{MAX_COLUMNS} are accepted",
                )
            ]
        )
    frame = pd.DataFrame.from_records(rows)
    for name in frame.columns:
        frame[name] = frame[name].map(_cell)
    return frame.to_csv(index=False).encode()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_upload(folder: Path, upload: Upload, budget: Budget | None = None) -> Path:
    """Write an upload where the loader looks for it (``<table>.csv`` / ``.xlsx``), within
    the upload caps (decompressed bytes, rows: ``api.limits``)."""
    budget = budget or Budget()
    for ext in ("csv", "csv.gz", "xlsx"):
        (folder / f"{upload.table}.{ext}").unlink(missing_ok=True)
    content = upload.content
    if upload.format == "json":
        import json

        try:
            rows = json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(
                [
                    RowError(
                        file=f"{upload.table}.json",
                        row=None,
                        column=None,
                        message=f"not valid JSON ({exc})",
                    )
                ]
            ) from None
        content, ext = rows_to_csv(upload.table, rows), "csv"
    elif upload.format == "csv.gz":
        content = gunzip(content, file=f"{upload.table}.csv.gz", budget=budget)
        ext = "csv"
    else:
        ext = upload.format
    if ext == "csv":
        budget.check_rows(content.count(b"\n") - 1, f"{upload.table}.csv")
    path = folder / f"{upload.table}.{ext}"
    path.write_bytes(content)
    return path


def unzip_tables(content: bytes) -> list[Upload]:
    """The tables inside a zip of a territory folder (any sub-folder, known names only)."""
    archive = open_zip(content)
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise InputError(f"the zip archive unpacks to more than {MAX_UNZIPPED_BYTES >> 20} MiB")
    budget = Budget()  # declared sizes can lie: count what really comes out
    uploads = []
    for info in infos:
        base = Path(info.filename).name
        for ext in ("csv.gz", "csv", "xlsx", "json"):
            stem = base[: -len(ext) - 1] if base.lower().endswith("." + ext) else None
            if stem in TABLES:
                content = read_member(archive, info, budget=budget)
                uploads.append(Upload(table=stem, content=content, format=ext))
                break
    if not uploads:
        raise InputError("the zip archive holds no territory table (sites.csv, products.csv, …)")
    return uploads


def csv_of_valid(path: Path, valid_rows: set[int] | None = None) -> tuple[bytes, int]:
    """The file as CSV text, keeping only ``valid_rows`` (file line numbers) when given."""
    raw = read_raw(path)
    if path.name.split(".")[0] in TABLES:  # store French cells (12,5 ; 31/12/2025) as ISO
        raw = canonical(raw, TABLES[path.name.split(".")[0]])
    if valid_rows is not None:
        raw = raw.loc[raw["row"].isin(valid_rows)]
    return raw.drop(columns="row").to_csv(index=False).encode(), len(raw)
