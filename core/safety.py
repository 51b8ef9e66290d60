"""Guards for data that becomes a file name, a spreadsheet cell or an error message.

Ids read from data are *data*: a path is only ever built from an id that matches
:data:`ID_PATTERN`, and :func:`safe_path` checks that the result resolves inside its folder
(defence in depth). :func:`neutralise_csv` defuses spreadsheet formulas in the CSV files we
write (OWASP "CSV injection"); :func:`short_repr` keeps error messages small.
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import IO, Any

import pandas as pd

from core.errors import InputError, RowError

#: Every id column of every table (sites, producers, products, crops, vehicles, households…).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ID_RULE = (
    "an id: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit, without '..'"
)
_ID = re.compile(ID_PATTERN)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_SHOWN_CHARS = 80


def is_id(value: object) -> bool:
    """Whether ``value`` is a valid id (see :data:`ID_PATTERN`)."""
    return isinstance(value, str) and bool(_ID.match(value)) and ".." not in value


def safe_path(folder: Path | str, *parts: str, suffix: str = "") -> Path:
    """``folder / part1_part2…suffix``, refusing anything that is not a plain name inside it.

    Each part must be an id (:func:`is_id`); the joined name may not leave ``folder`` once
    resolved (symbolic links included). Raise :class:`InputError` otherwise.
    """
    root = Path(folder).resolve()
    bad = [p for p in parts if not is_id(str(p))]
    if bad or not parts:
        raise InputError(
            [
                RowError(
                    file="output",
                    row=None,
                    column=None,
                    message=f"cannot name a file after this value; expected {ID_RULE}",
                    value=short_repr(bad[0] if bad else ""),
                )
            ]
        )
    path = (root / ("_".join(str(p) for p in parts) + suffix)).resolve()
    if path.parent != root:
        raise InputError(
            [
                RowError(
                    file="output",
                    row=None,
                    column=None,
                    message="file name would leave the output folder",
                    value=short_repr(path.name),
                )
            ]
        )
    return path


def neutralise_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'`` (OWASP)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def is_text_column(column: pd.Series) -> bool:
    """Whether :func:`neutralise_csv` neutralises the cells of ``column`` (object or string)."""
    return column.dtype == object or pd.api.types.is_string_dtype(column)


def neutralise_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot start a formula (numbers are untouched)."""
    out = frame.copy()
    for name in out.columns:
        if is_text_column(out[name]):
            out[name] = out[name].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path_or_buffer: Path | str | IO[str], **kwargs: Any) -> None:
    """Write ``frame`` as CSV with formula-looking text cells neutralised."""
    neutralise_csv(frame).to_csv(path_or_buffer, **kwargs)


_TEMP_DIRS = sorted({tempfile.gettempdir(), "/tmp", "/var/tmp"}, key=len, reverse=True)
_TEMP_PATH = re.compile("(?:" + "|".join(re.escape(d) for d in _TEMP_DIRS) + r")/[^\s'\"]*")


def scrub_paths(text: str | None) -> str | None:
    """Replace temporary paths (``/tmp/vivres-job-x1/out/plan.csv``) by their file name."""
    if not text:
        return text
    return _TEMP_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def short_repr(value: object, limit: int = MAX_SHOWN_CHARS) -> object:
    """``value`` made safe to echo: non-finite floats as text, long values cut to ``limit``."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        return text[:limit] + f"… ({len(text)} characters)"
    return text
