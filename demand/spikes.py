"""Promotion spikes taken out of the history a standard method learns its level from.

Promotions lift a week's sales far above the product's usual level and cannot be foreseen
from the sales history alone. A method fitted on the raw history copies them into the level it
carries forward (Naive copies the last spike for 13 weeks; exponential smoothing and Croston
raise their level after each). WAPE is an absolute error, so the best point forecast of a
week that may or may not be promoted is near its median, i.e. the usual level: capping each
week at ``factor`` × the median of the ``weeks`` weeks before it gives the methods that
usual level. The actuals the forecasts are judged against are never capped.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Fewest earlier weeks whose median caps a week (before that, the week is kept as it is).
MIN_WEEKS = 4
CHUNK = 2000


def cap_spikes(y: np.ndarray, factor: float, weeks: int) -> np.ndarray:
    """``y`` (series × weeks) with each week capped at ``factor`` × the median of the
    ``weeks`` weeks before it (at least :data:`MIN_WEEKS` of them; a zero median caps
    nothing, so intermittent series keep their sales). ``factor <= 0`` returns ``y``."""
    n, t_len = y.shape
    if factor <= 0 or t_len <= MIN_WEEKS or n == 0:
        return y
    if n > CHUNK:  # bounded memory: the windows' copy is series × weeks × `weeks` floats
        return np.concatenate(
            [cap_spikes(y[i : i + CHUNK], factor, weeks) for i in range(0, n, CHUNK)]
        )
    # median of the previous `weeks` weeks for every week t >= MIN_WEEKS; the first weeks
    # (fewer than `weeks` before them) use what there is, padded with NaN
    padded = np.concatenate([np.full((n, weeks), np.nan), y[:, :-1]], axis=1)
    windows = sliding_window_view(padded, weeks, axis=1)  # (n, t_len, weeks)
    count = np.sum(~np.isnan(windows), axis=2)
    with np.errstate(all="ignore"):
        med = np.full((n, t_len), np.nan)
        ok_t = np.flatnonzero(count[0] >= MIN_WEEKS)
        if ok_t.size:
            med[:, ok_t] = np.nanmedian(windows[:, ok_t, :], axis=2)
    cap = np.where(np.isnan(med) | (med <= 0), np.inf, factor * med)
    return np.minimum(y, cap)
