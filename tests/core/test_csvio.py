"""The one CSV writer (user CSVs in French or English, machine CSVs) and the one reader."""

from __future__ import annotations

import codecs
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from api.cli import main
from core.csvio import check_lang, read_csv_any, write_machine_csv, write_user_csv

FRAME = pd.DataFrame(
    {
        "site_id": ["pos_001", "pos_002", "pos_003"],
        "name": ["Pôle de Rezé", "Épicerie ; solidaire", "=SUM(A1)"],
        "kg": [1234.5, 0.25, 1.1641532182693481e-10],
        "beds": [3, 0, 12],
        "fill_rate": [0.5, 1.0, 446.53999999999996],
    }
)


def test_french_user_csv_opens_in_french_excel_and_round_trips_through_pandas(tmp_path):
    path, twin = write_user_csv(FRAME, tmp_path / "table.csv")
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header == "site_id;name;kg;beds;fill_rate"
    assert "1234,5" in raw.decode("utf-8-sig") and "446,54" in raw.decode("utf-8-sig")
    back = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    assert list(back.columns) == list(FRAME.columns)
    assert list(back["kg"]) == [1234.5, 0.25, 0.0]  # rounded: no 1.16e-10 left
    assert list(back["fill_rate"]) == [0.5, 1.0, 446.54]
    assert list(back["beds"]) == [3, 0, 12]
    assert list(back["name"]) == ["Pôle de Rezé", "Épicerie ; solidaire", "'=SUM(A1)"]
    assert twin.suffix == ".xlsx" and twin.stem == "table"


def test_english_user_csv_is_comma_and_point(tmp_path):
    path, _ = write_user_csv(FRAME, tmp_path / "table.csv", lang="en")
    text = path.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "site_id,name,kg,beds,fill_rate"
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back["kg"]) == [1234.5, 0.25, 0.0]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_xlsx_twin_holds_the_same_values_as_the_csv(tmp_path, lang):
    path, twin = write_user_csv(FRAME, tmp_path / "table.csv", lang=lang)
    sheet = load_workbook(twin).active
    rows = list(sheet.iter_rows(values_only=True))
    book = pd.DataFrame(rows[1:], columns=rows[0])
    pd.testing.assert_frame_equal(book, read_csv_any(path), check_dtype=False)
    assert isinstance(rows[1][2], float) and isinstance(rows[1][3], int)  # typed cells
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_reader_reads_both_dialects_the_same(tmp_path, lang):
    path, _ = write_user_csv(FRAME, tmp_path / "table.csv", lang=lang)
    back = read_csv_any(path)
    assert list(back["kg"]) == [1234.5, 0.25, 0.0]
    text = read_csv_any(path.read_bytes(), dtype=str, keep_default_na=False)
    assert list(text["kg"]) == ["1234.5", "0.25", "0.0"]  # decimal comma read as a point
    assert list(text["name"])[1] == "Épicerie ; solidaire"


def test_machine_csv_is_plain_and_read_back_the_same(tmp_path):
    path = tmp_path / "data.csv"
    write_machine_csv(FRAME, path)
    raw = path.read_bytes()
    assert not raw.startswith(codecs.BOM_UTF8)
    assert raw.decode().splitlines()[0] == "site_id,name,kg,beds,fill_rate"
    pd.testing.assert_frame_equal(
        read_csv_any(path).drop(columns="name"), FRAME.drop(columns="name")
    )


def test_the_reader_skips_comment_lines_and_reads_a_buffer():
    frame = read_csv_any(io.StringIO("# an older route sheet\na;b\n1,5;2\n"))
    assert frame.to_dict("list") == {"a": [1.5], "b": [2]}


def test_lang_is_checked():
    assert check_lang("en") == "en"
    with pytest.raises(ValueError, match="fr, en"):
        check_lang("de")


def test_cli_lang_option_chooses_the_dialect_and_refuses_another(tiny_dir, tmp_path, capsys):
    out_fr, out_en = tmp_path / "fr", tmp_path / "en"
    assert main(["caisse", "report", "--data", str(tiny_dir), "--out", str(out_fr)]) == 0
    args = ["caisse", "report", "--data", str(tiny_dir), "--out", str(out_en), "--lang", "en"]
    assert main(args) == 0
    fr = (out_fr / "caisse_balance.csv").read_bytes().decode("utf-8-sig")
    en = (out_en / "caisse_balance.csv").read_bytes().decode("utf-8-sig")
    assert ";" in fr.splitlines()[0] and "," not in fr.splitlines()[0]
    assert "," in en.splitlines()[0] and ";" not in en.splitlines()[0]
    pd.testing.assert_frame_equal(
        read_csv_any(out_fr / "caisse_balance.csv"), read_csv_any(out_en / "caisse_balance.csv")
    )
    assert (out_fr / "caisse_balance.xlsx").exists()
    capsys.readouterr()
    assert main(["caisse", "report", "--data", str(tiny_dir), "--lang", "de"]) == 2
    err = capsys.readouterr().err
    assert "--lang" in err and "Traceback" not in err


def test_missing_dates_and_integers_are_empty_cells_in_the_twin(tmp_path):
    frame = pd.DataFrame(
        {
            "week_start": pd.to_datetime(["2026-01-05", None]),
            "beds": pd.array([2, None], dtype="Int64"),
        }
    )
    path, twin = write_user_csv(frame, tmp_path / "contract.csv")
    sheet = load_workbook(twin).active
    assert sheet.cell(2, 2).value == 2
    assert (sheet.cell(3, 1).value, sheet.cell(3, 2).value) == (None, None)  # never "NaT", "<NA>"
    assert path.read_bytes().decode("utf-8-sig").splitlines()[2] == ";"
