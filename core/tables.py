"""Read and validate territory tables (CSV, gzipped CSV or Excel), cell by cell, vectorised.

Every problem is reported with the file, the line number (the header is line 1) and the
column. Strict reads raise one :class:`~core.errors.InputError` listing every problem;
lenient reads keep the valid rows and return the rejected ones with their reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputError, RowError
from core.schema import WEEKDAYS, Column, Table

EXTENSIONS = (".csv", ".csv.gz", ".xlsx")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$")
_TRUE = {"true", "1", "yes", "y", "oui", "vrai", "x"}
_FALSE = {"false", "0", "no", "n", "non", "faux", ""}
_MAX_ERRORS_PER_COLUMN = 1000


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


def read_raw(path: Path) -> pd.DataFrame:
    """Read a CSV/Excel file as strings, stripped, with the line number of each row."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            raw = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            raw = pd.read_csv(
                path, dtype=str, keep_default_na=False, skipinitialspace=True,
                sep=None if path.suffix == ".txt" else ",", engine="c",
            )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            [RowError(file=path.name, row=None, column=None,
                      message=f"cannot be read as a table ({first})")]
        ) from None
    raw.columns = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    raw = raw.apply(lambda s: s.str.strip())
    raw.insert(0, "row", np.arange(2, len(raw) + 2))
    return raw


def _parse_column(
    raw: pd.Series, col: Column
) -> tuple[pd.Series, pd.Series, str]:
    """Parse one column; return (values, bad mask, what was expected)."""
    empty = raw == ""
    if col.kind == "str":
        return raw, pd.Series(False, index=raw.index), "text"
    if col.kind in ("float", "int"):
        values = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce")
        bad = values.isna() & ~empty
        expected = "an integer" if col.kind == "int" else "a number"
        if col.kind == "int":
            bad |= values.notna() & (values != np.round(values))
        lo = -np.inf if col.min is None else col.min
        hi = np.inf if col.max is None else col.max
        out_of_range = values.notna() & ((values < lo) | (values > hi))
        if out_of_range.any():
            bad |= out_of_range
            bounds = []
            if col.min is not None:
                bounds.append(f">= {col.min:g}")
            if col.max is not None:
                bounds.append(f"<= {col.max:g}")
            expected += " " + " and ".join(bounds)
        return (values if col.kind == "int" else values.astype(float)), bad, expected
    if col.kind == "bool":
        low = raw.str.lower()
        bad = ~low.isin(_TRUE | _FALSE)
        return low.isin(_TRUE), bad, "true or false"
    if col.kind == "enum":
        low = raw.str.lower()
        bad = ~low.isin(col.choices) & ~empty
        return low, bad, "one of " + ", ".join(col.choices)
    if col.kind == "time":
        ok = raw.str.match(_TIME)
        bad = ~ok & ~empty
        parts = raw.where(ok, "0:0").str.split(":", expand=True)
        minutes = parts[0].astype(int) * 60 + parts[1].astype(int)
        return minutes.where(ok), bad, "a time HH:MM"
    if col.kind in ("date", "datetime"):
        values = pd.to_datetime(raw, errors="coerce", format="ISO8601")
        retry = values.isna() & ~empty
        if retry.any():  # French exports: 31/12/2025
            values[retry] = pd.to_datetime(raw[retry], errors="coerce", dayfirst=True,
                                           format="mixed")
        bad = values.isna() & ~empty
        expected = "a date YYYY-MM-DD" if col.kind == "date" else "a timestamp YYYY-MM-DDTHH:MM"
        if col.kind == "date":
            values = values.dt.normalize()
        return values, bad, expected
    if col.kind == "weekdays":
        low = raw.str.lower().str.replace(" ", "", regex=False)
        bad = ~low.str.fullmatch(rf"(({'|'.join(WEEKDAYS)})(,|$))*") & ~empty
        return low, bad, "weekdays like 'tue,fri'"
    raise ValueError(f"unknown column kind {col.kind!r}")


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
        raise InputError([
            RowError(file=file, row=1, column=name,
                     message="required column is missing (header is line 1; columns found: "
                     + ", ".join(c for c in raw.columns if c != "row") + ")")
            for name in missing
        ])
    parsed = pd.DataFrame({"row": raw["row"].to_numpy()}, index=raw.index)
    reasons = pd.Series("", index=raw.index, dtype=object)
    bad_column = pd.Series("", index=raw.index, dtype=object)

    def flag(mask: pd.Series, col: Column, message: str) -> None:
        mask = mask & (reasons == "")
        if not mask.any():
            return
        reasons[mask] = message
        bad_column[mask] = col.name
        for idx in mask[mask].index[:_MAX_ERRORS_PER_COLUMN]:
            errors.append(RowError(file=file, row=int(raw.at[idx, "row"]), column=col.name,
                                   message=message, value=raw.at[idx, col.name]))

    for col in table.columns:
        if col.name not in raw.columns:
            parsed[col.name] = col.default
            continue
        cells = raw[col.name].fillna("")
        empty = cells == ""
        values, bad, expected = _parse_column(cells, col)
        if col.required:
            flag(empty, col, "is empty; expected " + expected)
        flag(bad, col, "expected " + expected)
        if not col.required and col.default is not None and empty.any():
            values = values.astype(object).where(~empty, col.default)
            values = values.infer_objects()
        if col.ref and refs is not None and col.ref in refs:
            unknown = ~cells.isin(refs[col.ref]) & ~empty
            table_name, ref_col = col.ref.split(".")
            flag(unknown, col, f"unknown {ref_col} (not in {table_name})")
        if col.unique:
            dup = cells.duplicated(keep="first") & ~empty
            flag(dup, col, "duplicate id (must be unique)")
        parsed[col.name] = values
    keep = reasons == ""
    rejects = raw.loc[~keep].copy()
    rejects["column"] = bad_column[~keep]
    rejects["reason"] = reasons[~keep]
    extra = [c for c in raw.columns if c not in parsed.columns]
    valid = parsed.loc[keep].reset_index(drop=True)
    for name in extra:  # keep the user's extra columns untouched
        valid[name] = raw.loc[keep, name].to_numpy()
    return ReadResult(valid=valid, rejects=rejects.reset_index(drop=True),
                      errors=tuple(errors))


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
        raise InputError([RowError(file=str(path), row=None, column=None,
                                   message=f"file not found (expected the {table.name} table)")])
    result = validate(read_raw(path), table, file=path.name, refs=refs)
    if strict and result.errors:
        raise InputError(list(result.errors))
    return result
