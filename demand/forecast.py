"""Forecast weekly demand per (point of sale, product), and its hub-level aggregate.

:func:`forecast_demand` is the entry point: the method of each product family is chosen by
backtest on the history among :data:`CANDIDATES`, shop and hub forecasts are reconciled and
intervals calibrated per level (``demand.select``). This module holds the panel, the interval
pools and our own candidate, ``HubSeasonalShare``, a hierarchical seasonal forecast:

1. **Hub level, per product**: last year's same weeks, smoothed over ``smooth_weeks`` either
   side (one site's week is noisy; the hub total of a product is not), scaled by the year-on-year
   growth of the last ``level_weeks`` weeks (per product, shrunk towards the whole hub's growth).
   Beyond 52 weeks ahead, the season before is used again.
2. **Down to sites**: each site's recent share of the product (the last ``share_weeks`` weeks,
   completed by the last year when the product was out of season). Optionally
   (``activity_shrink < 1``) times the site's own activity in the same week last year relative
   to what its shares predicted, so a shop's own closures repeat; it is off by default because
   it made the sample's backtest worse (site WAPE 0.403 → 0.436 at 0, 0.410 at 0.5):
   closures move from year to year.
3. **Intervals** (for whichever candidate is chosen): conformal. The chosen forecast
   is made from ``calib_origins`` earlier origins of the history; the relative errors
   ``actual / forecast - 1``, pooled by product family and by forecast size (forecast / the
   series' mean week of the last year: season edges err far more than season middles), give
   the quantiles of the interval
   (``low = kg * (1 + q_lo)``, ``high = kg * (1 + q_hi)``), at tail levels adapted to the
   windows in time order (``demand.calibrate``).

Site series are intermittent (6 % of weeks skipped) and noisy (CV ≈ 0.3): pooling the season
at hub level and pooling the errors by family gives steadier forecasts and calibrated intervals
than per-series models, and the whole thing is a few numpy operations on a
(series × weeks) matrix, so 16,000 series take seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from demand._statsforecast import METHODS

log = logging.getLogger(__name__)

SEASON = 52
FORECAST_COLUMNS = ("week_start", "site_id", "product_id", "kg", "low", "high")
HUB_COLUMNS = ("week_start", "product_id", "storage_class", "kg", "low", "high")
MODEL_NAME = "HubSeasonalShare"
#: What the model is chosen among (per family, by backtest on the history: ``demand.select``).
CANDIDATES = (MODEL_NAME, *METHODS)


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastParams:
    """Knobs of the ``HubSeasonalShare`` candidate (defaults chosen on the sample's backtest),
    of its calibration origins (also those of the model choice) and of the choice itself
    (``demand.select``): candidates, ensemble of the best three, when a family may depart from
    the overall choice (``switch_margin``, ``switch_share``), whether shop methods are also
    judged on their hub totals (``choose_on_hub``), shop series sampled for the choice,
    reconciliation (``top_down`` or ``bottom_up``), sampling seed, and the promotion
    spikes capped in the history the statsforecast candidates learn from (each week at
    ``spike_factor`` × the median of the ``spike_weeks`` weeks before it; 0 keeps the raw
    history: ``demand.spikes``), and the intervals' calibration (``interval``: ``"split"`` or
    ``"adaptive"`` conformal with step ``interval_gamma`` per inner window:
    ``demand.calibrate``)."""

    smooth_weeks: int = 1
    level_weeks: int = 13
    level_shrink: float = 1.0
    share_weeks: int = 13
    share_year_weight: float = 0.25
    activity_shrink: float = 1.0
    calib_origins: int = 26
    calib_horizon: int = 13
    calib_step: int = 4
    candidates: tuple[str, ...] = CANDIDATES
    ensemble: bool = True
    switch_margin: float = 0.1
    switch_share: float = 0.75
    choose_on_hub: bool = False
    select_series: int = 400
    reconcile: str = "bottom_up"
    seed: int = 0
    spike_factor: float = 2.0
    spike_weeks: int = 13
    interval: str = "adaptive"
    #: adaptive step per inner window, chosen on the benchmark's outer windows
    #: (benchmarks/README.md "demand"): 0.8-1.0 keep every coverage80 in [0.75, 0.85] (1.0:
    #: orange juice 0.780 / 0.767, sample 0.841 / 0.840, tuna 0.758; 0.8: 0.773 / 0.759,
    #: 0.839 / 0.848, 0.755); split conformal (0) leaves the orange juice at 0.742 / 0.677.
    interval_gamma: float = 1.0

    def __post_init__(self) -> None:
        unknown = set(self.candidates) - set(CANDIDATES)
        if unknown or not self.candidates:
            raise InputError(
                f"candidates must be among {', '.join(CANDIDATES)}; got {self.candidates!r}"
            )
        if self.reconcile not in ("top_down", "bottom_up", "choose"):
            raise InputError(
                f"reconcile must be bottom_up, top_down or choose; got {self.reconcile!r}"
            )
        if not 0 <= self.switch_margin < 1:
            raise InputError(f"switch_margin must be in [0, 1); got {self.switch_margin!r}")
        if not 0 <= self.switch_share <= 1:
            raise InputError(f"switch_share must be in [0, 1]; got {self.switch_share!r}")
        if self.interval not in ("split", "adaptive"):
            raise InputError(f"interval must be split or adaptive; got {self.interval!r}")
        if not 0 <= self.interval_gamma <= 1:
            raise InputError(f"interval_gamma must be in [0, 1]; got {self.interval_gamma!r}")
        if not self.spike_factor >= 0:
            raise InputError(f"spike_factor must be >= 0 (0: off); got {self.spike_factor!r}")
        if not self.select_series >= 1:
            raise InputError(f"select_series must be >= 1; got {self.select_series!r}")
        if not self.smooth_weeks >= 0:
            raise InputError(f"smooth_weeks must be >= 0; got {self.smooth_weeks!r}")
        for name in (
            "level_weeks",
            "share_weeks",
            "calib_origins",
            "calib_horizon",
            "calib_step",
            "spike_weeks",
        ):
            value = getattr(self, name)
            if not value >= 1:
                raise InputError(f"{name} must be >= 1; got {value!r}")
        if not 0 <= self.activity_shrink <= 1:
            raise InputError(f"activity_shrink must be in [0, 1]; got {self.activity_shrink!r}")


@dataclass(frozen=True, slots=True)
class _Panel:
    """The weekly history as a dense (series × weeks) matrix."""

    y: np.ndarray  # float, shape (n_series, n_weeks)
    weeks: pd.DatetimeIndex
    site_id: np.ndarray
    product_id: np.ndarray
    prod_idx: np.ndarray  # product index of each series
    site_idx: np.ndarray
    products: np.ndarray
    sites: np.ndarray


def to_panel(weekly: pd.DataFrame, *, end: pd.Timestamp | None = None) -> _Panel:
    """Pivot the weekly table (``week_start, site_id, product_id, kg``) to a dense matrix.

    Weeks from ``end`` on are left out (they are the future of a forecast made at ``end``).
    """
    missing = {"week_start", "site_id", "product_id", "kg"} - set(weekly.columns)
    if missing:
        raise InputError(f"weekly demand: missing columns {sorted(missing)}")
    w = weekly[["week_start", "site_id", "product_id", "kg"]]
    w = w.assign(week_start=pd.to_datetime(w["week_start"]))
    if end is not None:
        w = w.loc[w["week_start"] < end]
    if w.empty:
        raise InputError("weekly demand: no history before the forecast start")
    if (w["week_start"].dt.weekday != 0).any():
        raise InputError("weekly demand: week_start must be Mondays")
    weeks = pd.date_range(w["week_start"].min(), w["week_start"].max(), freq="7D")
    keys = (
        w[["site_id", "product_id"]]
        .drop_duplicates()
        .sort_values(["site_id", "product_id"])
        .reset_index(drop=True)
    )
    series = pd.MultiIndex.from_frame(keys)
    row = series.get_indexer(pd.MultiIndex.from_frame(w[["site_id", "product_id"]]))
    col = ((w["week_start"] - weeks[0]).dt.days // 7).to_numpy()
    y = np.zeros((len(keys), len(weeks)))
    np.add.at(y, (row, col), np.nan_to_num(w["kg"].to_numpy(dtype=float)))
    products, prod_idx = np.unique(keys["product_id"].to_numpy(), return_inverse=True)
    sites, site_idx = np.unique(keys["site_id"].to_numpy(), return_inverse=True)
    return _Panel(
        y=np.maximum(y, 0),
        weeks=weeks,
        site_id=keys["site_id"].to_numpy(),
        product_id=keys["product_id"].to_numpy(),
        prod_idx=prod_idx,
        site_idx=site_idx,
        products=products,
        sites=sites,
    )


def _group_sum(values: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Sum rows of ``values`` by group ``idx`` (n groups)."""
    out = np.zeros((n, *values.shape[1:]))
    np.add.at(out, idx, values)
    return out


def point_forecast(
    y: np.ndarray, prod_idx: np.ndarray, site_idx: np.ndarray, horizon: int, params: ForecastParams
) -> np.ndarray:
    """Point forecasts (n_series × horizon) of the weeks after the end of ``y``."""
    n, t_len = y.shape
    n_prod = int(prod_idx.max()) + 1 if n else 0
    n_site = int(site_idx.max()) + 1 if n else 0
    hub = _group_sum(y, prod_idx, n_prod)
    last = t_len - 1
    h = np.arange(1, horizon + 1)
    target = last + h
    if t_len < SEASON:
        # less than a season of history: flat at the recent mean
        recent = hub[:, max(0, t_len - params.level_weeks) :].mean(axis=1, keepdims=True)
        hub_f = np.repeat(recent, horizon, axis=1)
        base = None
    else:
        years_back = np.ceil((target - last) / SEASON).astype(int)
        base = target - SEASON * years_back  # the same week, one (or more) seasons back
        w = params.smooth_weeks
        offs = np.arange(-w, w + 1)
        idx = np.clip(base[:, None] + offs[None, :], 0, last)
        profile = hub[:, idx].mean(axis=2)  # (n_prod, horizon)
        lw = min(params.level_weeks, t_len - SEASON)
        if lw >= 1:
            num = hub[:, t_len - lw :].sum(axis=1)
            den = hub[:, t_len - lw - SEASON : t_len - SEASON].sum(axis=1)
            total = num.sum() / den.sum() if den.sum() > 0 else 1.0
            # shrink each product's growth towards the hub's: few weeks of a seasonal
            # product are a poor guide to its trend
            k = params.level_shrink * np.median(den[den > 0]) if (den > 0).any() else 1.0
            growth = (num + k * total) / (den + k)
            growth = np.clip(growth, 0.5, 2.0)[:, None] ** years_back[None, :]
        else:
            growth = np.ones((n_prod, horizon))
        hub_f = profile * growth

    # shares of each site in its product: recent weeks, completed by the last year
    sw = min(params.share_weeks, t_len)
    yw = min(SEASON, t_len)
    site_recent = y[:, t_len - sw :].sum(axis=1)
    site_year = y[:, t_len - yw :].sum(axis=1)
    hub_recent = hub[:, t_len - sw :].sum(axis=1)[prod_idx]
    hub_year = hub[:, t_len - yw :].sum(axis=1)[prod_idx]
    lam = params.share_year_weight
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(
            hub_recent + lam * hub_year > 0,
            (site_recent + lam * site_year) / (hub_recent + lam * hub_year),
            0.0,
        )
    f = share[:, None] * hub_f[prod_idx]

    if base is not None and params.activity_shrink < 1:
        # each site's activity in the same week last year against what its shares say, so
        # its own closures and holidays repeat (hub seasonality averages them away)
        expected = _group_sum(share[:, None] * hub[prod_idx][:, base], site_idx, n_site)
        actual = _group_sum(y[:, base], site_idx, n_site)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(expected > 0, actual / expected, 1.0)
        ratio = np.clip(ratio, 0.0, 2.0)
        activity = 1.0 + (1.0 - params.activity_shrink) * (ratio - 1.0)
        f = f * activity[site_idx]
    return np.maximum(f, 0.0)


#: Bounds of the forecast-size buckets: a forecast divided by the series' mean weekly kilos
#: over the last year. Relative errors are much wider at the edges of a season (small
#: forecasts) than in the middle of it, so each bucket gets its own quantiles.
BUCKET_EDGES = (0.5, 1.0, 2.0)
MIN_POOL = 50


def _buckets(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Size bucket of each forecast cell (n_series × horizon) given the history ``y``."""
    mean = y[:, -SEASON:].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mean[:, None] > 0, f / mean[:, None], 0.0)
    return np.digitize(ratio, BUCKET_EDGES)


def _monday(ts: pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(ts).normalize()
    return ts - pd.Timedelta(days=ts.weekday())


def forecast_demand(
    weekly: pd.DataFrame,
    *,
    horizon_weeks: int = 52,
    level: int = 80,
    start: pd.Timestamp | None = None,
    params: ForecastParams | None = None,
    families: pd.Series | dict | None = None,
) -> pd.DataFrame:
    """Forecast every (site, product) series of ``weekly`` over ``horizon_weeks``.

    Parameters
    ----------
    weekly
        ``week_start, site_id, product_id, kg`` (``DemandBuild.weekly``).
    horizon_weeks
        Weeks to forecast.
    level
        Prediction-interval level in percent.
    start
        First forecast week (a Monday; other days are moved to their week's Monday). Default:
        the week after the history. History from ``start`` on is ignored, which is how the
        backtest forecasts from past origins; weeks between the history's end and ``start``
        are forecast but not returned.
    params
        Model knobs.
    families
        Product family (category) of each product id, used to pool interval errors; default:
        one pool.

    Returns
    -------
    pandas.DataFrame
        ``week_start, site_id, product_id, kg, low, high`` with ``0 <= low <= kg <= high``.
    """
    if horizon_weeks < 1:
        raise InputError(f"horizon_weeks must be >= 1; got {horizon_weeks}")
    if not 0 < level < 100:
        raise InputError(f"level must be between 0 and 100 (percent); got {level}")
    params = params or ForecastParams()
    start = None if start is None else _monday(start)
    panel = to_panel(weekly, end=start)
    first = panel.weeks[-1] + pd.Timedelta(weeks=1)
    if start is None:
        start = first
    skip = (start - first).days // 7
    total = skip + horizon_weeks
    from demand.select import CHOSEN_NAME, forecast_panel

    fam_map = pd.Series(families) if families is not None else pd.Series(dtype=object)
    family = pd.Series(panel.product_id).map(fam_map).fillna("*").astype(str).to_numpy()
    fit = forecast_panel(
        panel.y, panel.weeks, panel.prod_idx, panel.site_idx, family, total, 1 - level / 100, params
    )
    f = fit.shop[:, skip:]
    lo_q, hi_q = fit.shop_lo[:, skip:], fit.shop_hi[:, skip:]
    low = np.minimum(np.maximum(f * (1 + lo_q), 0.0), f)
    high = np.maximum(f * (1 + hi_q), f)

    weeks = pd.date_range(start, periods=horizon_weeks, freq="7D")
    n = len(panel.site_id)
    out = pd.DataFrame(
        {
            "week_start": np.tile(weeks.to_numpy(), n),
            "site_id": np.repeat(panel.site_id, horizon_weeks),
            "product_id": np.repeat(panel.product_id, horizon_weeks),
            "kg": f.ravel(),
            "low": low.ravel(),
            "high": high.ravel(),
        }
    )
    out.attrs["model"] = CHOSEN_NAME
    out.attrs["level"] = level
    out.attrs["choice"] = {
        "shop": {k: list(v) for k, v in fit.choice_shop.items()},
        "hub": {k: list(v) for k, v in fit.choice_hub.items()},
    }
    # hub totals have their own calibrated intervals (site errors move together, so adding
    # site intervals would understate the hub's); hub_demand uses them while the frame is this
    # one (attrs do not survive a CSV round trip)
    n_prod = len(panel.products)
    hub_lo, hub_hi = fit.hub_lo[:, skip:], fit.hub_hi[:, skip:]
    # plain lists: parquet writers serialise attrs as JSON
    out.attrs["hub_interval"] = {
        "week_start": [str(d.date()) for d in weeks] * n_prod,
        "product_id": np.repeat(panel.products, horizon_weeks).astype(str).tolist(),
        "low_rel": hub_lo.ravel().tolist(),
        "high_rel": hub_hi.ravel().tolist(),
    }
    return out


def hub_demand(forecast: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Aggregate site forecasts to hub level per product and storage class.

    ``kg`` is the sum over sites. The interval is the hub-level one calibrated by
    :func:`forecast_demand` (relative errors of the hub totals at earlier origins) when
    ``forecast`` is the frame it returned; otherwise (e.g. a forecast read back from CSV) the
    sites' half-widths are added in quadrature, which assumes independent site errors and so
    understates the hub's uncertainty (the sample's backtest: about 71 % coverage for 80 %).

    Returns
    -------
    pandas.DataFrame
        ``week_start, product_id, storage_class, kg, low, high``.
    """
    storage = products.set_index("product_id")["storage_class"]
    f = forecast.assign(
        lo2=(forecast["kg"] - forecast["low"]) ** 2, hi2=(forecast["high"] - forecast["kg"]) ** 2
    )
    g = f.groupby(["week_start", "product_id"], as_index=False)[["kg", "lo2", "hi2"]].sum()
    g["low"] = np.maximum(g["kg"] - np.sqrt(g["lo2"]), 0.0)
    g["high"] = g["kg"] + np.sqrt(g["hi2"])
    calibrated = forecast.attrs.get("hub_interval")
    if calibrated is not None:
        rel = pd.DataFrame(calibrated)
        rel["week_start"] = pd.to_datetime(rel["week_start"])
        m = g[["week_start", "product_id"]].merge(rel, on=["week_start", "product_id"], how="left")
        found = m["low_rel"].notna().to_numpy()
        low = np.minimum(np.maximum(g["kg"] * (1 + m["low_rel"]), 0.0), g["kg"])
        high = np.maximum(g["kg"] * (1 + m["high_rel"]), g["kg"])
        g["low"] = np.where(found, low, g["low"])
        g["high"] = np.where(found, high, g["high"])
    g["storage_class"] = g["product_id"].map(storage)
    unknown = g["storage_class"].isna()
    if unknown.any():
        raise InputError(
            f"hub demand: products not in the catalogue: "
            f"{sorted(g.loc[unknown, 'product_id'].unique())[:5]}"
        )
    return g[list(HUB_COLUMNS)].sort_values(["week_start", "product_id"]).reset_index(drop=True)
