"""Paging and filtering stored CSV results without recomputing them."""

from __future__ import annotations

import json
import math

import pandas as pd

from api.http.deps import Paging, ResultCache
from core.csvio import read_csv_any


def frame_of(cache: ResultCache, key: tuple, content: bytes) -> pd.DataFrame:
    """Parse stored CSV bytes once; later calls get the cached frame."""
    frame = cache.get(("frame", *key))
    if frame is None:
        # French (;, decimal comma, BOM) or English user CSVs, and machine CSVs alike
        frame = read_csv_any(content, dtype=str, keep_default_na=False)
        cache.put(("frame", *key), frame, len(content) * 3)
    return frame


def page(frame: pd.DataFrame, filters: dict[str, str | None], rows: Paging) -> dict:
    """Rows matching every given filter (exact match on text), one page of them."""
    for column, value in filters.items():
        if value is not None and column in frame.columns:
            frame = frame.loc[frame[column] == value]
    limit, offset = rows.limit, rows.offset
    chosen = frame.iloc[offset : offset + limit]
    items = json.loads(chosen.to_json(orient="records", force_ascii=False)) if len(chosen) else []
    return {
        "items": [{k: _num(v) for k, v in r.items()} for r in items],
        "total": len(frame),
        "limit": limit,
        "offset": offset,
    }


def _num(value):
    """Numbers read back as numbers; everything else stays text."""
    if not isinstance(value, str) or not value:
        return value
    if len(value) > 1 and value[0] == "0" and value[1] != ".":
        return value  # an id like "007" stays an id
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number) or value.strip() != value:
        return value
    return (
        int(number)
        if number.is_integer() and "." not in value and "e" not in value.lower()
        else number
    )
