"""Spreadsheet twins: openpyxl reads back the CSV's values, typed; the same table gives the
same file twice (issue 20, item 3)."""

from __future__ import annotations

import json

import pandas as pd
from openpyxl import load_workbook

from api.cli import main
from core.csvio import read_csv_any
from core.excel import write_xlsx, xlsx_twin


def test_a_twin_reads_back_with_the_same_typed_values(tmp_path):
    frame = pd.DataFrame(
        {
            "produit": ["carotte", '=HYPERLINK("x")', "laitue"],
            "kg": [12.5, 0.0, None],
            "colis": [3, 0, 1],
            "jour": pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-04"]),
        }
    )
    path = xlsx_twin(frame, tmp_path / "feuille.csv")
    assert path.name == "feuille.xlsx"
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("produit", "kg", "colis", "jour")
    assert rows[1][:3] == ("carotte", 12.5, 3) and rows[1][3].date().isoformat() == "2026-03-02"
    assert rows[2][0].startswith("'=")  # a formula-looking cell stays text
    assert rows[3][1] is None  # an empty cell, not 'nan'
    assert sheet.freeze_panes == "A2"


def test_the_same_table_gives_the_same_file(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    first = write_xlsx(frame, tmp_path / "one.xlsx").read_bytes()
    second = write_xlsx(frame, tmp_path / "two.xlsx").read_bytes()
    assert first == second


def test_route_sheets_have_twins_with_the_csv_values(tiny_dir, tmp_path):
    out = tmp_path / "routes"
    argv = ["routes", "--week", "48", "--data", str(tiny_dir), "--out", str(out)]
    assert main([*argv, "--solution-limit", "1000"]) == 0
    sheets = sorted((out / "sheets").glob("*.csv"))
    assert sheets
    for csv_path in sheets:
        table = read_csv_any(csv_path, comment="#")
        book = pd.read_excel(csv_path.with_suffix(".xlsx"))
        assert list(book.columns) == list(table.columns)
        pd.testing.assert_frame_equal(book, table, check_dtype=False)
    assert json.loads((out / "kpis.json").read_text())["stops"] > 0


def test_caisse_tables_have_twins(tmp_path, capsys):
    out = tmp_path / "caisse"
    assert main(["caisse", "report", "--out", str(out)]) == 0
    for name in ("caisse_balance", "caisse_contributions", "caisse_solidarity"):
        assert (out / f"{name}.xlsx").exists()
