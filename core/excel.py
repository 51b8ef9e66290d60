"""Spreadsheet twins of the tables users open: an ``.xlsx`` beside each such CSV, with typed
cells (numbers as numbers, dates as dates), a bold frozen header and fitted column widths, so
French Excel and LibreOffice open it without any import dialog."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from core.safety import neutralise_csv

MAX_WIDTH = 60


def _cell(value: object) -> object:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None  # an empty cell, as in the CSV (never the text "NaT" or "<NA>")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, bool | int | float | str | dt.date | dt.datetime):
        return value
    return str(value)


def write_xlsx(frame: pd.DataFrame, path: Path | str, *, sheet: str = "feuille") -> Path:
    """Write ``frame`` as a one-sheet workbook (formula-looking text neutralised)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in neutralise_csv(frame).itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for i, column in enumerate(frame.columns, start=1):
        texts = [str(column)] + [str(v) for v in frame[column].head(500)]
        ws.column_dimensions[get_column_letter(i)].width = min(
            MAX_WIDTH, max(len(t) for t in texts) + 2
        )
    ws.freeze_panes = "A2"
    _save_repeatable(book, path)
    return path


#: One date for every workbook: the same table gives the same file, byte for byte.
_STAMP = dt.datetime(2000, 1, 1)


def _save_repeatable(book: object, path: Path) -> None:
    """Save without the time of saving (openpyxl stamps the document and its zip entries)."""
    book.properties.created = _STAMP  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    book.save(buffer)  # type: ignore[attr-defined]
    stamp = _STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>" + stamp + rb"\g<3>",
                    data,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)


def xlsx_twin(frame: pd.DataFrame, csv_path: Path | str) -> Path:
    """The ``.xlsx`` twin of a CSV just written from ``frame`` (same folder and name)."""
    csv_path = Path(csv_path)
    return write_xlsx(frame, csv_path.with_suffix(".xlsx"), sheet=csv_path.stem)
