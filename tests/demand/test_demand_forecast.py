"""Forecast shape and intervals, hub aggregation, and a tiny backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import demand
from core.errors import InputError
from demand._statsforecast import SLOW_METHODS
from demand.forecast import CANDIDATES, ForecastParams
from demand.orders import OrderCheckParams

PRODUCTS = pd.DataFrame(
    {
        "product_id": ["tomate", "lait", "pomme"],
        "category": ["vegetable", "dairy", "fruit"],
        "storage_class": ["fresh", "chilled", "ambient"],
    }
)
FAMILIES = PRODUCTS.set_index("product_id")["category"]

# under -n, one worker: the module's forecasts (module fixtures) are made once
pytestmark = pytest.mark.xdist_group("test_demand_forecast")

#: Every candidate but AutoETS and AutoTheta (≈ 90 % of a default forecast's time here), for
#: the tests that check what the forecast does, not which model it picks. On each of their
#: inputs the defaults choose HubSeasonalShare as well and give the same frame (compared on
#: every input when CHEAP was introduced; test_the_cheap_candidates_give_the_default_forecast
#: keeps comparing on one). The intervals and determinism stay on the defaults
#: (``family_forecast``, whose choice runs AutoETS and AutoTheta too); the choice itself is
#: tested in test_demand_select.py.
CHEAP = ForecastParams(candidates=tuple(c for c in CANDIDATES if c not in SLOW_METHODS))


def make_weekly(n_weeks: int = 100, *, seed: int = 0, noise: float = 0.3) -> pd.DataFrame:
    """3 sites × 3 products: a summer product, a flat one, a winter one; gamma noise."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2024-01-01", periods=n_weeks, freq="7D")
    t = np.arange(n_weeks)
    season = {
        "tomate": np.clip(np.sin(2 * np.pi * (t - 13) / 52), 0, None) * 40,
        "lait": np.full(n_weeks, 20.0),
        "pomme": (1 + np.cos(2 * np.pi * t / 52)) * 10,
    }
    rows = []
    for site, size in (("S1", 1.0), ("S2", 2.0), ("S3", 0.5)):
        for product, mean in season.items():
            mu = size * mean
            shape = 1 / noise**2
            kg = np.where(mu > 0, rng.gamma(shape, np.maximum(mu, 1e-9) / shape), 0.0)
            rows.append(
                pd.DataFrame(
                    {"week_start": weeks, "site_id": site, "product_id": product, "kg": kg}
                )
            )
    return pd.concat(rows, ignore_index=True)


# forecasts are the slow part: the tests that read the same one share it (each takes a copy)
@pytest.fixture(scope="module")
def site_forecast() -> pd.DataFrame:
    """``make_weekly()``'s forecast 6 weeks ahead, without families (CHEAP: the same frame)."""
    return demand.forecast_demand(make_weekly(), horizon_weeks=6, params=CHEAP)


@pytest.fixture(scope="module")
def family_forecast() -> pd.DataFrame:
    """``make_weekly()``'s forecast 10 weeks ahead, per family, on the default candidates."""
    return demand.forecast_demand(make_weekly(), horizon_weeks=10, families=FAMILIES)


def test_forecast_has_the_contract_columns_and_ordered_bounds(family_forecast):
    weekly = make_weekly()
    fc = family_forecast.copy()
    assert list(fc.columns) == ["week_start", "site_id", "product_id", "kg", "low", "high"]
    assert len(fc) == 9 * 10
    # starts the Monday after the last history week
    assert fc["week_start"].min() == weekly["week_start"].max() + pd.Timedelta(weeks=1)
    assert (fc["week_start"].dt.weekday == 0).all()
    assert (fc["low"] >= 0).all()
    assert (fc["low"] <= fc["kg"]).all()
    assert (fc["kg"] <= fc["high"]).all()
    assert fc[["kg", "low", "high"]].notna().all().all()


def test_flat_noiseless_series_is_forecast_exactly():
    weekly = make_weekly(80)
    weekly["kg"] = 7.0
    fc = demand.forecast_demand(weekly, horizon_weeks=60, params=CHEAP)
    assert fc["kg"].to_numpy() == pytest.approx(7.0)


def test_seasonal_shape_is_followed():
    weekly = make_weekly(104, noise=0.05)
    fc = demand.forecast_demand(weekly, horizon_weeks=52, params=CHEAP)
    tomato = fc.loc[(fc["site_id"] == "S2") & (fc["product_id"] == "tomate")]
    peak = tomato.loc[tomato["kg"].idxmax(), "week_start"]
    # summer peak (week 26 of the sinus) and nothing in winter
    assert 5 <= peak.month <= 8
    assert tomato.loc[tomato["week_start"].dt.month == 1, "kg"].max() < 5


def test_start_in_the_past_ignores_later_history():
    weekly = make_weekly(100)
    start = pd.Timestamp("2025-06-04")  # a Wednesday: its week's Monday is used
    fc = demand.forecast_demand(weekly, horizon_weeks=4, start=start, params=CHEAP)
    assert fc["week_start"].min() == pd.Timestamp("2025-06-02")
    truncated = weekly.loc[weekly["week_start"] < pd.Timestamp("2025-06-02")]
    again = demand.forecast_demand(truncated, horizon_weeks=4, params=CHEAP)
    assert fc["kg"].to_numpy() == pytest.approx(again["kg"].to_numpy())


def test_same_input_same_forecast(family_forecast):
    # on the default candidates, with the per-family choice
    weekly = make_weekly()
    a = family_forecast.copy()
    b = demand.forecast_demand(
        weekly.sample(frac=1.0, random_state=1), horizon_weeks=10, families=FAMILIES
    )
    pd.testing.assert_frame_equal(a, b)


def test_short_history_still_forecasts():
    fc = demand.forecast_demand(make_weekly(20), horizon_weeks=5, params=CHEAP)
    assert (fc["low"] <= fc["kg"]).all() and (fc["kg"] <= fc["high"]).all()


@pytest.mark.parametrize("kwargs", [{"horizon_weeks": 0}, {"level": 100}])
def test_bad_forecast_options_are_input_errors(kwargs):
    with pytest.raises(InputError):
        demand.forecast_demand(make_weekly(60), **kwargs)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: ForecastParams(activity_shrink=2), "activity_shrink"),
        (lambda: ForecastParams(smooth_weeks=-1), "smooth_weeks"),
        (lambda: ForecastParams(level_weeks=0), "level_weeks"),
        (lambda: ForecastParams(calib_step=0), "calib_step"),
        (lambda: OrderCheckParams(absurd_factor=1), "absurd_factor"),
        (lambda: OrderCheckParams(absurd_min_kg=-1), "absurd_min_kg"),
        (lambda: OrderCheckParams(min_history=0), "min_history"),
    ],
)
def test_bad_settings_are_input_errors_naming_the_field(make, field):
    with pytest.raises(InputError, match=field):  # exit 2 on the CLI, 4xx over HTTP
        make()


def test_the_cheap_candidates_give_the_default_forecast(family_forecast):
    # what CHEAP stands on: where the defaults choose HubSeasonalShare, leaving AutoETS and
    # AutoTheta out changes nothing (if a default changes that, the tests using CHEAP need a look)
    cheap = demand.forecast_demand(make_weekly(), horizon_weeks=10, families=FAMILIES, params=CHEAP)
    pd.testing.assert_frame_equal(cheap, family_forecast)
    assert cheap.attrs == family_forecast.attrs


def test_hub_demand_sums_sites_and_adds_storage_class(site_forecast):
    fc = site_forecast.copy()
    hub = demand.hub_demand(fc, PRODUCTS)
    assert list(hub.columns) == ["week_start", "product_id", "storage_class", "kg", "low", "high"]
    assert len(hub) == 3 * 6
    assert hub["kg"].sum() == pytest.approx(fc["kg"].sum())
    assert (hub["low"] <= hub["kg"]).all() and (hub["kg"] <= hub["high"]).all()
    lait = hub.loc[hub["product_id"] == "lait"]
    assert (lait["storage_class"] == "chilled").all()
    # errors of sites partly cancel: the hub interval is narrower than the summed site bounds
    assert hub["high"].sum() < fc["high"].sum()


def test_hub_demand_rejects_unknown_products(site_forecast):
    fc = site_forecast.copy()
    with pytest.raises(InputError, match="not in the catalogue"):
        demand.hub_demand(fc, PRODUCTS.iloc[:2])


def test_tiny_backtest_runs_and_reports_the_contract():
    weekly = make_weekly(80)
    # the cheap candidates: model, baseline, families and choices are the defaults' ones (the
    # comparison table lacks AutoETS and AutoTheta, which this test does not read)
    result = demand.backtest(weekly, origins=2, horizon=4, step=4, families=FAMILIES, params=CHEAP)
    d = result.to_json_dict()
    assert {"model", "baseline", "by_family", "hub", "methods", "choices"} <= set(d)
    for side in ("model", "baseline"):
        assert set(d[side]) == {"name", "wape", "mase", "coverage80"}
        assert 0 <= d[side]["coverage80"] <= 1
        assert d[side]["wape"] > 0
    assert d["baseline"]["name"] == "SeasonalNaive"
    assert {f["family"] for f in d["by_family"]} == {"vegetable", "dairy", "fruit"}
    assert result.origins == ["2025-05-19", "2025-06-16"]  # weeks 72 and 76
    # pooling the season at hub level beats repeating last year's noisy site week
    assert d["model"]["wape"] < d["baseline"]["wape"]


def test_backtest_needs_a_season_of_history():
    with pytest.raises(InputError, match="52 weeks"):
        demand.backtest(make_weekly(60), origins=2, horizon=8)


def test_hub_interval_is_calibrated_and_falls_back_to_quadrature(family_forecast):
    fc = family_forecast.copy()
    calibrated = demand.hub_demand(fc, PRODUCTS)
    # a frame without the calibration (e.g. read back from CSV) adds site errors in quadrature
    plain = fc.copy()
    plain.attrs = {}
    quadrature = demand.hub_demand(plain, PRODUCTS)
    assert calibrated["kg"].to_numpy() == pytest.approx(quadrature["kg"].to_numpy())
    assert not np.allclose(calibrated["high"], quadrature["high"])
    lo2 = ((fc["kg"] - fc["low"]) ** 2).groupby([fc["week_start"], fc["product_id"]]).sum()
    first = quadrature.iloc[0]
    expected_low = max(first["kg"] - np.sqrt(lo2[(first["week_start"], first["product_id"])]), 0)
    assert first["low"] == pytest.approx(expected_low)
    for hub in (calibrated, quadrature):
        assert (hub["low"] <= hub["kg"]).all() and (hub["kg"] <= hub["high"]).all()


def test_forecast_frame_writes_to_parquet_without_warnings(tmp_path):
    fc = demand.forecast_demand(make_weekly(70), horizon_weeks=3, params=CHEAP)
    fc.to_parquet(tmp_path / "f.parquet")  # attrs must be JSON-serialisable
    assert len(pd.read_parquet(tmp_path / "f.parquet")) == len(fc)
