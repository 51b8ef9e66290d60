"""Model choice by backtest on the history alone, reconciled levels, calibrated intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_demand_forecast import FAMILIES, PRODUCTS, make_weekly

import demand
from core.errors import InputError
from demand.forecast import ForecastParams
from demand.select import Inner, choose, forecast_panel

CHEAP = ("HubSeasonalShare", "Naive", "SeasonalNaive", "CrostonSBA", "ADIDA")


def _panel(n_weeks: int = 90, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.gamma(4, 5, size=(6, n_weeks))
    prod_idx = np.array([0, 0, 0, 1, 1, 1])
    site_idx = np.array([0, 1, 2, 0, 1, 2])
    family = np.array(["a", "a", "a", "b", "b", "b"])
    weeks = pd.date_range("2024-01-01", periods=n_weeks, freq="7D")
    return y, weeks, prod_idx, site_idx, family


def test_choice_is_the_lowest_wape_of_each_family():
    # family a: Naive is exact; family b: Croston is exact; the third method is poor on both
    actual = np.ones((4, 3))
    forecasts = {
        "Naive": np.array([[1.0] * 3, [1.0] * 3, [3.0] * 3, [3.0] * 3]),
        "CrostonSBA": np.array([[2.0] * 3, [2.0] * 3, [1.0] * 3, [1.0] * 3]),
        "ADIDA": np.full((4, 3), 5.0),
    }
    windows = 8  # 7 x 4 + 13 = 41 weeks >= MIN_SWITCH_WEEKS; with 1, family a keeps the overall
    inner = Inner(
        rows=np.arange(4),
        origins=list(range(10, 10 + windows)),
        forecasts=[forecasts] * windows,
        actuals=[actual] * windows,
    )
    family = np.array(["a", "a", "b", "b"])
    params = ForecastParams(candidates=("Naive", "CrostonSBA", "ADIDA"), ensemble=False)
    assert choose(inner, family, params) == {"a": ("Naive",), "b": ("CrostonSBA",)}
    few = Inner(rows=inner.rows, origins=[10], forecasts=[forecasts], actuals=[actual])
    # the overall best (CrostonSBA: 6 off in all against Naive's 12) for both
    assert choose(few, family, params) == {"a": ("CrostonSBA",), "b": ("CrostonSBA",)}


def test_a_family_departs_only_when_it_wins_on_most_windows():
    # family a: Naive exact, CrostonSBA 1 off everywhere (the overall choice is Naive);
    # family b: CrostonSBA far better on 2 windows of 8 (lower in sum), a little worse on 6
    actual = np.ones((4, 3))

    def window(b_naive: float, b_croston: float) -> dict[str, np.ndarray]:
        return {
            "Naive": np.array([[1.0] * 3, [1.0] * 3, [1 + b_naive] * 3, [1 + b_naive] * 3]),
            "CrostonSBA": np.array(
                [[2.0] * 3, [2.0] * 3, [1 + b_croston] * 3, [1 + b_croston] * 3]
            ),
        }

    inner = Inner(
        rows=np.arange(4),
        origins=list(range(10, 18)),
        forecasts=[window(3.0, 0.0)] * 2 + [window(0.2, 0.3)] * 6,
        actuals=[actual] * 8,
    )
    family = np.array(["a", "a", "b", "b"])
    params = ForecastParams(candidates=("Naive", "CrostonSBA"), ensemble=False)
    assert choose(inner, family, params) == {"a": ("Naive",), "b": ("Naive",)}
    anyhow = ForecastParams(candidates=("Naive", "CrostonSBA"), ensemble=False, switch_share=0)
    assert choose(inner, family, anyhow) == {"a": ("Naive",), "b": ("CrostonSBA",)}


def test_ensemble_only_when_it_scores_lower():
    actual = np.full((2, 2), 2.0)
    forecasts = {"Naive": np.full((2, 2), 1.0), "ADIDA": np.full((2, 2), 3.0)}
    forecasts["CrostonSBA"] = np.full((2, 2), 2.0 + 0.9)
    inner = Inner(rows=np.arange(2), origins=[5], forecasts=[forecasts], actuals=[actual])
    params = ForecastParams(candidates=("Naive", "CrostonSBA", "ADIDA"))
    # best alone is CrostonSBA (0.9 off); the mean of the three is 2.3 (0.3 off)
    assert choose(inner, np.array(["a", "a"]), params) == {"a": ("CrostonSBA", "Naive", "ADIDA")}


def test_a_level_shift_is_followed_by_the_choice():
    # every series jumps to a new level 20 weeks before the end: the last value is the best
    # guide, the hub's last-year profile is not
    weekly = make_weekly(100, noise=0.01)
    weekly["kg"] = np.where(weekly["week_start"] >= pd.Timestamp("2025-06-16"), 80.0, 10.0)
    params = ForecastParams(candidates=CHEAP, ensemble=False, calib_origins=2)
    fc = demand.forecast_demand(weekly, horizon_weeks=4, families=FAMILIES, params=params)
    assert set(map(tuple, fc.attrs["choice"]["shop"].values())) == {("Naive",)}
    assert fc["kg"].to_numpy() == pytest.approx(80.0)


@pytest.mark.parametrize("mode", ["top_down", "bottom_up", "choose"])
def test_shop_forecasts_add_up_to_the_hub_forecast(mode):
    y, weeks, prod_idx, site_idx, family = _panel()
    params = ForecastParams(candidates=CHEAP, reconcile=mode, calib_origins=2)
    fit = forecast_panel(y, weeks, prod_idx, site_idx, family, 6, 0.2, params)
    for p in (0, 1):
        assert fit.shop[prod_idx == p].sum(axis=0) == pytest.approx(fit.hub[p])
    assert (fit.shop >= 0).all()


def test_the_choice_sees_only_the_history_before_the_start():
    weekly = make_weekly(100)
    params = ForecastParams(candidates=CHEAP, calib_origins=2)
    start = pd.Timestamp("2025-06-02")
    fc = demand.forecast_demand(weekly, horizon_weeks=4, start=start, params=params)
    later = weekly.copy()
    later.loc[later["week_start"] >= start, "kg"] *= 10  # the future changes, the past does not
    again = demand.forecast_demand(later, horizon_weeks=4, start=start, params=params)
    pd.testing.assert_frame_equal(fc, again)
    assert fc.attrs["choice"] == again.attrs["choice"]


def test_intervals_are_calibrated_on_a_stationary_panel():
    weekly = make_weekly(104, noise=0.3, seed=5)
    result = demand.backtest(
        weekly,
        origins=3,
        horizon=6,
        step=6,
        families=FAMILIES,
        params=ForecastParams(candidates=CHEAP, calib_origins=6, calib_horizon=6, calib_step=4),
    )
    assert 0.65 <= result.model["coverage80"] <= 0.95
    assert 0.6 <= result.hub["model"]["coverage80"] <= 1.0
    names = [m["name"] for m in result.methods]
    assert names == list(CHEAP)
    assert [m["name"] for m in result.hub["methods"]] == list(CHEAP)


def test_hub_demand_of_the_chosen_model_keeps_its_contract():
    fc = demand.forecast_demand(
        make_weekly(80), horizon_weeks=5, families=FAMILIES, params=ForecastParams(candidates=CHEAP)
    )
    hub = demand.hub_demand(fc, PRODUCTS)
    assert (hub["low"] <= hub["kg"]).all() and (hub["kg"] <= hub["high"]).all()
    assert fc.attrs["model"] == "ChosenByBacktest"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"candidates": ("Prophet",)}, "candidates"),
        ({"candidates": ()}, "candidates"),
        ({"reconcile": "mint"}, "reconcile"),
        ({"select_series": 0}, "select_series"),
    ],
)
def test_bad_choice_settings_are_input_errors(kwargs, field):
    with pytest.raises(InputError, match=field):
        ForecastParams(**kwargs)
