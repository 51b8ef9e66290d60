"""Rolling-origin backtest of the demand forecast against the seasonal-naive baseline.

At each origin, both methods see only the weeks before it and forecast the next ``horizon``
weeks of every (site, product) series; the errors are pooled over origins:

- **WAPE** = Σ|actual − forecast| / Σ actual;
- **MASE** = mean over (series, origin) of MAE / (in-sample MAE of the one-week naive
  forecast), series whose in-sample scale is zero left out. The one-week naive scale is used
  rather than the 52-week one because, with two years of history, the seasonal scale rests on
  only ``origin - 52`` weeks and is near zero for products out of season then;
- **coverage80** = share of actual values inside the interval (at ``level``, 80 % by default).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InputError
from demand._statsforecast import seasonal_naive
from demand.forecast import (
    MODEL_NAME,
    SEASON,
    ForecastParams,
    _group_sum,
    forecast_demand,
    hub_demand,
    to_panel,
)

log = logging.getLogger(__name__)

BASELINE_NAME = "SeasonalNaive"


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    """Backtest figures of the model and the baseline, overall and by product family.

    ``hub`` holds the model's figures on the hub totals per product and week (what the
    planner uses): ``wape`` and ``coverage80`` of :func:`demand.hub_demand`'s interval.
    """

    model: dict
    baseline: dict
    by_family: list[dict]
    hub: dict = field(default_factory=dict)
    origins: list[str] = field(default_factory=list)
    horizon: int = 13
    level: int = 80

    def to_json_dict(self) -> dict:
        """Return ``{"model": {...}, "baseline": {...}, "by_family": [...], "hub": {...}}``."""
        return {
            "model": dict(self.model),
            "baseline": dict(self.baseline),
            "by_family": [dict(f) for f in self.by_family],
            "hub": dict(self.hub),
        }


def _metrics(
    name: str,
    actual: np.ndarray,
    forecast: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    scale: np.ndarray,
) -> dict:
    """Pooled WAPE, mean MASE and coverage of (series × weeks) arrays."""
    total = actual.sum()
    abs_err = np.abs(actual - forecast)
    wape = float(abs_err.sum() / total) if total > 0 else float("nan")
    ok = scale > 0
    mase = float(np.mean(abs_err[ok].mean(axis=1) / scale[ok])) if ok.any() else float("nan")
    inside = (actual >= low - 1e-9) & (actual <= high + 1e-9)
    coverage = float(inside.mean()) if inside.size else float("nan")
    return {
        "name": name,
        "wape": round(wape, 4),
        "mase": round(mase, 4),
        "coverage80": round(coverage, 4),
    }


def backtest(
    weekly: pd.DataFrame,
    *,
    origins: int | Sequence[pd.Timestamp] = 4,
    horizon: int = 13,
    step: int = 8,
    level: int = 80,
    families: pd.Series | dict | None = None,
    params: ForecastParams | None = None,
) -> BacktestResult:
    """Evaluate the forecast and the seasonal-naive baseline from rolling origins.

    Parameters
    ----------
    weekly
        ``week_start, site_id, product_id, kg`` history.
    origins
        Number of origins (the last one ``horizon`` weeks before the end, then every ``step``
        weeks back), or the origin weeks themselves.
    horizon
        Weeks forecast from each origin.
    step
        Weeks between generated origins.
    level
        Interval level (percent) checked by ``coverage80``.
    families
        Product family of each product id (e.g. ``products.category``) for ``by_family``.
    params
        Model knobs.

    Returns
    -------
    BacktestResult
    """
    if horizon < 1 or step < 1:
        raise InputError(f"backtest: horizon and step must be >= 1; got {horizon}, {step}")
    panel = to_panel(weekly)
    t_len = len(panel.weeks)
    if isinstance(origins, int):
        idx = [t_len - horizon - k * step for k in range(origins)]
    else:
        idx = [int((pd.Timestamp(o) - panel.weeks[0]).days // 7) for o in origins]
    idx = sorted(i for i in idx if i + horizon <= t_len)
    if not idx or idx[0] <= SEASON:
        raise InputError(
            f"backtest: each origin needs more than {SEASON} weeks of history and {horizon} "
            f"weeks after it; the history has {t_len} weeks (ask for fewer origins, a smaller "
            f"step or horizon)"
        )
    fam_map = pd.Series(families) if families is not None else pd.Series(dtype=object)
    family = pd.Series(panel.product_id).map(fam_map).fillna("all").astype(str).to_numpy()

    catalogue = pd.DataFrame({"product_id": panel.products, "storage_class": ""})
    n_prod = len(panel.products)
    hub_parts: dict[str, list[np.ndarray]] = {k: [] for k in ("actual", "f", "lo", "hi", "scale")}
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("actual", "f", "lo", "hi", "b", "blo", "bhi", "scale", "family")
    }
    for origin in idx:
        start = panel.weeks[origin]
        log.info("backtest origin %s", start.date())
        fc = forecast_demand(
            weekly,
            horizon_weeks=horizon,
            level=level,
            start=start,
            params=params,
            families=families,
        )
        # forecast_demand orders series by (site, product) like the panel
        shape = (len(panel.site_id), horizon)
        parts["f"].append(fc["kg"].to_numpy().reshape(shape))
        parts["lo"].append(fc["low"].to_numpy().reshape(shape))
        parts["hi"].append(fc["high"].to_numpy().reshape(shape))
        hub = hub_demand(fc, catalogue)
        wide = {
            k: hub.pivot(index="product_id", columns="week_start", values=k)
            .reindex(panel.products)
            .to_numpy()
            for k in ("kg", "low", "high")
        }
        hub_actual = _group_sum(panel.y[:, origin : origin + horizon], panel.prod_idx, n_prod)
        hub_train = _group_sum(panel.y[:, :origin], panel.prod_idx, n_prod)
        hub_parts["actual"].append(hub_actual)
        hub_parts["f"].append(wide["kg"])
        hub_parts["lo"].append(wide["low"])
        hub_parts["hi"].append(wide["high"])
        hub_parts["scale"].append(np.abs(np.diff(hub_train, axis=1)).mean(axis=1))
        train = panel.y[:, :origin]
        b, blo, bhi = seasonal_naive(train, panel.weeks[:origin], horizon, level)
        parts["b"].append(b)
        parts["blo"].append(blo)
        parts["bhi"].append(bhi)
        parts["actual"].append(panel.y[:, origin : origin + horizon])
        parts["scale"].append(np.abs(np.diff(train, axis=1)).mean(axis=1))
        parts["family"].append(family)
    a = {k: np.concatenate(v) for k, v in parts.items()}

    def both(mask: np.ndarray) -> tuple[dict, dict]:
        return (
            _metrics(
                MODEL_NAME,
                a["actual"][mask],
                a["f"][mask],
                a["lo"][mask],
                a["hi"][mask],
                a["scale"][mask],
            ),
            _metrics(
                BASELINE_NAME,
                a["actual"][mask],
                a["b"][mask],
                a["blo"][mask],
                a["bhi"][mask],
                a["scale"][mask],
            ),
        )

    model, baseline = both(np.ones(len(a["family"]), dtype=bool))
    by_family = []
    for fam in sorted(set(a["family"])):
        fam_model, fam_baseline = both(a["family"] == fam)
        by_family.append(
            {
                "family": fam,
                "model": {k: v for k, v in fam_model.items() if k != "name"},
                "baseline": {k: v for k, v in fam_baseline.items() if k != "name"},
            }
        )
    hp = {k: np.concatenate(v) for k, v in hub_parts.items()}
    hub_figures = {
        "model": _metrics(MODEL_NAME, hp["actual"], hp["f"], hp["lo"], hp["hi"], hp["scale"])
    }
    return BacktestResult(
        model=model,
        baseline=baseline,
        by_family=by_family,
        hub=hub_figures,
        origins=[str(panel.weeks[i].date()) for i in idx],
        horizon=horizon,
        level=level,
    )
