"""Parse the cells of one table column: numbers, dates, times, ids, booleans, enums.

Each parser takes the column's stripped strings as a plain array and returns the parsed
values, which cells are bad, and what was expected (for the error message). They loop over
the cells in Python as pandas' string methods do, without their per-call overhead: most
tables are small, and a test suite loads them hundreds of times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from core.columns import WEEKDAYS, Column
from core.safety import ID_PATTERN, ID_RULE

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$")
_TRUE = {"true", "1", "yes", "y", "oui", "vrai", "x"}
_FALSE = {"false", "0", "no", "n", "non", "faux", ""}
_BOOL = _TRUE | _FALSE
_ID_BODY = re.compile(ID_PATTERN.strip("^$"))
_WEEKDAYS = re.compile(rf"(({'|'.join(WEEKDAYS)})(,|$))*")
#: the UTC offset an ISO date or timestamp may end with (dropped: local time as written)
_UTC_OFFSET = r"([+-]\d{2}:?\d{2}|Z)"
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?" + _UTC_OFFSET + "?$"
)
#: dd/mm/yyyy, or dd/mm/yy as French LibreOffice/Excel write by default (Excel's two-digit
#: year window: 00-29 = 20yy, 30-99 = 19yy)
FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})( \d{1,2}:\d{2}(:\d{2})?)?$")
#: Dates any real business could have: from 1900 to 2099 (``vivres check`` and the demand
#: stage use the same range; pandas itself stops at 1677 and 2262).
DATE_MIN = pd.Timestamp("1900-01-01")
DATE_MAX = pd.Timestamp("2100-01-01")


def parse_column(cells: np.ndarray, empty: np.ndarray, col: Column) -> tuple[Any, np.ndarray, str]:
    """Parse one column of stripped strings; return (values, bad mask, what was expected).

    Works on plain arrays, cell by cell: pandas' string methods loop in Python too, and
    their per-call overhead dominated the small tables every test loads.
    """
    if col.kind == "str":
        return cells, np.zeros(len(cells), dtype=bool), "text"
    if col.kind == "id":
        ok = mask(bool(_ID_BODY.fullmatch(s)) and ".." not in s for s in cells)
        return cells, ~ok & ~empty, ID_RULE
    if col.kind in ("float", "int"):
        return _parse_number(cells, empty, col)
    if col.kind == "bool":
        low = [s.lower() for s in cells]
        bad = mask(s not in _BOOL for s in low)
        return mask(s in _TRUE for s in low), bad, "true or false"
    if col.kind == "enum":
        low_cells = strings(s.lower() for s in cells)
        bad = mask(s not in col.choices for s in low_cells) & ~empty
        return low_cells, bad, "one of " + ", ".join(col.choices)
    if col.kind == "time":
        matches = [_TIME.match(s) for s in cells]
        ok = mask(m is not None for m in matches)
        minutes = np.array(
            [int(m[1]) * 60 + int(m[2]) if m else 0 for m in matches], dtype=np.int64
        )
        if not ok.all():  # as Series.where: NaN where the time is bad
            minutes = np.where(ok, minutes, np.nan)
        return minutes, ~ok & ~empty, "a time HH:MM"
    if col.kind in ("date", "datetime"):
        series = pd.Series(cells, dtype=object)
        values, bad, expected = parse_dates(series, pd.Series(empty), col)
        return values.to_numpy(), bad.to_numpy(dtype=bool), expected
    if col.kind == "weekdays":
        low_cells = strings(s.lower().replace(" ", "") for s in cells)
        bad = mask(_WEEKDAYS.fullmatch(s) is None for s in low_cells) & ~empty
        return low_cells, bad, "weekdays like 'tue,fri'"
    raise ValueError(f"unknown column kind {col.kind!r}")


def mask(flags: Iterable[bool]) -> np.ndarray:
    """A boolean array of the flags, one per cell."""
    return np.fromiter(flags, dtype=bool)


def strings(cells: Iterable[str]) -> np.ndarray:
    """An object array of the strings (``np.array`` would make a fixed-width str array)."""
    out = list(cells)
    array = np.empty(len(out), dtype=object)
    array[:] = out
    return array


def _parse_number(cells: np.ndarray, empty: np.ndarray, col: Column) -> tuple[Any, np.ndarray, str]:
    """Numbers, French spreadsheets' forms too: 1 234,5 (spaces, no-break spaces as
    thousands, decimal comma); nan, inf and 1e309 are bad."""
    text = strings(
        s.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace(",", ".")
        for s in cells
    )
    values = pd.to_numeric(text, errors="coerce")
    finite = np.isfinite(values.astype(float))
    if not finite.all():  # as Series.where: NaN where not finite
        values = np.where(finite, values, np.nan)
    missing = np.isnan(values.astype(float))
    bad = missing & ~empty
    expected = "an integer" if col.kind == "int" else "a number"
    if col.kind == "int":
        bad |= ~missing & (values != np.round(values))
    lo = -np.inf if col.min is None else col.min
    hi = np.inf if col.max is None else col.max
    with np.errstate(invalid="ignore"):
        out_of_range = ~missing & ((values < lo) | (values > hi))
    if out_of_range.any():
        bad |= out_of_range
        bounds = []
        if col.min is not None:
            bounds.append(f">= {col.min:g}")
        if col.max is not None:
            bounds.append(f"<= {col.max:g}")
        expected += " " + " and ".join(bounds)
    return (values if col.kind == "int" else values.astype(float)), bad, expected


def parse_dates(raw: pd.Series, empty: pd.Series, col: Column) -> tuple[pd.Series, pd.Series, str]:
    """ISO ``2025-12-31`` or French ``31/12/2025``: never the US order, never a guess.

    ``2025-13-01`` and ``12/31/2025`` are errors, not re-read as another date. An ISO UTC
    offset (``+01:00``, ``Z``) is dropped: the date and time are taken as written, as the
    DFC import does — ``2025-03-03T00:00+01:00`` is 3 March, and a file whose times cross a
    summer-time change (``+01:00`` then ``+02:00``) reads as its users wrote it.
    """
    iso = raw.str.match(_ISO_DATE)
    french = raw.str.match(FR_DATE)
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if iso.any():
        as_written = raw[iso].str.replace(_UTC_OFFSET + "$", "", regex=True)
        values[iso] = pd.to_datetime(as_written, errors="coerce", format="ISO8601")
    if french.any():
        parts = raw[french].str.extract(FR_DATE)
        two = parts[2].str.len() == 2
        year = parts[2].mask(two & (parts[2] < "30"), "20" + parts[2])
        year = year.mask(two & (parts[2] >= "30"), "19" + parts[2])
        day_first = (
            year
            + "-"
            + parts[1].str.zfill(2)
            + "-"
            + parts[0].str.zfill(2)
            + parts[3].fillna("").str.replace(" ", "T")
        )
        values[french] = pd.to_datetime(day_first, errors="coerce", format="ISO8601")
    bad = values.isna() & ~empty
    out_of_range = (values < DATE_MIN) | (values >= DATE_MAX)
    values = values.where(~out_of_range)
    bad |= out_of_range
    span = f" from {DATE_MIN.year} to {DATE_MAX.year - 1}"
    if col.kind == "date":
        return values.dt.normalize(), bad, "a date YYYY-MM-DD or DD/MM/YYYY" + span
    return values, bad, "a timestamp YYYY-MM-DDTHH:MM or DD/MM/YYYY HH:MM" + span
