"""The sample's shortage week end to end: the issue's bars, checked (not timed)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from api.cli import main
from core.csvio import read_csv_any
from core.territory import SAMPLE_DIR, load_territory

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location(
        "week_bench", ROOT / "benchmarks" / "week_bench.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_sample_shortage_week_meets_the_bars(tmp_path):
    bench = _bench()
    territory = load_territory(SAMPLE_DIR, strict=False)
    weeks = bench.pick_weeks(territory)
    assert str(weeks["shortage"].date()) == "2025-12-08"
    equal = dataclasses.replace(territory, sites=territory.sites.assign(share_weight=1.0))
    row = bench.run_one(equal, "shortage", weeks["shortage"], tmp_path)
    assert row["products_at_most_70pct"] >= 5
    assert abs(row["min_fill_rate"] - row["lp_min_fill_rate"]) <= 0.001  # 0.1 point
    assert row["allocations_within_supply"] and row["allocations_within_orders"]
    assert row["routes_carry_the_allocations"]
    assert abs(row["unaccounted_kg"]) < 0.5  # to the kilo
    total = row["delivered_kg"] + sum(row["reported_kg"].values())
    assert total == pytest.approx(row["ordered_kg"], abs=0.5)
    alloc = read_csv_any(tmp_path / "shortage" / "allocation.csv")
    supply = read_csv_any(tmp_path / "shortage" / "supply.csv")
    assert list(alloc.columns) == ["site_id", "product_id", "ordered_kg", "allocated_kg"]
    assert list(supply.columns) == ["product_id", "available_kg"]


@pytest.mark.slow
def test_vivres_bench_week_writes_the_contract(tmp_path):
    out = tmp_path / "bench.json"
    assert main(["bench", "week", "--json", str(out), "--out", str(tmp_path / "w")]) == 0
    weeks = json.loads(out.read_text())["weeks"]
    assert [w["name"] for w in weeks] == ["normal", "shortage"]
    for w in weeks:
        assert {"name", "ordered_kg", "delivered_kg", "reported_kg", "min_fill_rate"} <= set(w)
        assert {"lp_min_fill_rate", "gini", "seconds"} <= set(w)
        assert set(w["reported_kg"]) == {"short_supply", "storage", "fleet"}
        assert (tmp_path / "w" / w["name"] / "allocation.csv").exists()
