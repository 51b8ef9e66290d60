"""Read and validate territory tables (CSV, gzipped CSV or Excel), cell by cell, vectorised.

Every problem is reported with the file, the line number (the header is line 1) and the
column. Strict reads raise one :class:`~core.errors.InputError` listing every problem;
lenient reads keep the valid rows and return the rejected ones with their reasons.
"""

from __future__ import annotations

import codecs
import gzip
import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import numpy as np
import pandas as pd

from core.cells import (  # noqa: F401  (DATE_MIN, DATE_MAX: the dates' range, re-exported)
    DATE_MAX,
    DATE_MIN,
    FR_DATE,
    mask,
    parse_column,
    parse_dates,
    strings,
)
from core.errors import InputError, InputTooLarge, RowError
from core.safety import short_repr
from core.schema import Column, Table

EXTENSIONS = (".csv", ".csv.gz", ".xlsx")
_MAX_ERRORS_PER_COLUMN = 1000
try:  # calamine (Rust) reads sheets ~10× faster than openpyxl, with the same cell text
    import python_calamine

    _EXCEL_ENGINE = "calamine"
    _EXCEL_ERRORS: tuple[type[Exception], ...] = (python_calamine.CalamineError,)
except ImportError:  # pragma: no cover - optional speed-up
    _EXCEL_ENGINE, _EXCEL_ERRORS = "openpyxl", ()
#: No table has more than 15 columns; wider files are refused before parsing (column bombs).
MAX_COLUMNS = 64
#: What an .xlsx may unpack to (≈ 250,000 order rows): parsing sheet XML is slow, so bigger
#: tables come as CSV.
MAX_XLSX_BYTES = 64 * 1024 * 1024
#: What a local ``.csv.gz`` may unpack to (uploads have their own, smaller caps: api.limits).
MAX_GZIP_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A parsed table: valid rows, and the rejected rows with one reason each."""

    valid: pd.DataFrame  # parsed columns + ``row`` (line number in the file)
    rejects: pd.DataFrame  # raw columns + ``row``, ``column``, ``reason``
    errors: tuple[RowError, ...]


def find_table_file(folder: Path, table: Table) -> Path | None:
    """Return the file holding ``table`` in ``folder`` (any supported extension), or None."""
    for ext in EXTENSIONS:
        path = folder / f"{table.name}{ext}"
        if path.exists():
            return path
    return None


def read_raw(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read a CSV/Excel file as strings, stripped, with the line number of each row.

    CSV files may come from French spreadsheets: the encoding (UTF-8 with or without BOM,
    UTF-16, cp1252) and the separator (``,`` ``;`` or tab) are detected. A file with more than
    :data:`MAX_COLUMNS` columns is refused before it is parsed. ``name`` is the file name shown
    in errors (defaults to the file's own name; never its folder).
    """
    path = Path(path)
    name = name or path.name
    lower = path.name.lower()
    try:
        if lower.endswith((".xlsx", ".xlsm")):
            raw = _read_excel(path, name)
        else:
            if lower.endswith(".gz"):
                with gzip.open(path, "rb") as fh:
                    data = fh.read(MAX_GZIP_BYTES + 1)
                if len(data) > MAX_GZIP_BYTES:
                    raise InputError(
                        f"{name}: unpacks to more than {MAX_GZIP_BYTES >> 20} MiB (a compression "
                        "bomb, or a table to split)"
                    )
            else:
                data = path.read_bytes()
            text, _ = decode_text(data, name)
            sep = sniff_separator(text)
            _check_width(text, sep, name)
            simple = _simple_csv(text, sep)
            if simple is not None:
                return simple
            raw = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                sep=sep,
                engine="c",
            )
    except InputError:
        raise
    except (
        pd.errors.ParserError,
        ValueError,
        OSError,
        EOFError,
        KeyError,
        IndexError,
        RuntimeError,
        struct.error,
        zipfile.BadZipFile,
        *_EXCEL_ERRORS,
    ) as exc:
        # a damaged .xlsx (zip) raises any of these; NotImplementedError is a RuntimeError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        first = first.replace(str(path), name).replace(str(path.parent), "")
        raise InputError(
            [
                RowError(
                    file=name,
                    row=None,
                    column=None,
                    message=f"cannot be read as a table ({short_repr(first, 200)})",
                )
            ]
        ) from None
    names = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    return _numbered(names, [_stripped(raw.iloc[:, i]) for i in range(len(names))], raw.index)


def _numbered(names: list[str], columns: list[Any], index: pd.Index) -> pd.DataFrame:
    """The raw table: ``row`` (each row's line in the file, the header being line 1), then
    ``columns`` under ``names`` (duplicates kept)."""
    out = pd.DataFrame(dict(enumerate([np.arange(2, len(index) + 2), *columns])), index=index)
    out.columns = pd.Index(["row", *names])
    return out


#: Up to this size, a CSV without quotes is split in Python: pandas' ``read_csv`` costs
#: ≈ 1.3 ms per call whatever the size, several times the splitting of a small table.
_SIMPLE_MAX_CHARS = 1 << 16


def _simple_csv(text: str, sep: str) -> pd.DataFrame | None:
    """What :func:`read_raw` makes of a small CSV with nothing pandas' C parser treats
    specially: no quote, carriage return, NUL or BOM, a header of distinct non-empty names,
    every other line empty (skipped, as pandas does) or with exactly the header's fields.
    None for any other text, which pandas then reads."""
    if len(text) > _SIMPLE_MAX_CHARS or any(c in text for c in '"\r\x00\ufeff'):
        return None
    lines = text.split("\n")
    names = [field.strip() for field in lines[0].split(sep)]
    if "" in names or len(set(names)) < len(names):
        return None  # pandas names them "Unnamed: 0", "a.1"
    rows = []
    for line in lines[1:]:
        if not line:
            continue
        fields = line.split(sep)
        if len(fields) != len(names) or line.isspace():
            return None  # ragged rows, blank-looking lines: pandas' rules
        rows.append(fields)
    columns = [strings(fields[i].strip() for fields in rows) for i in range(len(names))]
    return _numbered(names, columns, pd.RangeIndex(len(rows)))


def _stripped(column: pd.Series) -> Any:
    """The cells without surrounding blanks (a plain loop when all are text: pandas'
    ``str.strip`` loops in Python as well, with more overhead per call)."""
    cells = column.to_numpy(dtype=object)
    if all(type(cell) is str for cell in cells):
        return strings(cell.strip() for cell in cells)
    return column.str.strip()


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode a CSV's bytes: BOMs first, then UTF-16 without BOM, UTF-8, else cp1252."""
    boms = {
        codecs.BOM_UTF8: "utf-8-sig",
        codecs.BOM_UTF16_LE: "utf-16",
        codecs.BOM_UTF16_BE: "utf-16",
    }
    encoding = next((enc for bom, enc in boms.items() if data.startswith(bom)), None)
    if encoding is None:
        head = data[:4096]
        if len(head) >= 4 and head[1::2].count(0) > len(head) // 4:
            encoding = "utf-16-le"  # ASCII-range text with every other byte NUL
        elif len(head) >= 4 and head[0::2].count(0) > len(head) // 4:
            encoding = "utf-16-be"
        else:
            try:
                return data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                # Excel/LibreOffice "CSV" on Windows: cp1252 (latin-1 for its 5 holes)
                best = charset_normalizer.from_bytes(
                    data[:65536], cp_isolation=["cp1252", "latin_1"]
                ).best()
                encoding = best.encoding if best is not None else "cp1252"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            [
                RowError(
                    file=name,
                    row=line,
                    column=None,
                    message=f"cannot be decoded as {encoding} (byte "
                    f"{exc.object[exc.start]:#04x}); save the file as UTF-8 "
                    "or Windows-1252 CSV",
                )
            ]
        ) from None


def sniff_separator(text: str) -> str:
    """The separator of the header line: ``;`` (French Excel), tab or ``,``."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _check_width(text: str, sep: str, name: str) -> None:
    """Refuse a header with more columns than any table could use (column bombs)."""
    header = text.split("\n", 1)[0]
    num_columns = header.count(sep) + 1
    if num_columns > MAX_COLUMNS:
        raise InputError(
            [
                RowError(
                    file=name,
                    row=1,
                    column=None,
                    message=f"has {num_columns} columns; at most {MAX_COLUMNS} "
                    "are accepted (the tables have at most 15)",
                )
            ]
        )


def _read_excel(path: Path, name: str) -> pd.DataFrame:
    """Read the first sheet; refuse archives that unpack to more than MAX_XLSX_BYTES."""
    with zipfile.ZipFile(path) as archive:  # an .xlsx is a zip: check before unpacking
        unpacked = sum(i.file_size for i in archive.infolist())
    if unpacked > MAX_XLSX_BYTES:
        raise InputTooLarge(
            [
                RowError(
                    file=name,
                    row=None,
                    column=None,
                    message=f"unpacks to {unpacked >> 20} MiB; at most "
                    f"{MAX_XLSX_BYTES >> 20} MiB are accepted",
                )
            ]
        )
    raw = pd.read_excel(path, dtype=str, keep_default_na=False, engine=_EXCEL_ENGINE)
    if raw.shape[1] > MAX_COLUMNS:
        raise InputError(
            [
                RowError(
                    file=name,
                    row=1,
                    column=None,
                    message=f"has {raw.shape[1]} columns; at most {MAX_COLUMNS} are accepted",
                )
            ]
        )
    return raw


def canonical(raw: pd.DataFrame, table: Table) -> pd.DataFrame:
    """A copy of raw cells with French forms rewritten the canonical way where they parse:
    ``31/12/2025`` → ``2025-12-31``, ``1 234,5`` → ``1234.5`` (what the API stores)."""
    out = raw.copy()
    for col in table.columns:
        if col.name not in out.columns:
            continue
        cells = out[col.name].fillna("").astype(str)
        if col.kind in ("float", "int"):
            text = cells.str.replace(r"[ \u00a0\u202f]", "", regex=True).str.replace(
                ",", ".", regex=False
            )
            french = (text != cells) & pd.to_numeric(text, errors="coerce").notna()
            out.loc[french, col.name] = text[french]
        elif col.kind in ("date", "datetime"):
            french = cells.str.match(FR_DATE)
            if french.any():
                values, bad, _ = parse_dates(cells, cells == "", col)
                ok = french & ~bad
                fmt = "%Y-%m-%d" if col.kind == "date" else "%Y-%m-%dT%H:%M:%S"
                out.loc[ok, col.name] = values[ok].dt.strftime(fmt)
    return out


def validate(
    raw: pd.DataFrame,
    table: Table,
    *,
    file: str,
    refs: dict[str, set[str]] | None = None,
) -> ReadResult:
    """Validate and parse a raw table; ``refs`` maps "table.column" to the allowed ids."""
    errors: list[RowError] = []
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    if missing:
        raise InputError(
            [
                RowError(
                    file=file,
                    row=1,
                    column=name,
                    message="required column is missing (header is line 1; columns found: "
                    + ", ".join(c for c in raw.columns if c != "row")
                    + ")",
                )
                for name in missing
            ]
        )
    rows = raw["row"].to_numpy()
    parsed: dict[str, Any] = {"row": rows}
    rejected = np.zeros(len(raw), dtype=bool)
    reasons = np.full(len(raw), "", dtype=object)
    bad_column = np.full(len(raw), "", dtype=object)

    def flag(mask: np.ndarray, col: Column, message: str, cells: np.ndarray) -> None:
        mask = mask & ~rejected
        if not mask.any():
            return
        rejected[mask] = True
        reasons[mask] = message
        bad_column[mask] = col.name
        for idx in np.flatnonzero(mask)[:_MAX_ERRORS_PER_COLUMN]:
            errors.append(
                RowError(
                    file=file,
                    row=int(rows[idx]),
                    column=col.name,
                    message=message,
                    value=cells[idx],
                )
            )

    for col in table.columns:
        if col.name not in raw.columns:
            parsed[col.name] = col.default  # broadcast by the frame, as a column assignment
            continue
        given = raw[col.name].to_numpy(dtype=object)
        missing = pd.isna(given)
        cells = given
        if missing.any():
            cells = given.copy()
            cells[missing] = ""
        empty = cells == ""
        values, bad, expected = parse_column(cells, empty, col)
        if col.required:
            flag(empty, col, "is empty; expected " + expected, given)
        flag(bad, col, "expected " + expected, given)
        if not col.required and col.default is not None and empty.any():
            with_default = pd.Series(values).astype(object).where(~empty, col.default)
            values = with_default.infer_objects().to_numpy()
        if col.ref and refs is not None and col.ref in refs:
            known = refs[col.ref]
            unknown = mask(s not in known for s in cells) & ~empty
            table_name, ref_col = col.ref.split(".")
            flag(unknown, col, f"unknown {ref_col} (not in {table_name})", given)
        if col.unique:
            dup = pd.Series(cells).duplicated(keep="first").to_numpy() & ~empty
            flag(dup, col, "duplicate id (must be unique)", given)
        parsed[col.name] = values
    frame = pd.DataFrame(parsed, index=raw.index)
    keep = ~rejected
    rejects = raw.loc[rejected].copy()
    rejects["column"] = bad_column[rejected]
    rejects["reason"] = reasons[rejected]
    extra = [c for c in raw.columns if c not in frame.columns]
    valid = (frame if keep.all() else frame.loc[keep]).reset_index(drop=True)
    for name in extra:  # keep the user's extra columns untouched
        valid[name] = raw[name].to_numpy()[keep]
    return ReadResult(valid=valid, rejects=rejects.reset_index(drop=True), errors=tuple(errors))


def read_table(
    path: Path,
    table: Table,
    *,
    refs: dict[str, set[str]] | None = None,
    strict: bool = True,
) -> ReadResult:
    """Read ``path`` as ``table``; raise InputError on any bad row when ``strict``."""
    path = Path(path)
    if not path.exists():
        raise InputError(
            [
                RowError(
                    file=path.name,
                    row=None,
                    column=None,
                    message=f"file not found (expected the {table.name} table)",
                )
            ]
        )
    result = validate(read_raw(path), table, file=path.name, refs=refs)
    if strict and result.errors:
        raise InputError(list(result.errors))
    return result
