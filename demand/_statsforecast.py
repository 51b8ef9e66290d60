"""The only module importing statsforecast: the seasonal-naive baseline and its intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

SEASON = 52


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

    n, t_len = y.shape
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n), t_len),
            "ds": np.tile(weeks.to_numpy(), n),
            "y": y.ravel(),
        }
    )
    sf = StatsForecast(models=[SeasonalNaive(season_length=SEASON)], freq="W-MON", n_jobs=1)
    out = sf.forecast(df=df, h=horizon, level=[level])
    out = out.sort_values(["unique_id", "ds"], kind="stable")
    shape = (n, horizon)
    mean = out["SeasonalNaive"].to_numpy().reshape(shape)
    low = out[f"SeasonalNaive-lo-{level}"].to_numpy().reshape(shape)
    high = out[f"SeasonalNaive-hi-{level}"].to_numpy().reshape(shape)
    return mean, np.maximum(low, 0.0), high
