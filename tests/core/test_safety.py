"""Ids from data are slugs; files named from data stay in their folder; CSV cells are inert."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from core.errors import InputError, RowError
from core.safety import is_id, neutralise_csv, safe_path, short_repr
from core.territory import load_territory
from planner.contracts import write_contracts

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"
EVIL = "../../../../tmp/PWNED"


def _tiny_with_producer(tmp_path: Path, producer_id: str) -> Path:
    folder = tmp_path / "territory"
    shutil.copytree(TINY, folder)
    for name in ("producers.csv", "producer_crops.csv"):
        path = folder / name
        lines = path.read_text(encoding="utf-8").splitlines()
        lines = [lines[0]] + [line.replace("P1,", f"{producer_id},", 1) for line in lines[1:]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "value", [EVIL, "a/b", "a\\b", "..", "a..b", ".hidden", "", "é", "x" * 65, "a b", "C:x"]
)
def test_bad_ids_are_not_ids(value):
    assert not is_id(value)


@pytest.mark.parametrize("value", ["P1", "prod_001", "hh-00024", "pos.32", "x" * 64])
def test_slugs_are_ids(value):
    assert is_id(value)


def test_territory_with_a_path_as_producer_id_is_refused(tmp_path):
    folder = _tiny_with_producer(tmp_path, EVIL)
    with pytest.raises(InputError) as info:
        load_territory(folder)
    where = {(e.file, e.row, e.column) for e in info.value.errors}
    assert ("producers.csv", 2, "producer_id") in where
    assert "letters, digits" in str(info.value)


def _contract_inputs(producer_id: str):
    plan = pd.DataFrame(
        [
            {
                "producer_id": producer_id,
                "crop_id": "c1",
                "crop": "Carotte",
                "product_id": "carotte",
                "plant_week": 3,
                "plant_date": "2026-01-19",
                "beds": 2,
                "area_m2": 60.0,
                "harvest_kg": 120.0,
                "price_eur_per_kg": 2.0,
                "revenue_eur": 240.0,
                "first_harvest": "2026-04-06",
                "last_harvest": "2026-04-20",
            }
        ]
    )
    harvest = pd.DataFrame(
        [
            {
                "producer_id": producer_id,
                "week_start": "2026-04-06",
                "product_id": "carotte",
                "kg": 120.0,
            }
        ]
    )
    farms = pd.DataFrame(
        [
            {
                "producer_id": producer_id,
                "name": '=HYPERLINK("http://x")',
                "site_id": "F1",
                "min_revenue_eur": 100.0,
                "km_to_hub": 5.0,
            }
        ]
    )
    return plan, harvest, farms


def test_contract_writer_never_writes_outside_its_folder(tmp_path):
    out = tmp_path / "a" / "b" / "c" / "contracts"
    target = tmp_path / "tmp" / "PWNED"  # where ../../../../tmp/PWNED resolves from ``out``
    assert (out / EVIL).resolve() == target.resolve()
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(InputError):
        write_contracts(*_contract_inputs(EVIL), out, season="2026", hub_name="Pôle")
    after = sorted(p for p in tmp_path.rglob("*") if p != out and p not in out.parents)
    assert not target.with_suffix(".csv").exists() and not target.with_suffix(".html").exists()
    assert [p for p in after if p not in before] == []  # nothing written anywhere
    assert not list(out.iterdir())


def test_contract_csv_cells_cannot_start_a_formula(tmp_path):
    plan, harvest, farms = _contract_inputs("P1")
    plan["crop"] = "=1+2"
    files = write_contracts(plan, harvest, farms, tmp_path, season="2026", hub_name="<b>Pôle</b>")
    csv = (tmp_path / "P1.csv").read_text(encoding="utf-8")
    assert "'=1+2" in csv and ",=1+2" not in csv
    page = (tmp_path / "P1.html").read_text(encoding="utf-8")
    assert "<b>Pôle</b>" not in page and "&lt;b&gt;Pôle&lt;/b&gt;" in page
    assert {p.name for p in files} == {"P1.csv", "P1.html", "P1.xlsx"}
    from openpyxl import load_workbook

    cells = [
        c
        for row in load_workbook(tmp_path / "P1.xlsx").active.iter_rows(values_only=True)
        for c in row
        if isinstance(c, str)
    ]
    assert "'=1+2" in cells and "=1+2" not in cells  # the twin cannot start a formula either


def test_safe_path_refuses_escapes_and_symlinks(tmp_path):
    assert safe_path(tmp_path, "mon", "V1", suffix=".csv") == (tmp_path / "mon_V1.csv").resolve()
    for bad in (EVIL, "..", "a/b", ""):
        with pytest.raises(InputError):
            safe_path(tmp_path, bad, suffix=".csv")
    outside = tmp_path / "outside"
    outside.mkdir()
    inside = tmp_path / "out"
    inside.mkdir()
    (inside / "link.csv").symlink_to(outside / "x.csv")
    with pytest.raises(InputError, match="leave the output folder"):
        safe_path(inside, "link", suffix=".csv")


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://evil","x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_neutralise_csv_prefixes_formulas(cell):
    out = neutralise_csv(pd.DataFrame({"name": [cell], "qty": [-3.0]}))
    assert out.at[0, "name"] == "'" + cell
    assert out.at[0, "qty"] == -3.0  # numbers stay numbers


def test_categorical_text_is_neutralised_in_the_csv_and_its_twin(tmp_path):
    from openpyxl import load_workbook

    from core.csvio import write_user_csv

    frame = pd.DataFrame(
        {"site": pd.Categorical(["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0", "Rezé"])}
    )
    assert list(neutralise_csv(frame)["site"]) == [
        "'=cmd|' /C calc'!A0",
        "'=cmd|' /C calc'!A0",  # already safe: left as it is, though now equal to the first
        "Rezé",
    ]
    csv_path, twin = write_user_csv(frame, tmp_path / "sites.csv")
    rows = csv_path.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert not any(row.lstrip('"').startswith("=") for row in rows)
    sheet = load_workbook(twin).active
    assert [c.value for c in sheet["A"]][1:] == list(neutralise_csv(frame)["site"])


def test_error_values_are_truncated():
    huge = ["lol"] * 100_000
    text = str(RowError(file="s.yaml", row=None, column="changes", message="bad", value=huge))
    assert len(text) < 200 and "characters" in text
    assert short_repr(float("nan")) == "nan" and short_repr(float("inf")) == "inf"
    assert len(short_repr("x" * 10_000)) < 120


def test_temporary_paths_are_scrubbed_from_messages():
    from core.safety import scrub_paths

    text = (
        "internal error (OSError: [Errno 2] No such file or directory: "
        "'/tmp/vivres-job-k2j3/out/contracts/P1.csv')"
    )
    assert scrub_paths(text) == (
        "internal error (OSError: [Errno 2] No such file or directory: 'P1.csv')"
    )
    assert scrub_paths("orders.csv row 3: bad") == "orders.csv row 3: bad"


def test_randomly_corrupted_xlsx_only_ever_raise_input_errors(tmp_path):
    import random

    from core.tables import read_raw

    path = tmp_path / "products.xlsx"
    pd.read_csv(TINY / "products.csv", dtype=str).to_excel(path, index=False)
    original = path.read_bytes()
    rng = random.Random(1)
    outcomes = set()
    for _ in range(250):  # seed 1 hits "zip file version" (NotImplementedError) at 195
        data = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        try:
            read_raw(path)
            outcomes.add("read")
        except InputError as exc:
            assert str(tmp_path) not in str(exc)
            outcomes.add("refused")
    assert "refused" in outcomes


def test_xlsx_of_an_unknown_zip_version_is_an_input_error(tmp_path):
    from core.tables import read_raw

    path = tmp_path / "products.xlsx"
    pd.read_csv(TINY / "products.csv", dtype=str).to_excel(path, index=False)
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    data[at + 6] = 0xFF  # "version needed to extract" 25.5: zipfile's NotImplementedError
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="cannot be read as a table"):
        read_raw(path)
