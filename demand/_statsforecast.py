"""The only module importing statsforecast: the standard forecasting methods the model is chosen
among (and compared with), and the seasonal-naive baseline with its intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

SEASON = 52
#: statsforecast methods, in the order they are tried; MSTL needs two seasons before every
#: origin (not the case with two years of history) and is left out.
METHODS = (
    "Naive",
    "SeasonalNaive",
    "AutoETS",
    "AutoTheta",
    "CrostonSBA",
    "TSB",
    "ADIDA",
    "IMAPA",
)
#: Methods worth more than a few milliseconds per series.
SLOW_METHODS = ("AutoETS", "AutoTheta")


def _model(name: str) -> Any:
    from statsforecast import models

    if name == "SeasonalNaive":
        return models.SeasonalNaive(season_length=SEASON)
    if name == "TSB":
        return models.TSB(alpha_d=0.1, alpha_p=0.1)
    if name in ("AutoETS", "AutoTheta"):
        # season 52 is out of reach of ETS (and of Theta's decomposition on 2 seasons)
        return getattr(models, name)(season_length=1)
    return getattr(models, name)()


def _frame(y: np.ndarray, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    n, t_len = y.shape
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n), t_len),
            "ds": np.tile(weeks.to_numpy(), n),
            "y": y.ravel(),
        }
    )


def forecast_methods(
    y: np.ndarray, weeks: pd.DatetimeIndex, horizon: int, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Point forecasts (n_series × horizon) of each method in ``names`` for every row of ``y``.

    ``SeasonalNaive`` needs a full season: with less history it is the ``Naive`` forecast.
    Forecasts are clipped at zero (demand is never negative); a method that returns NaN
    (e.g. on an all-zero series) forecasts zero.
    """
    n, t_len = y.shape
    out: dict[str, np.ndarray] = {}
    if not n or not names:
        return out
    from statsforecast import StatsForecast

    wanted = [m for m in names if not (m == "SeasonalNaive" and t_len <= SEASON)]
    sf = StatsForecast(models=[_model(m) for m in wanted], freq="W-MON", n_jobs=1)
    fc = sf.forecast(df=_frame(y, weeks), h=horizon)
    fc = fc.sort_values(["unique_id", "ds"], kind="stable")
    for name in wanted:
        values = fc[name].to_numpy(dtype=float).reshape(n, horizon)
        out[name] = np.maximum(np.nan_to_num(values), 0.0)
    if "SeasonalNaive" in names and "SeasonalNaive" not in out:
        out["SeasonalNaive"] = np.repeat(y[:, -1:], horizon, axis=1)
    return out


def seasonal_naive(
    y: np.ndarray, weeks: pd.DatetimeIndex, horizon: int, level: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast each row of ``y`` (series × weeks) with statsforecast's ``SeasonalNaive``.

    Returns
    -------
    (mean, low, high)
        Arrays of shape (n_series, horizon); intervals at ``level`` percent.
    """
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    n = y.shape[0]
    sf = StatsForecast(models=[SeasonalNaive(season_length=SEASON)], freq="W-MON", n_jobs=1)
    out = sf.forecast(df=_frame(y, weeks), h=horizon, level=[level])
    out = out.sort_values(["unique_id", "ds"], kind="stable")
    shape = (n, horizon)
    mean = out["SeasonalNaive"].to_numpy().reshape(shape)
    low = out[f"SeasonalNaive-lo-{level}"].to_numpy().reshape(shape)
    high = out[f"SeasonalNaive-hi-{level}"].to_numpy().reshape(shape)
    return mean, np.maximum(low, 0.0), high
