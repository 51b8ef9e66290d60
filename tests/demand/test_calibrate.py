"""Interval calibration over the inner windows: split conformal and adaptive (drift-following)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from demand.calibrate import FULL_STEP_CELLS, Window, calibrate, interval_quantiles
from demand.forecast import ForecastParams

ALPHA = 0.2
GAMMA = ForecastParams().interval_gamma


def _windows(num_windows: int, drift: float, seed: int, cells: int = 300) -> list[Window]:
    """Windows oldest first whose relative errors move down by ``drift`` per window."""
    rng = np.random.default_rng(seed)
    return [
        Window(
            err=-drift * j + rng.normal(0.0, 0.2, cells),
            fam=np.full(cells, "fruit"),
            buck=np.ones(cells, dtype=int),
        )
        for j in range(num_windows)
    ]


def _coverage(method: str, drift: float, seeds: range = range(20)) -> float:
    """Mean coverage of the window after 11 calibration windows, over ``seeds``."""
    out = []
    for seed in seeds:
        *past, following = _windows(12, drift, seed)
        q = calibrate(past, ALPHA, method=method, gamma=GAMMA).quantiles
        lo, hi = interval_quantiles(q, following.fam, following.buck)
        out.append(np.mean((following.err >= lo) & (following.err <= hi)))
    return float(np.mean(out))


def test_adaptive_intervals_follow_a_drift_that_split_ones_miss():
    # the errors fall by 0.025 a window: intervals pooled over every window sit too high
    assert _coverage("split", 0.025) < 0.75
    assert 0.75 <= _coverage("adaptive", 0.025) <= 0.85


def test_adaptive_intervals_stay_calibrated_without_drift():
    assert 0.75 <= _coverage("adaptive", 0.0) <= 0.85
    assert abs(_coverage("adaptive", 0.0) - _coverage("split", 0.0)) < 0.03


def test_a_tail_missed_too_often_is_pushed_out_and_the_other_pulled_in():
    calibration = calibrate(_windows(12, 0.025, seed=1), ALPHA, method="adaptive", gamma=GAMMA)
    assert calibration.level_lo < ALPHA / 2 < calibration.level_hi
    split = calibrate(_windows(12, 0.025, seed=1), ALPHA, method="split", gamma=GAMMA)
    assert (split.level_lo, split.level_hi) == (ALPHA / 2, ALPHA / 2)
    (lo, hi), (split_lo, split_hi) = calibration.quantiles[("*", -1)], split.quantiles[("*", -1)]
    assert lo < split_lo and hi < split_hi


def test_no_step_is_split_conformal():
    windows = _windows(8, 0.03, seed=2)
    still = calibrate(windows, ALPHA, method="adaptive", gamma=0.0)
    assert still.quantiles == calibrate(windows, ALPHA, method="split", gamma=GAMMA).quantiles


def test_the_window_order_matters_only_to_the_adaptive_intervals():
    windows = _windows(8, 0.03, seed=3)
    assert (
        calibrate(windows, ALPHA, method="split", gamma=GAMMA).quantiles
        == calibrate(windows[::-1], ALPHA, method="split", gamma=GAMMA).quantiles
    )
    assert (
        calibrate(windows, ALPHA, method="adaptive", gamma=GAMMA).quantiles
        != calibrate(windows[::-1], ALPHA, method="adaptive", gamma=GAMMA).quantiles
    )


def test_pools_too_small_fall_back_to_wider_ones():
    rng = np.random.default_rng(4)
    err = rng.normal(0.0, 0.2, 120)
    fam = np.array(["fruit"] * 100 + ["dairy"] * 20)
    buck = np.array([0] * 60 + [1] * 40 + [0] * 20)
    q = calibrate(
        [Window(err=err, fam=fam, buck=buck)], ALPHA, method="split", gamma=GAMMA
    ).quantiles
    assert ("fruit", 0) in q and ("fruit", -1) in q and ("fruit", 1) not in q
    assert not any(name == "dairy" for name, _ in q)
    lo, _ = interval_quantiles(q, np.array(["fruit", "fruit", "dairy"]), np.array([0, 1, 0]))
    assert lo.tolist() == [q[("fruit", 0)][0], q[("fruit", -1)][0], q[("*", -1)][0]]


def test_no_windows_give_the_default_half_width():
    q = calibrate([], ALPHA, method="adaptive", gamma=GAMMA).quantiles
    lo, hi = interval_quantiles(q, np.array(["fruit"]), np.zeros((1, 3), dtype=int))
    assert np.all(lo == -0.5) and np.all(hi == 0.5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"interval": "bootstrap"}, "interval"), ({"interval_gamma": 1.5}, "interval_gamma")],
)
def test_bad_interval_settings_are_input_errors(kwargs, field):
    with pytest.raises(InputError, match=field):
        ForecastParams(**kwargs)


def test_a_window_of_few_cells_moves_the_levels_less():
    # the same errors ten times over: same shares past each bound, ten times the cells
    rng = np.random.default_rng(6)
    base = [np.concatenate([rng.normal(0.0, 0.2, 25), rng.normal(-0.4, 0.2, 5)]) for _ in range(4)]

    def levels(copies: int) -> tuple[float, float]:
        windows = [
            Window(
                err=np.tile(err, copies),
                fam=np.full(len(err) * copies, "fruit"),
                buck=np.ones(len(err) * copies, dtype=int),
            )
            for err in base
        ]
        c = calibrate(windows, ALPHA, method="adaptive", gamma=GAMMA)
        return c.level_lo - ALPHA / 2, c.level_hi - ALPHA / 2

    few, many = levels(1), levels(10)
    assert FULL_STEP_CELLS > 30
    assert 0 < abs(few[0]) < abs(many[0]) and 0 < abs(few[1]) < abs(many[1])
