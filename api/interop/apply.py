"""Write what a source yields into the territory's own tables, through the territory's checks.

An :class:`Extract` (rows per table, order lines keyed by the source's order, what could not
be mapped) is merged into a copy of the territory: master rows are upserted by their id,
availability rows by week × site × product, and order lines replace the lines the same source
order brought last time (``interop/<source>_orders.csv`` remembers them), so a second import
updates instead of duplicating. The copy is then loaded with :func:`core.territory.load_territory`
— the same validation as ``vivres check`` — and only when it passes are the changed files
copied back (unless ``dry_run``).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from api.interop.mapping import Mapping
from core.errors import InputError
from core.safety import neutralise_cell
from core.schema import TABLES
from core.tables import find_table_file, read_raw
from core.territory import load_territory

#: The key each upserted table is matched on.
KEYS = {
    "sites": ("site_id",),
    "producers": ("producer_id",),
    "products": ("product_id",),
    "availability": ("week_start", "site_id", "product_id"),
}
ORDER_COLUMNS = ("date", "site_id", "product_id", "quantity", "unit", "unit_price_eur")


@dataclass(frozen=True, slots=True, kw_only=True)
class Extract:
    """What one payload yields, before it touches the territory."""

    source: str
    found: dict[str, int]  # producers, products, orders seen in the payload
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)  # table -> rows to upsert
    orders: pd.DataFrame | None = None  # ORDER_COLUMNS + order_key
    unmapped: list[dict[str, str]] = field(default_factory=list)  # {"@id", "type", "why"}
    unknown_types: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def apply(
    extract: Extract, folder: Path, mapping: Mapping, *, dry_run: bool = False
) -> dict[str, Any]:
    """Merge ``extract`` into the territory in ``folder``; return the import report.

    Raise :class:`InputError` (naming the file, row and column) when the merged territory
    does not pass the territory's checks; nothing is written then.
    """
    folder = Path(folder)
    with tempfile.TemporaryDirectory(prefix="vivres-import-") as tmp:
        work = Path(tmp) / "territory"
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns("out", ".*"))
        written: dict[str, int] = {}
        for table, rows in extract.rows.items():
            if len(rows):
                written[table] = _upsert(work, table, rows)
        ledger = None
        if extract.orders is not None and len(extract.orders):
            ledger = _replace_orders(work, extract.source, extract.orders)
            written["orders"] = len(extract.orders)
        load_territory(work, strict=True)  # the same checks as `vivres check`
        if mapping.entries():
            mapping.write(work)
        if ledger is not None:
            write_table(ledger, _ledger_path(work, extract.source))
        changed = _changed(folder, work)
        if not dry_run:
            for rel in changed:
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                staged = target.with_name(target.name + ".importing")
                shutil.copyfile(work / rel, staged)
                staged.replace(target)
    return {
        "source": extract.source,
        "dry_run": dry_run,
        **{k: int(v) for k, v in extract.found.items()},
        "rows": written,
        "unmapped": extract.unmapped,
        "unknown_types": dict(sorted(extract.unknown_types.items())),
        "notes": extract.notes,
        "changed_files": [] if dry_run else changed,
        "would_change": changed if dry_run else [],
    }


def _table_path(folder: Path, table: str) -> Path:
    path = find_table_file(folder, TABLES[table])
    if path is None:
        return folder / f"{table}.csv"
    if path.suffix != ".csv":
        raise InputError.of_file(
            path.name, "imports write .csv tables; convert this file to .csv first"
        )
    return path


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    return read_raw(path).drop(columns="row")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        out[name] = out[name].map(_cell)
    return out


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.12g}"  # 12 significant digits: kilos to the gram up to 10^8
    if isinstance(value, pd.Timestamp):
        return str(value.date().isoformat())
    return str(value)


def _upsert(folder: Path, table: str, rows: pd.DataFrame) -> int:
    """Upsert ``rows`` into ``table`` by its key; columns the rows lack keep their values."""
    path = _table_path(folder, table)
    current = _read(path)
    new = _as_text(rows)
    key = list(KEYS[table])
    if current.empty:
        merged = new
    else:
        for name in new.columns:
            if name not in current.columns:
                current[name] = ""
        index = current.set_index(key).index
        new_index = new.set_index(key).index
        hit = new_index.isin(index)
        updated = current.set_index(key)
        for name in new.columns:
            if name in key:
                continue
            updated.loc[new_index[hit], name] = new.loc[hit, name].to_numpy()
        merged = pd.concat([updated.reset_index(), new.loc[~hit]], ignore_index=True)
        merged = merged[list(current.columns)]
    write_table(merged, path)
    return len(rows)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a territory table of text cells: text that a spreadsheet would run as a formula is
    neutralised (as :func:`core.safety.write_csv` does), numbers such as ``-1.58`` are kept."""
    safe = frame.map(lambda v: v if _is_number(v) else neutralise_cell(v))
    safe.columns = [str(neutralise_cell(str(c))) for c in frame.columns]
    safe.to_csv(path, index=False)


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _ledger_path(folder: Path, source: str) -> Path:
    return folder / "interop" / f"{source}_orders.csv"


def _replace_orders(folder: Path, source: str, orders: pd.DataFrame) -> pd.DataFrame:
    """Drop the lines the same source orders brought last time, append the new ones; return
    the updated ledger (order_key + order columns)."""
    path = _table_path(folder, "orders")
    current = _read(path)
    ledger_path = _ledger_path(folder, source)
    ledger = _read(ledger_path)
    new = _as_text(orders[["order_key", *ORDER_COLUMNS]])
    keys = set(new["order_key"])
    if not ledger.empty:
        old = ledger.loc[ledger["order_key"].isin(keys)]
        if not current.empty and len(old):
            current = _remove_lines(current, old.drop(columns="order_key"))
        ledger = ledger.loc[~ledger["order_key"].isin(keys)]
    columns = list(current.columns) if not current.empty else list(ORDER_COLUMNS)
    for name in ORDER_COLUMNS:
        if name not in columns:
            columns.append(name)
            if not current.empty:
                current[name] = ""
    lines = new.drop(columns="order_key").reindex(columns=columns, fill_value="")
    merged = pd.concat([current, lines], ignore_index=True) if not current.empty else lines
    write_table(merged[columns], path)
    return pd.concat([ledger, new], ignore_index=True) if not ledger.empty else new


def _remove_lines(current: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """``current`` without one matching row per row of ``old`` (compared as numbers where
    they are numbers, so ``20`` and ``20.0`` match)."""
    columns = [c for c in ORDER_COLUMNS if c in current.columns and c in old.columns]

    def signature(frame: pd.DataFrame) -> pd.Series:
        parts = []
        for name in columns:
            numbers = pd.to_numeric(frame[name], errors="coerce")
            parts.append(numbers.map(lambda v: f"{v:.9g}").where(numbers.notna(), frame[name]))
        return pd.concat(parts, axis=1).agg("|".join, axis=1)

    wanted = signature(old).value_counts().to_dict()
    keep = []
    for sig in signature(current):
        if wanted.get(sig, 0) > 0:
            wanted[sig] -= 1
            keep.append(False)
        else:
            keep.append(True)
    return current.loc[keep].reset_index(drop=True)


def _changed(before: Path, after: Path) -> list[str]:
    """Files (relative paths) that differ or are new in ``after``."""
    changed = []
    for path in sorted(after.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(after)
        old = before / rel
        if not old.is_file() or old.read_bytes() != path.read_bytes():
            changed.append(rel.as_posix())
    return changed
