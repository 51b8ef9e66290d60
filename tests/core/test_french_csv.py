"""French spreadsheets: encodings, separators, decimal commas and dates, strictly read."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from api.cli import main
from core.errors import InputError
from core.schema import ORDERS
from core.tables import read_raw, read_table
from core.territory import load_territory

DATA = Path(__file__).resolve().parents[1] / "data"
TINY, FRENCH = DATA / "tiny", DATA / "french"
LIBREOFFICE_CSV = "csv:Text - txt - csv (StarCalc):59,34,1,1,,1036"  # ';', '"', cp1252, fr


def _with(tmp_path: Path, replacements: dict[str, Path]) -> Path:
    folder = tmp_path / "territory"
    shutil.copytree(TINY, folder)
    for name, path in replacements.items():
        shutil.copy(path, folder / name)
    return folder


def _assert_same_rows(folder: Path) -> None:
    twin, french = load_territory(TINY), load_territory(folder)
    for table in ("sites", "orders"):
        pd.testing.assert_frame_equal(
            getattr(french, table), getattr(twin, table), check_dtype=False, obj=table
        )


def test_premade_libreoffice_cp1252_export_loads_like_its_utf8_twin(tmp_path):
    source = FRENCH / "libreoffice_cp1252"
    assert b"P\xf4le" in (source / "sites.csv").read_bytes()  # cp1252 'ô', not UTF-8
    assert b";" in (source / "orders.csv").read_bytes()
    _assert_same_rows(
        _with(tmp_path, {"sites.csv": source / "sites.csv", "orders.csv": source / "orders.csv"})
    )


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_fresh_libreoffice_export_loads_like_its_utf8_twin(tmp_path):
    out = tmp_path / "export"
    env = {**os.environ, "LC_ALL": "fr_FR.UTF-8", "LANG": "fr_FR.UTF-8"}
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--infilter=CSV:59,34,76,1,,1036",
            "--convert-to",
            LIBREOFFICE_CSV,
            "--outdir",
            str(out),
            str(FRENCH / "orders.csv"),
            str(FRENCH / "sites.csv"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    sites = (out / "sites.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        sites.decode("utf-8")  # really Windows-1252
    _assert_same_rows(
        _with(tmp_path, {"sites.csv": out / "sites.csv", "orders.csv": out / "orders.csv"})
    )


def test_french_utf8_source_loads_like_its_twin(tmp_path):
    _assert_same_rows(
        _with(tmp_path, {"sites.csv": FRENCH / "sites.csv", "orders.csv": FRENCH / "orders.csv"})
    )


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"]
)
@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_encodings_and_separators(tmp_path, encoding, sep):
    twin = read_raw(TINY / "sites.csv")
    text = (TINY / "sites.csv").read_text(encoding="utf-8")
    if sep != ",":
        text = text.replace(",", sep)
    path = tmp_path / "sites.csv"
    path.write_bytes(text.encode(encoding))
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(codecs.BOM_UTF8)
    pd.testing.assert_frame_equal(read_raw(path), twin)


def _orders(tmp_path: Path, dates: list[str], sep: str = ",") -> Path:
    lines = [sep.join(["date", "site_id", "product_id", "quantity", "unit"])]
    lines += [sep.join([d, "S1", "carotte", "1", "kg"]) for d in dates]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dates_iso_or_day_first_never_month_first(tmp_path):
    path = _orders(tmp_path, ["2025-02-01", "01/02/2025", "1/2/2025", "01/02/25", "31/12/2025"])
    dates = read_table(path, ORDERS).valid["date"]
    assert list(dates.dt.strftime("%Y-%m-%d")) == ["2025-02-01"] * 4 + ["2025-12-31"]


def test_iso_times_with_utc_offsets_are_read_as_written(tmp_path):
    """An export whose times cross the summer-time change (+01:00 then +02:00) is read (it
    raised AttributeError), each date as written: midnight +01:00 stays on its day, not the
    evening before in UTC (a Monday order would fall in the week before)."""
    stamps = [
        "2025-03-29T10:00:00+01:00",
        "2025-03-31T08:15:00+02:00",
        "2025-03-03T00:00:00+01:00",
        "2025-03-03T23:30Z",
        "2025-03-04 06:00+0100",
    ]
    dates = read_table(_orders(tmp_path, stamps), ORDERS).valid["date"]
    assert list(dates.dt.strftime("%Y-%m-%d %H:%M")) == [
        "2025-03-29 00:00",
        "2025-03-31 00:00",
        "2025-03-03 00:00",
        "2025-03-03 00:00",
        "2025-03-04 00:00",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "2025-13-01",
        "12/31/2025",
        "2025-02-30",
        "31/02/2025",
        "2025/01/02",
        "1er janvier",
        "01-02-2025",
        "45000",
    ],
)
def test_invalid_dates_are_errors_naming_file_row_column(tmp_path, bad):
    path = _orders(tmp_path, ["2025-01-06", bad])
    with pytest.raises(InputError) as info:
        read_table(path, ORDERS)
    (error,) = info.value.errors
    assert (error.file, error.row, error.column, error.value) == ("orders.csv", 3, "date", bad)
    assert "DD/MM/YYYY" in error.message


def test_decimal_comma_and_spaces_in_numbers(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(
        "date;site_id;product_id;quantity;unit\n06/01/2025;S1;carotte;12,5;kg\n"
        "06/01/2025;S1;carotte;1 234,5;kg\n06/01/2025;S1;carotte;1\xa0000;kg\n".encode("cp1252")
    )
    assert list(read_table(path, ORDERS).valid["quantity"]) == [12.5, 1234.5, 1000.0]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e309", "NaN"])
def test_non_finite_numbers_are_errors(tmp_path, value):
    path = tmp_path / "orders.csv"
    path.write_text(f"date,site_id,product_id,quantity,unit\n2025-01-06,S1,carotte,{value},kg\n")
    with pytest.raises(InputError, match="expected a number"):
        read_table(path, ORDERS)


def test_check_command_reads_the_french_export_and_exits_2_on_a_us_date(tmp_path, capsys):
    source = FRENCH / "libreoffice_cp1252"
    folder = _with(
        tmp_path, {"sites.csv": source / "sites.csv", "orders.csv": source / "orders.csv"}
    )
    assert main(["check", "--data", str(folder)]) == 0
    orders = folder / "orders.csv"
    text = orders.read_bytes().decode("cp1252").splitlines()
    text[1] = text[1].replace(text[1].split(";")[0], "12/31/2025", 1)
    orders.write_bytes(("\n".join(text) + "\n").encode("cp1252"))
    assert main(["check", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "orders.csv, ligne 2, champ « date »" in err and "reçu « 12/31/2025 »" in err
