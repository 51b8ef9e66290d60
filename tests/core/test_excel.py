"""Spreadsheet twins: openpyxl reads back the CSV's values, typed; the same table gives the
same file twice (issue 20, item 3)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pandas as pd
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

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


def test_no_text_becomes_a_formula_a_number_or_a_link(tmp_path):
    frame = pd.DataFrame(
        {
            "=SUM(A2:A3)": ["=1+1", "http://exemple.fr", "mailto:a@b.fr"],
            "texte": ["+33 6 12", "1,5", "007"],
            "kg": [float("inf"), 2.5, float("nan")],
        }
    )
    path = write_xlsx(frame, tmp_path / "t.xlsx")
    with zipfile.ZipFile(path) as book:
        names = book.namelist()
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "hyperlink" not in sheet_xml
    assert not any("worksheets/_rels" in n for n in names)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0] == ("'=SUM(A2:A3)", "texte", "kg")  # the header reads as in the CSV
    assert [r[0] for r in rows[1:]] == ["'=1+1", "http://exemple.fr", "mailto:a@b.fr"]
    assert [r[1] for r in rows[1:]] == ["'+33 6 12", "1,5", "007"]
    assert [r[2] for r in rows[1:]] == [None, 2.5, None]  # ±inf and NaN: empty cells


def test_control_characters_survive_as_text(tmp_path):
    texts = ["a\x01b", "tab\tet\nligne", "_x0041_", "\x1f"]
    path = write_xlsx(pd.DataFrame({"texte": texts}), tmp_path / "c.xlsx")
    sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    assert [row[0] for row in sheet[1:]] == texts


def test_header_style_widths_and_date_formats(tmp_path):
    frame = pd.DataFrame(
        {
            "jour": [dt.date(2026, 3, 2)],
            "quand": [pd.Timestamp("2026-03-02 08:30")],
            "long": ["x" * 100],
            "ok": [True],
        }
    )
    sheet = load_workbook(write_xlsx(frame, tmp_path / "d.xlsx", sheet="a:b" + "c" * 40)).active
    assert sheet.title == "a_b" + "c" * 28  # Excel's forbidden characters and 31 characters
    assert all(cell.font.b for cell in sheet[1])
    assert sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["A2"].value == dt.datetime(2026, 3, 2)
    assert sheet["B2"].number_format == "yyyy-mm-dd h:mm:ss"
    assert sheet["D2"].value is True
    widths = {c: sheet.column_dimensions[c].width for c in "ABCD"}
    assert widths["A"] < widths["B"] < widths["C"] and widths["C"] <= 61  # fitted, capped at 60
