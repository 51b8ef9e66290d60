"""``vivres demand …`` end to end on the tiny territory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from api.cli import main
from core.csvio import read_csv_any

DATA = Path(__file__).parent / "data"


def test_build_writes_tidy_tables_and_rejects(tiny_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "demand",
            "build",
            "--data",
            str(tiny_dir),
            "--out",
            str(out),
            "--orders",
            str(DATA / "orders_mixed.csv"),
            "--transactions",
            str(DATA / "transactions_mixed.csv"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    weekly = pd.read_parquet(out / "weekly.parquet")
    assert list(weekly.columns) == ["week", "site", "product", "kg", "orders_kg", "caisse_kg"]
    rejects = read_csv_any(out / "rejects.csv")
    assert list(rejects.columns[:4]) == ["file", "row", "column", "reason"]
    assert {"site_id", "product_id", "quantity", "unit"} <= set(rejects.columns)
    assert len(rejects) == 9 + 2  # order lines + payments
    assert len(read_csv_any(out / "duplicates.csv")) == 2
    assert set(read_csv_any(out / "caisse_flags.csv")["flag"]) == {
        "not_approved",
        "over_allocation",
        "not_enrolled",
    }
    assert "lignes rejetées" in printed and "Lignes rejetées par raison" in printed  # French


def test_forecast_writes_site_and_hub_tables(tiny_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["demand", "forecast", "--data", str(tiny_dir), "--out", str(out), "--horizon", "6"]
    code = main([*argv, "--lang", "en"])
    assert code == 0, capsys.readouterr()
    fc = read_csv_any(out / "forecast.csv")
    assert list(fc.columns) == ["week", "site", "product", "kg", "low", "high"]
    assert fc["week"].nunique() == 6
    hub = pd.read_parquet(out / "hub_forecast.parquet")
    assert list(hub.columns) == ["week", "product", "storage_class", "kg", "low", "high"]
    # two weeks of history: no window to choose on, each family keeps HubSeasonalShare
    assert "methods chosen by backtest on the history: dairy HubSeasonalShare" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("fr", ["Comptes de la caisse (règle", "cofin = allocations − cotisations", "en plus ="]),
        ("en", ["Caisse ledger (rule", "cofin = allocations − contributions", "extra ="]),
    ],
)
def test_ledger_with_a_rule_and_a_what_if(tiny_dir, tmp_path, capsys, lang, says):
    out = tmp_path / "out"
    code = main(
        [
            "demand",
            "ledger",
            "--data",
            str(tiny_dir),
            "--out",
            str(out),
            "--rule",
            "150/person",
            "--extra-households",
            "2",
            "--lang",
            lang,
        ]
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 0, printed
    assert all(s in printed for s in says), printed
    ledger = read_csv_any(out / "caisse_ledger.csv").set_index("month")
    # tiny: H1 (1 person) and H2 (3) from January, H3 (2) from February; 150 € a person
    assert ledger.loc["2025-01", "allocations_eur"] == 600
    assert ledger.loc["2025-02", "allocations_eur"] == 900
    # two more households copy H1 and H2: 4 more persons
    assert ledger.loc["2025-01", "whatif_allocations_eur"] == 1200


def test_bad_rule_exits_2_naming_the_option(tiny_dir, tmp_path, capsys):
    code = main(
        ["demand", "ledger", "--data", str(tiny_dir), "--out", str(tmp_path), "--rule", "beaucoup"]
    )
    assert code == 2
    assert "--rule" in capsys.readouterr().err


def test_backtest_on_too_short_history_exits_2(tiny_dir, capsys):
    code = main(["demand", "backtest", "--data", str(tiny_dir)])
    assert code == 2
    assert "52 weeks" in capsys.readouterr().err


@pytest.mark.slow
def test_backtest_json_on_a_long_history(tiny_copy, tmp_path, capsys):
    # the tiny territory's two weeks of orders are too short to backtest: give it 80 weeks
    rng = np.random.default_rng(3)
    dates = pd.date_range("2024-01-02", periods=80, freq="7D")
    t = np.arange(80)
    rows = []
    for site, size in (("S1", 1.0), ("S2", 2.0), ("S3", 0.5)):
        for product, unit, mean in (
            ("carotte", "kg", 20 * (1.2 + np.sin(2 * np.pi * t / 52))),
            ("lait", "litre", np.full(80, 15.0)),
        ):
            qty = np.round(rng.gamma(10, size * mean / 10), 1)
            rows.append(
                pd.DataFrame(
                    {
                        "date": dates.date,
                        "site_id": site,
                        "product_id": product,
                        "quantity": qty,
                        "unit": unit,
                        "unit_price_eur": 2.0,
                    }
                )
            )
    pd.concat(rows).to_csv(tiny_copy / "orders.csv", index=False)
    path = tmp_path / "bt.json"
    code = main(
        [
            "demand",
            "backtest",
            "--data",
            str(tiny_copy),
            "--json",
            str(path),
            "--origins",
            "2",
            "--horizon",
            "4",
            "--step",
            "4",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    figures = json.loads(path.read_text())
    assert {"model", "baseline", "by_family", "hub"} <= set(figures)
    assert {"wape", "mase", "coverage80"} <= set(figures["hub"]["model"])
    assert figures["model"]["name"] == "ChosenByBacktest"
    assert figures["baseline"]["name"] == "SeasonalNaive"
    assert set(figures["baseline"]) == {"name", "wape", "mase", "coverage80"}
    assert {f["family"] for f in figures["by_family"]} == {"vegetable", "dairy"}
    assert "SeasonalNaive" in printed


def test_ledger_with_another_rule_keeps_the_local_currency(tmp_path, capsys):
    tiny = Path(__file__).resolve().parents[1] / "data" / "tiny"
    out = tmp_path / "ledger"
    code = main(
        ["demand", "ledger", "--data", str(tiny), "--rule", "150/person", "--out", str(out)]
    )
    assert code == 0, capsys.readouterr()
    book = read_csv_any(out / "caisse_ledger.csv").set_index("month")
    # January: 35.50 € and 80 SONANTES (1:1): the local-currency payment is not dropped
    assert book.loc["2025-01", "spent_eur"] == 115.5
    assert "left out" not in capsys.readouterr().out
