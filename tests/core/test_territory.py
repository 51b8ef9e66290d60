"""Loading territories: good files parse, each kind of bad cell is named precisely."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from core import InputError, load_territory
from core.schema import TABLES
from core.tables import read_table


def edit_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` is the line number in the file (header = line 1)."""
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 2, column] = value
    frame.to_csv(path, index=False)


def test_tiny_territory_loads_with_parsed_types(tiny_dir):
    territory = load_territory(tiny_dir)
    assert territory.hub["site_id"] == "HUB"
    assert set(territory.points_of_sale["site_id"]) == {"S1", "S2", "S3"}
    assert territory.vehicles.loc[0, "shift_start"] == 6 * 60 + 30
    assert territory.orders["date"].dtype.kind == "M"
    assert territory.orders["quantity"].dtype == float
    assert bool(territory.sites.set_index("site_id").at["S1", "conventionne"]) is True
    # optional columns get their defaults
    assert territory.sites["row"].tolist() == list(range(2, 9))


BAD_CELLS = [
    # table, line, column, value, expected message fragment
    ("orders", 3, "quantity", "douze", "expected a number"),
    ("orders", 2, "quantity", "-3", "expected a number >= 0"),
    ("orders", 4, "site_id", "S99", "unknown site_id"),
    ("orders", 5, "product_id", "banane", "unknown product_id"),
    ("orders", 2, "unit", "sack", "expected one of kg"),
    ("orders", 6, "date", "2025-13-45", "expected a date"),
    ("sites", 4, "lat", "north", "expected a number"),
    ("sites", 4, "lat", "147.2", "<= 90"),
    ("sites", 3, "kind", "warehouse", "expected one of hub"),
    ("sites", 8, "site_id", "S2", "duplicate id"),
    ("sites", 5, "conventionne", "peut-être", "expected true or false"),
    ("opening_hours", 2, "open", "9h30", "expected a time HH:MM"),
    ("vehicles", 2, "capacity_kg", "", "is empty"),
    ("products", 3, "storage_class", "cold", "expected one of ambient"),
    ("producers", 2, "site_id", "S1", "must be a site of kind 'farm'"),
    ("opening_hours", 3, "close", "13:00", "closing time must be after opening time"),
    ("crop_yields", 3, "week_after_planting", "12", "duplicate week"),
    ("producer_crops", 2, "crop_id", "pomme_verger", "no land of the type"),  # P1: no orchard
    ("caisse_transactions", 2, "household_id", "H9", "unknown household_id"),
    ("vehicles", 3, "days", "tuesday", "weekdays like"),
]


@pytest.mark.parametrize(("table", "line", "column", "value", "fragment"), BAD_CELLS)
def test_bad_cell_is_named_by_file_row_and_column(tiny_copy, table, line, column, value, fragment):
    edit_cell(tiny_copy, table, line, column, value)
    with pytest.raises(InputError) as info:
        load_territory(tiny_copy)
    message = str(info.value)
    assert f"{table}.csv row {line}, column {column!r}" in message
    assert fragment in message


def test_missing_column_is_named(tiny_copy):
    frame = pd.read_csv(tiny_copy / "products.csv", dtype=str)
    frame.drop(columns="kg_per_unit").to_csv(tiny_copy / "products.csv", index=False)
    with pytest.raises(
        InputError,
        match=r"products.csv row 1, column 'kg_per_unit': required "
        r"column is missing",
    ):
        load_territory(tiny_copy)


def test_missing_file_is_named(tiny_copy):
    (tiny_copy / "vehicles.csv").unlink()
    with pytest.raises(InputError, match=r"vehicles.csv: file not found"):
        load_territory(tiny_copy)


def test_two_hubs_are_refused(tiny_copy):
    edit_cell(tiny_copy, "sites", 3, "kind", "hub")
    with pytest.raises(InputError, match="exactly one site must be of kind 'hub'; found 2"):
        load_territory(tiny_copy)


def test_every_bad_row_is_reported_at_once(tiny_copy):
    edit_cell(tiny_copy, "orders", 2, "quantity", "x")
    edit_cell(tiny_copy, "orders", 4, "site_id", "nowhere")
    with pytest.raises(InputError) as info:
        load_territory(tiny_copy)
    rows = sorted(e.row for e in info.value.errors)
    assert rows == [2, 4]


def test_lenient_activity_keeps_valid_rows_and_rejects_the_rest(tiny_copy):
    edit_cell(tiny_copy, "orders", 3, "quantity", "beaucoup")
    territory = load_territory(tiny_copy, strict=False)
    assert len(territory.orders) == 4
    rejects = territory.rejects["orders"]
    assert rejects[["row", "column"]].values.tolist() == [[3, "quantity"]]
    assert "expected a number" in rejects.loc[0, "reason"]
    assert rejects.loc[0, "quantity"] == "beaucoup"  # the raw value is kept, nothing is lost


def test_excel_and_gzip_and_french_dates(tiny_copy):
    orders = pd.read_csv(tiny_copy / "orders.csv", dtype=str)
    orders["date"] = pd.to_datetime(orders["date"]).dt.strftime("%d/%m/%Y")
    (tiny_copy / "orders.csv").unlink()
    orders.to_csv(tiny_copy / "orders.csv.gz", index=False)
    products = pd.read_csv(tiny_copy / "products.csv", dtype=str)
    (tiny_copy / "products.csv").unlink()
    products.to_excel(tiny_copy / "products.xlsx", index=False)
    territory = load_territory(tiny_copy)
    assert territory.orders["date"].min() == pd.Timestamp("2025-01-07")
    assert territory.file_of("products") == "products.xlsx"


def test_a_gzip_unpacking_past_the_cap_is_refused_naming_the_file(tiny_copy, monkeypatch):
    import gzip

    from core import tables

    monkeypatch.setattr(tables, "MAX_GZIP_BYTES", 1 << 20)
    orders = (tiny_copy / "orders.csv").read_bytes()
    (tiny_copy / "orders.csv").unlink()
    padding = b"\n" * (2 << 20)  # blank lines: a valid CSV, 2 MiB unpacked, a few KiB packed
    (tiny_copy / "orders.csv.gz").write_bytes(gzip.compress(orders + padding))
    with pytest.raises(InputError, match=r"orders\.csv\.gz: unpacks to more than 1 MiB"):
        load_territory(tiny_copy)


def test_unreadable_file_is_an_input_error(tiny_copy):
    (tiny_copy / "sites.csv").write_bytes(b'site_id,name\n"unterminated,\n')
    with pytest.raises(InputError, match=r"sites\.csv"):
        load_territory(tiny_copy)


def test_every_table_documents_its_columns():
    for table in TABLES.values():
        names = [c.name for c in table.columns]
        assert len(names) == len(set(names)), table.name
        for col in table.columns:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", col.name)


def test_read_table_strict_raises_with_line_numbers(tiny_copy):
    edit_cell(tiny_copy, "households", 3, "size", "0")
    with pytest.raises(InputError, match=r"households.csv row 3, column 'size'"):
        read_table(tiny_copy / "households.csv", TABLES["households"])


def test_a_header_only_table_reads_as_no_rows_with_parsed_types(tmp_path):
    # a time column of no cells once raised KeyError (pandas' split of an empty column)
    path = tmp_path / "opening_hours.csv"
    path.write_text("site_id,weekday,open,close\n", encoding="utf-8")
    result = read_table(path, TABLES["opening_hours"])
    assert list(result.valid.columns) == ["row", "site_id", "weekday", "open", "close"]
    assert len(result.valid) == 0
    assert result.errors == ()
