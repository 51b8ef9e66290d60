"""Rolling-origin backtest of the demand forecast against the standard methods.

At each origin, the model (chosen per family by its own backtest inside the history before the
origin: ``demand.select``), the seasonal-naive baseline and every candidate alone see only the
weeks before it and forecast the next ``horizon`` weeks of every (site, product) series and of
every product's hub total; the errors are pooled over origins:

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
from demand._statsforecast import forecast_methods, seasonal_naive
from demand.forecast import (
    CANDIDATES,
    MODEL_NAME,
    SEASON,
    ForecastParams,
    _group_sum,
    forecast_demand,
    hub_demand,
    point_forecast,
    to_panel,
)
from demand.select import CHOSEN_NAME

log = logging.getLogger(__name__)

BASELINE_NAME = "SeasonalNaive"


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    """Backtest figures of the model and the baseline, overall and by product family.

    ``hub`` holds the figures on the hub totals per product and week (what the planner uses):
    ``model`` (:func:`demand.hub_demand`'s totals and interval), ``baseline`` and ``methods``
    (each candidate alone, fitted on the hub totals). ``methods`` are the same at shop level;
    ``choices`` what the model chose at each origin.
    """

    model: dict
    baseline: dict
    by_family: list[dict]
    hub: dict = field(default_factory=dict)
    methods: list[dict] = field(default_factory=list)
    choices: list[dict] = field(default_factory=list)
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
            "methods": [dict(m) for m in self.methods],
            "choices": [dict(c) for c in self.choices],
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
    compare: bool = True,
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
    compare
        Also score every candidate alone (same origins, same weeks) at both levels.

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
    params = params or ForecastParams()
    names = [m for m in CANDIDATES if m in params.candidates] if compare else []
    sf_names = [m for m in names if m != MODEL_NAME]

    n_prod = len(panel.products)
    catalogue = pd.DataFrame({"product_id": panel.products, "storage_class": ""})
    hub_y = _group_sum(panel.y, panel.prod_idx, n_prod)
    keys = ("actual", "f", "lo", "hi", "b", "blo", "bhi", "scale", "family")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    hub_parts: dict[str, list[np.ndarray]] = {k: [] for k in keys[:-1]}
    single: dict[str, dict[str, list[np.ndarray]]] = {
        lvl: {m: [] for m in names} for lvl in ("shop", "hub")
    }
    choices = []
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
        choices.append({"origin": str(start.date()), **fc.attrs.get("choice", {})})
        # forecast_demand orders series by (site, product) like the panel
        shape = (len(panel.site_id), horizon)
        parts["f"].append(fc["kg"].to_numpy().reshape(shape))
        parts["lo"].append(fc["low"].to_numpy().reshape(shape))
        parts["hi"].append(fc["high"].to_numpy().reshape(shape))
        hub = hub_demand(fc, catalogue)
        for k, col in (("f", "kg"), ("lo", "low"), ("hi", "high")):
            wide = hub.pivot(index="product_id", columns="week_start", values=col)
            hub_parts[k].append(wide.reindex(panel.products).to_numpy())
        train, weeks = panel.y[:, :origin], panel.weeks[:origin]
        hub_train = hub_y[:, :origin]
        for lvl, y_lvl, train_lvl, out in (
            ("shop", panel.y, train, parts),
            ("hub", hub_y, hub_train, hub_parts),
        ):
            b, blo, bhi = seasonal_naive(train_lvl, weeks, horizon, level)
            out["b"].append(b)
            out["blo"].append(blo)
            out["bhi"].append(bhi)
            out["actual"].append(y_lvl[:, origin : origin + horizon])
            out["scale"].append(np.abs(np.diff(train_lvl, axis=1)).mean(axis=1))
            for m, f in forecast_methods(train_lvl, weeks, horizon, sf_names).items():
                single[lvl][m].append(f)
        if MODEL_NAME in names:
            # our own candidate alone, at both levels (the hub is the sum of its shops)
            own = point_forecast(train, panel.prod_idx, panel.site_idx, horizon, params)
            single["shop"][MODEL_NAME].append(own)
            single["hub"][MODEL_NAME].append(_group_sum(own, panel.prod_idx, n_prod))
        parts["family"].append(family)
    a = {k: np.concatenate(v) for k, v in parts.items()}
    ha = {k: np.concatenate(v) for k, v in hub_parts.items()}

    def both(arr: dict, mask: np.ndarray) -> tuple[dict, dict]:
        args = (arr["actual"][mask], arr["scale"][mask])
        return (
            _metrics(
                CHOSEN_NAME, args[0], arr["f"][mask], arr["lo"][mask], arr["hi"][mask], args[1]
            ),
            _metrics(
                BASELINE_NAME, args[0], arr["b"][mask], arr["blo"][mask], arr["bhi"][mask], args[1]
            ),
        )

    model, baseline = both(a, np.ones(len(a["family"]), dtype=bool))
    by_family = []
    for fam in sorted(set(a["family"])):
        fam_model, fam_baseline = both(a, a["family"] == fam)
        by_family.append(
            {
                "family": fam,
                "model": {k: v for k, v in fam_model.items() if k != "name"},
                "baseline": {k: v for k, v in fam_baseline.items() if k != "name"},
            }
        )
    hub_model, hub_baseline = both(ha, np.ones(len(ha["actual"]), dtype=bool))

    def methods(lvl: str, arr: dict) -> list[dict]:
        out = []
        for m in names:
            f = np.concatenate(single[lvl][m])
            row = _metrics(m, arr["actual"], f, f, f, arr["scale"])
            # statsforecast gives these methods no interval of their own (SeasonalNaive's is
            # the baseline's)
            row["coverage80"] = (
                (baseline if lvl == "shop" else hub_baseline)["coverage80"]
                if m == BASELINE_NAME
                else None
            )
            out.append(row)
        return out

    return BacktestResult(
        model=model,
        baseline=baseline,
        by_family=by_family,
        hub={"model": hub_model, "baseline": hub_baseline, "methods": methods("hub", ha)},
        methods=methods("shop", a),
        choices=choices,
        origins=[str(panel.weeks[i].date()) for i in idx],
        horizon=horizon,
        level=level,
    )
