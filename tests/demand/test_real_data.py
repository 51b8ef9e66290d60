"""Real data loads: dates from 1900, an empty result after cleaning is one line (exit 2), no
pandas warning without caisse payments, and a table of real-world oddities."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import pandas as pd
import pytest

import demand
from api.cli import main
from core.errors import InputError
from core.territory import load_territory


def _orders(folder: Path, lines: list[str], header: str = "") -> None:
    head = header or "date,site_id,product_id,quantity,unit,unit_price_eur"
    (folder / "orders.csv").write_text("\n".join([head, *lines]) + "\n", encoding="utf-8")


@pytest.fixture
def no_caisse(tiny_copy: Path) -> Path:
    """The tiny territory without caisse payments."""
    (tiny_copy / "caisse_transactions.csv").unlink()
    return tiny_copy


def test_orders_before_2000_are_valid_for_check_and_build(no_caisse, tmp_path, capsys):
    _orders(
        no_caisse,
        [
            "1995-01-07,S1,carotte,20,kg,2.5",
            "07/01/95,S1,lait,30,litre,1.6",
            "1901-03-04,S2,pomme,15,kg,3",
        ],
    )
    assert main(["check", "--data", str(no_caisse)]) == 0
    assert main(["demand", "build", "--data", str(no_caisse), "--out", str(tmp_path)]) == 0
    weekly = pd.read_csv(tmp_path / "weekly.csv", sep=None, engine="python", encoding="utf-8-sig")
    assert weekly["week"].min() == "1901-03-04"
    assert (weekly["week"] == "1995-01-02").any()
    rejects = pd.read_csv(tmp_path / "rejects.csv", sep=None, engine="python", encoding="utf-8-sig")
    assert rejects.empty
    capsys.readouterr()


def test_a_date_before_1900_is_refused_alike_by_check_and_build(no_caisse, tmp_path, capsys):
    _orders(no_caisse, ["1899-12-31,S1,carotte,20,kg,2.5", "2025-01-07,S1,lait,30,litre,1.6"])
    assert main(["check", "--data", str(no_caisse), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "orders.csv row 2, column 'date'" in err
    assert "from 1900 to 2099" in err
    built = demand.build_weekly_demand(load_territory(no_caisse, strict=False))
    assert built.rejects["row"].tolist() == [2]
    assert "from 1900 to 2099" in built.rejects["reason"].iloc[0]


def test_nothing_left_after_cleaning_is_one_line_exit_2(no_caisse, tmp_path, capsys):
    _orders(no_caisse, ["1850-01-07,S1,carotte,20,kg,2.5", "1850-01-14,S1,lait,30,litre,1.6"])
    code = main(["demand", "build", "--data", str(no_caisse), "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "orders.csv" in lines[0]
    assert "no order line left after cleaning" in lines[0]
    assert "2 line(s) rejected" in lines[0]
    assert "Traceback" not in captured.err
    assert "NaT" not in captured.err


def test_lines_all_rejected_by_the_business_checks_are_one_line_too(tiny, capsys):
    frame = pd.DataFrame(
        {
            "row": [2, 3],
            "date": pd.to_datetime(["2025-01-07", "2025-01-14"]),
            "site_id": ["S1", "S1"],
            "product_id": ["kiwi", "kiwi"],
            "quantity": [1.0, 2.0],
            "unit": ["kg", "kg"],
            "unit_price_eur": [2.0, 2.0],
        }
    )
    with pytest.raises(InputError) as info:
        demand.build_weekly_demand(tiny, orders=frame)
    assert "no order line left after cleaning" in str(info.value)
    assert "unknown product_id" in str(info.value)


def test_no_caisse_payments_no_pandas_warning(no_caisse):
    territory = load_territory(no_caisse)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = demand.build_weekly_demand(territory)
    assert built.weekly["caisse_kg"].eq(0).all()


@pytest.fixture(scope="module")
def tiny_loaded():
    """The tiny territory, loaded once per module (each test takes a deep copy: ``tiny``)."""
    return load_territory(Path(__file__).resolve().parents[1] / "data" / "tiny")


@pytest.fixture
def tiny(tiny_loaded):
    return copy.deepcopy(tiny_loaded)


# promotions: S1 takes ~20 kg of carrots at 2.5 €/kg a week
HISTORY = [
    "2025-01-06,S1,carotte,20,kg,2.5",
    "2025-01-13,S1,carotte,22,kg,2.5",
    "2025-01-20,S1,carotte,18,kg,2.5",
    "2025-01-06,S1,lait,30,litre,1.6",
]


def _kg(built, week: str, product: str = "carotte") -> float:
    w = built.weekly
    cell = w.loc[(w["week_start"] == week) & (w["site_id"] == "S1") & (w["product_id"] == product)]
    return float(cell["kg"].sum())


def test_a_promotion_is_never_absurd_and_stays_in_the_demand(no_caisse):
    # 60x the usual line, at half price: a chain-wide promotion, not a typo
    _orders(no_caisse, [*HISTORY, "2025-01-27,S1,carotte,1200,kg,1.25"])
    built = demand.build_weekly_demand(load_territory(no_caisse))
    assert built.rejects.empty
    assert _kg(built, "2025-01-27") == 1200


def test_an_explicit_promo_column_marks_promotions(no_caisse):
    header = "date,site_id,product_id,quantity,unit,unit_price_eur,promo"
    lines = [line + ",non" for line in HISTORY] + ["2025-01-27,S1,carotte,1200,kg,2.5,oui"]
    _orders(no_caisse, lines, header)
    built = demand.build_weekly_demand(load_territory(no_caisse))
    assert built.rejects.empty
    assert _kg(built, "2025-01-27") == 1200


def test_an_extreme_line_without_promotion_is_flagged_and_kept(no_caisse):
    _orders(no_caisse, [*HISTORY, "2025-01-27,S1,carotte,1200,kg,2.5"])
    territory = load_territory(no_caisse)
    built = demand.build_weekly_demand(territory)
    assert built.rejects["row"].tolist() == [6]
    assert built.rejects["kept"].tolist() == [True]
    assert "absurd quantity" in built.rejects["reason"].iloc[0]
    assert "kept" in built.rejects["reason"].iloc[0]
    assert _kg(built, "2025-01-27") == 1200

    dropped = demand.build_weekly_demand(
        territory, params=demand.OrderCheckParams(drop_outliers=True)
    )
    assert dropped.rejects["kept"].tolist() == [False]
    assert _kg(dropped, "2025-01-27") == 0


def test_cli_build_drop_outliers(no_caisse, tmp_path, capsys):
    _orders(
        no_caisse,
        [*HISTORY, "2025-01-27,S1,carotte,1200,kg,2.5", "2025-01-27,S1,lait,30,litre,1.6"],
    )
    for flag, kept in (([], "True"), (["--drop-outliers"], "False")):
        out = tmp_path / str(len(flag))
        code = main(["demand", "build", "--data", str(no_caisse), "--out", str(out), *flag])
        assert code == 0, capsys.readouterr().err
        rejects = pd.read_csv(out / "rejects.csv", sep=None, engine="python", dtype=str)
        assert rejects["kept"].tolist() == [kept]
    assert "lignes aberrantes signalées, gardées" in capsys.readouterr().out


# real-world oddities: each loads (``demand build`` exit 0, ``vivres check --keep-valid`` too)
# or fails with exit 2 and one line, never a traceback. S1, S2, S3 are the tiny shops.
def _weeks(start: str, n: int, site: str = "S1", product: str = "carotte") -> list[str]:
    days = pd.date_range(start, periods=n, freq="7D")
    return [f"{d.date()},{site},{product},{20 + i % 3},kg,2.5" for i, d in enumerate(days)]


HEAD = "date,site_id,product_id,quantity,unit,unit_price_eur"


def _write(folder: Path, text: str, name: str = "orders.csv", encoding: str = "utf-8") -> None:
    (folder / name).write_bytes(text.encode(encoding))


def _lines(*lines: str) -> str:
    return "\n".join([HEAD, *lines]) + "\n"


def _xlsx(folder: Path, text: str) -> None:
    import io

    frame = pd.read_csv(io.StringIO(text), dtype=str)
    (folder / "orders.csv").unlink()
    frame.to_excel(folder / "orders.xlsx", index=False)


ODDITIES = {
    "dates before 2000": (
        lambda f: _write(f, _lines(*_weeks("1994-01-03", 10))),
        lambda w: str(w["week"].min().date()) == "1994-01-03",
    ),
    "dd/mm/yy of the 1990s": (
        lambda f: _write(
            f, _lines("03/01/94,S1,carotte,20,kg,2.5", "10/01/94,S1,carotte,21,kg,2.5")
        ),
        lambda w: str(w["week"].min().date()) == "1994-01-03",
    ),
    "decimal commas, semicolons, BOM, CRLF": (
        lambda f: _write(
            f,
            "\ufeff" + HEAD.replace(",", ";") + "\r\n"
            "07/01/2025;S1;carotte;20,5;kg;2,5\r\n08/01/2025;S1;lait;1 200,5;litre;1,6\r\n",
        ),
        lambda w: w["kg"].sum() == pytest.approx(20.5 + 1200.5 * 1.03),
    ),
    "cp1252 export with an accented extra column": (
        lambda f: _write(
            f, HEAD + ",libellé\n2025-01-07,S1,carotte,20,kg,2.5,Carottes été\n", encoding="cp1252"
        ),
        None,
    ),
    "promotion at half price, 60x the usual": (
        lambda f: _write(f, _lines(*_weeks("2025-01-06", 6), "2025-02-17,S1,carotte,1200,kg,1.2")),
        lambda w: w["kg"].max() == 1200,
    ),
    "a store with a gap of months": (
        lambda f: _write(f, _lines(*_weeks("2024-01-01", 8), *_weeks("2024-09-02", 8))),
        lambda w: len(w) == 43 and (w["kg"] == 0).sum() == 27,
    ),
    "a product sold in one week only": (
        lambda f: _write(f, _lines(*_weeks("2025-01-06", 8), "2025-01-13,S2,pomme,5,kg,3.1")),
        lambda w: (w.loc[w["product"] == "pomme", "kg"] > 0).sum() == 1,
    ),
    "every line on one day": (
        lambda f: _write(
            f, _lines("2025-01-07,S1,carotte,20,kg,2.5", "2025-01-07,S2,pomme,5,kg,3")
        ),
        None,
    ),
    "timestamps in the date column, upper-case units": (
        lambda f: _write(
            f,
            _lines(
                "2025-01-07 10:15,S1,carotte,20,KG,2.5", "2025-01-14T09:00,S1,carotte,20,Kg,2.5"
            ),
        ),
        None,
    ),
    "returns (negative lines) among valid ones": (
        lambda f: _write(f, _lines(*_weeks("2025-01-06", 4), "2025-01-13,S1,carotte,-5,kg,2.5")),
        lambda w: w["kg"].sum() == 20 + 21 + 22 + 20,
    ),
    "no price column at all": (
        lambda f: _write(f, "date,site_id,product_id,quantity,unit\n2025-01-07,S1,carotte,20,kg\n"),
        None,
    ),
    "an Excel export": (lambda f: _xlsx(f, _lines(*_weeks("1998-01-05", 4))), None),
    "every date before 1900": (
        lambda f: _write(f, _lines("1899-01-02,S1,carotte,20,kg,2.5")),
        "no order line left after cleaning",
    ),
    "header only": (lambda f: _write(f, HEAD + "\n"), "orders"),
    "the quantity column missing": (
        lambda f: _write(f, "date,site_id,product_id,unit\n2025-01-07,S1,carotte,kg\n"),
        "column 'quantity': required column is missing",
    ),
    "products unknown to the catalogue only": (
        lambda f: _write(f, _lines("2025-01-07,S1,kiwi,20,kg,2.5")),
        "orders.csv",
    ),
}


@pytest.mark.parametrize("name", list(ODDITIES))
def test_real_world_oddity_loads_or_fails_in_one_line(name, no_caisse, tmp_path, capsys):
    make, expected = ODDITIES[name]
    make(no_caisse)
    argv = ["demand", "build", "--data", str(no_caisse), "--out", str(tmp_path / "out")]
    code = main([*argv, "--lang", "en"])  # the English wording (French: tests/test_cli.py)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if not isinstance(expected, str):
        assert code == 0, captured.err
        weekly = pd.read_parquet(tmp_path / "out" / "weekly.parquet")
        weekly["week"] = pd.to_datetime(weekly["week"])
        assert len(weekly) > 0
        assert expected is None or expected(weekly), weekly
        assert main(["check", "--data", str(no_caisse), "--keep-valid"]) == 0
    else:
        assert code == 2, captured.out
        lines = [line for line in captured.err.splitlines() if line.strip()]
        assert len(lines) == 1, captured.err
        assert expected in lines[0]
