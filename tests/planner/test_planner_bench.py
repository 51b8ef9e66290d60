"""The planner benchmark's generated instances and bar verdicts (no solving here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import planner
from core.territory import SAMPLE_DIR, load_territory

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "planner_bench.py"


def bench_module():
    spec = importlib.util.spec_from_file_location("planner_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a real-size model (the sample's 150 farms, 52 weeks)
def test_metro_instance_has_150_farms_60_crops_and_builds():
    bench = bench_module()
    terr = load_territory(SAMPLE_DIR, activity=False)
    starts = pd.date_range("2026-01-05", periods=52, freq="7D")
    hub = pd.DataFrame(
        [
            {"week_start": s, "product_id": p, "kg": 100.0, "low": 90.0, "high": 110.0}
            for s in starts
            for p in sorted(set(terr.crops["product_id"]))
        ]
    )
    metro, metro_hub = bench.scaled_instance(terr, hub, bench.SIZES["metro"])
    assert len(metro.producers) == 150 and len(metro.crops) == 60
    assert metro.producers["site_id"].isin(metro.sites["site_id"]).all()
    assert metro.producer_crops["crop_id"].isin(metro.crops["crop_id"]).all()
    assert set(metro.crop_yields["crop_id"]) == set(metro.crops["crop_id"])
    assert metro_hub["kg"].sum() == 5 * hub["kg"].sum()
    again, _ = bench.scaled_instance(terr, hub, bench.SIZES["metro"])
    pd.testing.assert_frame_equal(again.producers, metro.producers)  # seeded
    problem = planner.build_plan_problem(metro, metro_hub)
    assert problem.inputs.num_weeks == 52 and problem.model.num_int > 10_000


def test_bar_verdicts():
    bench = bench_module()
    rows = [
        {
            "instance": "sample",
            "solver": "highs",
            "gap_pct": 0.05,
            "total_s": 20.0,
            "build_share_pct": 1.0,
        },
        {
            "instance": "metro",
            "solver": "highs",
            "gap_pct": 0.7,
            "total_s": 230.0,
            "build_share_pct": 0.2,
        },
        {
            "instance": "metro",
            "solver": "cbc",
            "gap_pct": None,
            "total_s": 230.0,
            "build_share_pct": 1.0,
        },
    ]
    lines = bench.bar_verdicts(rows)
    assert lines[0].startswith("bar sample") and ": met" in lines[0]
    assert "NOT met" in lines[1] and ": met" in lines[2]
    assert len(lines) == 3
