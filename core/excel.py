"""Spreadsheet twins of the tables users open: an ``.xlsx`` beside each such CSV, with typed
cells (numbers as numbers, dates as dates), a bold frozen header and fitted column widths, so
French Excel and LibreOffice open it without any import dialog.

XlsxWriter writes them (≈ 3× faster than openpyxl for the small tables vivres writes); each cell
goes through the writer method of its type, so no text ever becomes a formula, a number or a
link, and the same table gives the same file, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from core.safety import is_text_column, neutralise_cell

MAX_WIDTH = 60

#: One date for every workbook: the same table gives the same file, byte for byte (XlsxWriter
#: writes the document's dates from it and gives every zip entry the fixed date 1980-01-01).
_STAMP = dt.datetime(2000, 1, 1)

_OPTIONS = {
    "in_memory": True,  # no temporary files; fixed zip entry dates
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}
_DATE = "yyyy-mm-dd"
_DATETIME = "yyyy-mm-dd h:mm:ss"
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


def _cell(value: object) -> object:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None  # an empty cell, as in the CSV (never the text "NaT" or "<NA>")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # ±inf: an empty cell, as openpyxl wrote them
    if isinstance(value, bool | int | float | str | dt.date | dt.datetime):
        return value
    return str(value)


def _sheet_name(sheet: str) -> str:
    """``sheet`` as Excel accepts it: no ``[]:*?/\\``, no edge ``'``, ≤ 31 UTF-16 units."""
    name = _NOT_IN_SHEET_NAMES.sub("_", sheet).strip("'")
    while len(name.encode("utf-16-le")) > 62:
        name = name[:-1]
    return name or "feuille"


def write_xlsx(frame: pd.DataFrame, path: Path | str, *, sheet: str = "feuille") -> Path:
    """Write ``frame`` as a one-sheet workbook (formula-looking text neutralised)."""
    import xlsxwriter

    path = Path(path)
    book = xlsxwriter.Workbook(str(path), _OPTIONS)
    book.set_properties({"created": _STAMP})
    bold = book.add_format({"bold": True})
    as_date = book.add_format({"num_format": _DATE})
    as_datetime = book.add_format({"num_format": _DATETIME})
    ws = book.add_worksheet(_sheet_name(sheet))
    for col, (column, series) in enumerate(frame.items()):
        ws.write_string(0, col, str(neutralise_cell(str(column))), bold)
        values = series.tolist()
        text = is_text_column(series)  # the cells neutralise_csv neutralises in the CSV
        for row, raw in enumerate(values, start=1):
            value = _cell(neutralise_cell(raw) if text else raw)
            if value is None or value == "":
                continue  # empty, as openpyxl left "" (not an empty text cell)
            if isinstance(value, str):
                ws.write_string(row, col, value)
            elif isinstance(value, bool):
                ws.write_boolean(row, col, value)
            elif isinstance(value, int | float):
                ws.write_number(row, col, value)
            elif isinstance(value, dt.datetime):
                ws.write_datetime(row, col, value, as_datetime)
            else:  # a date
                ws.write_datetime(row, col, value, as_date)
        texts = [str(column)] + [str(v) for v in values[:500]]
        ws.set_column(col, col, min(MAX_WIDTH, max(len(t) for t in texts) + 2))
    ws.freeze_panes(1, 0)
    try:
        book.close()
    except xlsxwriter.exceptions.FileCreateError as exc:
        # XlsxWriter wraps the system's error: give it back as the OSError it is (the CLI
        # names the file; a twin open in Excel is a PermissionError)
        cause = exc.args[0] if exc.args else None
        raise (cause if isinstance(cause, OSError) else OSError(str(exc))) from None
    return path


def xlsx_twin(frame: pd.DataFrame, csv_path: Path | str) -> Path:
    """The ``.xlsx`` twin of a CSV just written from ``frame`` (same folder and name)."""
    csv_path = Path(csv_path)
    return write_xlsx(frame, csv_path.with_suffix(".xlsx"), sheet=csv_path.stem)
