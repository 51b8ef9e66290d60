"""Interval calibration from the errors of the inner backtest windows, split or adaptive.

Each inner window (``demand.select``) leaves the relative errors ``actual / forecast - 1`` of
its cells, with each cell's family and forecast-size bucket (``demand.forecast._buckets``).

- ``"split"``: split conformal — every window's errors pooled, each (family, bucket) pool's
  ``alpha / 2`` and ``1 - alpha / 2`` quantiles.
- ``"adaptive"``: the level update of adaptive conformal inference (Gibbs & Candès 2021,
  "Adaptive conformal inference under distribution shift"), one tail at a time. The windows
  are replayed in time order against the pooled quantiles of every window taken at the tail
  levels ``a_lo``, ``a_hi`` (both ``alpha / 2`` at first); after window ``j`` each level
  moves by ``gamma × (alpha / 2 - share of window j's cells past that bound)``. A tail
  missed more often than it should be is pushed further out, one missed less often is
  pulled in, the latest windows last. The interval is those pooled quantiles at the final
  levels. Sales that drift (a chain's orange juice fell while deals went on) leave the
  latest windows under the pooled low bound; the split interval then sits too high, the
  adaptive one follows the drift. Unlike the paper's online form, each window is judged
  against the quantiles of all the windows, those the final interval is taken from (the
  windows all lie before the forecast origin). The step is per window, and the windows are
  few (5 to 26) and each a batch of hundreds of cells, so it is far larger than the paper's
  0.005 per single point (``ForecastParams.interval_gamma``).

Both use only the windows inside the history before the forecast origin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demand.forecast import BUCKET_EDGES, MIN_POOL

#: Interval calibrations (``ForecastParams.interval``).
INTERVALS = ("split", "adaptive")
#: Bounds of the adaptive tail levels: never an empty tail, never past the median.
LEVEL_BOUNDS = (0.0, 0.5)
#: Cells a window needs for a full step: the share of a 10 % tail over fewer cells is mostly
#: noise (± 0.05 over 35 cells), and a level moved by noise walks to its bound.
FULL_STEP_CELLS = 100


@dataclass(frozen=True, slots=True)
class Window:
    """The relative errors of one inner window's cells (forecast > 0), with their pools."""

    err: np.ndarray
    fam: np.ndarray  # family of each cell
    buck: np.ndarray  # forecast-size bucket of each cell


@dataclass(frozen=True, slots=True)
class Calibration:
    """Quantiles per pool, and the tail levels they were taken at (split: ``alpha / 2``)."""

    quantiles: dict[tuple[str, int], tuple[float, float]]
    level_lo: float
    level_hi: float


def pool_quantiles(
    err: np.ndarray, fam: np.ndarray, buck: np.ndarray, level_lo: float, level_hi: float
) -> dict[tuple[str, int], tuple[float, float]]:
    """The ``level_lo`` and ``1 - level_hi`` quantiles of relative errors by (family, bucket),
    (family, -1) and ("*", -1); pools under :data:`~demand.forecast.MIN_POOL` cells are
    left to the wider ones."""

    def quantiles(e: np.ndarray) -> tuple[float, float]:
        return float(np.quantile(e, level_lo)), float(np.quantile(e, 1 - level_hi))

    if not len(err):
        return {}
    out = {("*", -1): quantiles(err)}
    for name in np.unique(fam):
        in_fam = fam == name
        if in_fam.sum() >= MIN_POOL:
            out[(str(name), -1)] = quantiles(err[in_fam])
        for b in range(len(BUCKET_EDGES) + 1):
            pool = in_fam & (buck == b)
            if pool.sum() >= MIN_POOL:
                out[(str(name), b)] = quantiles(err[pool])
    return out


def interval_quantiles(
    q: dict[tuple[str, int], tuple[float, float]], family: np.ndarray, buckets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper relative quantiles of each cell (``buckets``' shape; ``family`` per
    cell or per row), from the most specific pool that has them; ±50 % without any."""
    lo = np.full(buckets.shape, -0.5)
    hi = np.full(buckets.shape, 0.5)
    if not q:
        return lo, hi
    fam = family[:, None] if family.ndim < buckets.ndim else family
    fam = np.broadcast_to(fam, buckets.shape)
    for (name, b), (ql, qh) in sorted(q.items(), key=lambda kv: (kv[0][0] != "*", kv[0][1])):
        # fill from the widest pool to the narrowest, so the most specific one wins
        mask = np.ones(buckets.shape, dtype=bool) if name == "*" else fam == name
        if b >= 0:
            mask = mask & (buckets == b)
        lo[mask] = ql
        hi[mask] = qh
    return lo, hi


def _pooled(windows: list[Window]) -> Window:
    return Window(
        err=np.concatenate([w.err for w in windows]),
        fam=np.concatenate([w.fam for w in windows]).astype(str),
        buck=np.concatenate([w.buck for w in windows]),
    )


def calibrate(windows: list[Window], alpha: float, *, method: str, gamma: float) -> Calibration:
    """Interval quantiles per pool from the inner windows' errors, ``windows`` oldest first
    (see the module docstring); ``gamma`` is the adaptive step per window
    (``ForecastParams.interval_gamma``)."""
    if method not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}; got {method!r}")
    level_lo = level_hi = alpha / 2
    windows = [w for w in windows if len(w.err)]
    if not windows:
        return Calibration(quantiles={}, level_lo=level_lo, level_hi=level_hi)
    every = _pooled(windows)
    if method == "adaptive":
        for w in windows:
            q = pool_quantiles(every.err, every.fam, every.buck, level_lo, level_hi)
            lo, hi = interval_quantiles(q, w.fam, w.buck)
            step = gamma * min(1.0, len(w.err) / FULL_STEP_CELLS)
            level_lo += step * (alpha / 2 - float(np.mean(w.err < lo)))
            level_hi += step * (alpha / 2 - float(np.mean(w.err > hi)))
            level_lo, level_hi = (float(np.clip(v, *LEVEL_BOUNDS)) for v in (level_lo, level_hi))
    quantiles = pool_quantiles(every.err, every.fam, every.buck, level_lo, level_hi)
    return Calibration(quantiles=quantiles, level_lo=level_lo, level_hi=level_hi)
