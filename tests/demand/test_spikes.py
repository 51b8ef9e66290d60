"""Promotion spikes capped in the history the standard methods learn from (demand.spikes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import demand
from core.errors import InputError
from demand import spikes
from demand.forecast import ForecastParams
from demand.spikes import cap_spikes


def test_a_spike_is_capped_at_factor_times_the_median_before_it():
    y = np.array([[10.0, 12.0, 8.0, 10.0, 11.0, 90.0, 10.0, 9.0]])
    out = cap_spikes(y, 2.0, 13)
    # the median of the 5 weeks before the spike is 10
    assert out[0, 5] == pytest.approx(20.0)
    # every other week is within 2x the median of the weeks before it: untouched
    assert np.array_equal(np.delete(out[0], 5), np.delete(y[0], 5))
    assert y[0, 5] == 90.0  # the input is not modified


def test_too_few_weeks_zero_medians_and_factor_zero_cap_nothing():
    # the first MIN_WEEKS weeks have too few weeks before them
    y = np.array([[1.0, 50.0, 1.0, 80.0, 1.0, 1.0]])
    assert cap_spikes(y, 2.0, 13)[0, :4].tolist() == [1.0, 50.0, 1.0, 80.0]
    # an intermittent series (median 0) keeps its sales
    sparse = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 0.0, 0.0, 9.0]])
    assert np.array_equal(cap_spikes(sparse, 2.0, 13), sparse)
    spiky = np.array([[10.0] * 6 + [100.0]])
    assert np.array_equal(cap_spikes(spiky, 0.0, 13), spiky)
    assert cap_spikes(spiky, 2.0, 13)[0, -1] == pytest.approx(20.0)


def test_the_window_is_the_last_weeks_only():
    # a level that doubled 8 weeks ago: with a 4-week window the new level is the median
    y = np.array([[10.0] * 10 + [20.0] * 8 + [45.0]])
    assert cap_spikes(y, 2.0, 4)[0, -1] == 40.0
    # with 26 weeks (18 there), the median is still the old level
    assert cap_spikes(y, 2.0, 26)[0, -1] == 20.0
    assert cap_spikes(y, 5.0, 26)[0, -1] == 45.0


def test_chunks_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(1)
    y = rng.gamma(2, 5, size=(23, 40))
    y[rng.random(y.shape) < 0.05] *= 10
    whole = cap_spikes(y, 2.0, 13)
    monkeypatch.setattr(spikes, "CHUNK", 5)
    assert np.array_equal(cap_spikes(y, 2.0, 13), whole)
    assert (whole <= y).all() and (whole < y).any()


def _promo_weekly(n_weeks: int = 90, seed: int = 0) -> pd.DataFrame:
    """2 shops × 2 products at a steady 10 kg a week, × 6 in random promotion weeks (one in 8),
    the last week a promotion."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2024-01-01", periods=n_weeks, freq="7D")
    rows = []
    for site in ("S1", "S2"):
        for product in ("lait", "pomme"):
            kg = rng.gamma(25, 10 / 25, size=n_weeks)
            promo = rng.random(n_weeks) < 1 / 8
            promo[-1] = True
            kg = np.where(promo, 6 * kg, kg)
            rows.append(
                pd.DataFrame(
                    {"week_start": weeks, "site_id": site, "product_id": product, "kg": kg}
                )
            )
    return pd.concat(rows, ignore_index=True)


FAM = {"lait": "dairy", "pomme": "fruit"}


def test_naive_does_not_carry_a_promotion_forward():
    weekly = _promo_weekly()
    raw = ForecastParams(candidates=("Naive",), spike_factor=0, calib_origins=2)
    capped = ForecastParams(candidates=("Naive",), calib_origins=2)
    copied = demand.forecast_demand(weekly, horizon_weeks=4, families=FAM, params=raw)
    usual = demand.forecast_demand(weekly, horizon_weeks=4, families=FAM, params=capped)
    assert copied["kg"].min() > 30  # the promotion week, copied for 4 weeks
    assert usual["kg"].max() < 2 * 14  # at most twice the usual level (10 kg ± noise)


def test_the_model_beats_the_raw_methods_on_promotion_spikes():
    weekly = _promo_weekly(110)
    params = ForecastParams(candidates=("Naive", "CrostonSBA", "ADIDA"), calib_origins=4)
    result = demand.backtest(weekly, origins=2, families=FAM, params=params)
    best = min(m["wape"] for m in result.methods)
    assert result.model["wape"] < best
    assert result.hub["model"]["wape"] < min(m["wape"] for m in result.hub["methods"])


@pytest.mark.parametrize("kwargs", [{"spike_factor": -1}, {"spike_weeks": 0}])
def test_bad_spike_knobs_are_input_errors(kwargs):
    with pytest.raises(InputError, match=next(iter(kwargs))):
        ForecastParams(**kwargs)
