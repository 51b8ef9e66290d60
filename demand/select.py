"""Model choice by rolling-origin backtest on the history alone, reconciled hub totals, and
conformal intervals per level.

For each product family, every candidate (our ``HubSeasonalShare`` and statsforecast's
:data:`~demand._statsforecast.METHODS`) forecasts ``calib_horizon`` weeks from
``calib_origins`` origins *inside* the history (the last one ``calib_horizon`` weeks before its
end): the candidate with the lowest WAPE over those windows is the family's method, or the mean
of the best three when that scores lower still. Shop series are chosen on a seeded sample of at
most ``select_series`` series (the slow methods, AutoETS and AutoTheta, cost seconds per thousand
series), hub totals per product on every product.

Hub totals and shop forecasts agree (``reconcile``): ``"bottom_up"`` (default) makes the hub the
sum of the shops; ``"top_down"`` scales each product's shop forecasts to a hub forecast chosen
on the hub totals (forecast proportions; shares of the last year where every shop forecast is
zero); ``"choose"`` lets the hub choose between the two as one more candidate (``BottomUp``).

Intervals are conformal, per level (shop and hub): the relative errors ``actual / forecast - 1``
of the chosen (and reconciled) forecasts at the same inner origins, pooled by family and
forecast size, give each cell's quantiles; ``ForecastParams.interval="adaptive"`` (default)
replays the windows in time order and moves each tail's level after each one, so intervals
follow errors that drift (``demand.calibrate``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from demand._statsforecast import forecast_methods
from demand.calibrate import Window, calibrate, interval_quantiles
from demand.forecast import (
    MODEL_NAME,
    SEASON,
    ForecastParams,
    _buckets,
    _group_sum,
    point_forecast,
)
from demand.spikes import cap_spikes

log = logging.getLogger(__name__)

#: Name of the mean of a family's three best candidates.
ENSEMBLE = "Ensemble"
CHOSEN_NAME = "ChosenByBacktest"
BOTTOM_UP = "BottomUp"
MIN_ORIGIN = 26
#: Fewest weeks the inner windows must span for a family to depart from the overall choice
#: (three 13-week quarters: windows 4 weeks apart overlap by 9 weeks, so 5 of them, 29 weeks,
#: are little more than two independent ones).
MIN_SWITCH_WEEKS = 39


@dataclass(frozen=True, slots=True)
class Level:
    """Series of one level: the (series × weeks) history and what groups them."""

    y: np.ndarray
    prod_idx: np.ndarray  # product of each series
    site_idx: np.ndarray
    family: np.ndarray  # family name of each series


def candidates(
    level: Level,
    weeks: pd.DatetimeIndex,
    horizon: int,
    names: tuple[str, ...],
    params: ForecastParams,
    rows: np.ndarray,
) -> dict[str, np.ndarray]:
    """Forecasts (len(rows) × horizon) of each named candidate for the series ``rows``."""
    out: dict[str, np.ndarray] = {}
    if MODEL_NAME in names:
        # the hub season is pooled over every series, so it is computed on all of them
        f = point_forecast(level.y, level.prod_idx, level.site_idx, horizon, params)
        out[MODEL_NAME] = f[rows]
    methods = [m for m in names if m != MODEL_NAME]
    if methods:
        history = cap_spikes(level.y[rows], params.spike_factor, params.spike_weeks)
        out |= forecast_methods(history, weeks, horizon, methods)
    return out


def _origins(t_len: int, params: ForecastParams) -> list[int]:
    """Inner origins in the regime of the final forecast: when it has a full season of history
    behind it, so do they (``HubSeasonalShare`` without one is a flat mean and would be judged
    on windows unlike the one it forecasts)."""
    floor = SEASON + 1 if t_len - params.calib_horizon > SEASON else MIN_ORIGIN
    found = []
    for j in range(params.calib_origins):
        origin = t_len - params.calib_horizon - j * params.calib_step
        if origin < floor:
            break
        found.append(origin)
    return found


def _cut(level: Level, origin: int) -> Level:
    return Level(level.y[:, :origin], level.prod_idx, level.site_idx, level.family)


@dataclass(frozen=True, slots=True)
class Inner:
    """Forecasts of every candidate at the inner origins, for the series ``rows``."""

    rows: np.ndarray
    origins: list[int]
    forecasts: list[dict[str, np.ndarray]]
    actuals: list[np.ndarray]


def inner_backtest(
    level: Level, weeks: pd.DatetimeIndex, params: ForecastParams, rows: np.ndarray
) -> Inner:
    """Forecast ``calib_horizon`` weeks from each inner origin with every candidate."""
    h = params.calib_horizon
    origins = _origins(level.y.shape[1], params)
    forecasts, actuals = [], []
    for origin in origins:
        forecasts.append(
            candidates(_cut(level, origin), weeks[:origin], h, params.candidates, params, rows)
        )
        actuals.append(level.y[rows, origin : origin + h])
    return Inner(rows=rows, origins=origins, forecasts=forecasts, actuals=actuals)


def _error(
    inner: Inner, mask: np.ndarray, methods: tuple[str, ...], groups: np.ndarray | None
) -> np.ndarray:
    """Absolute error of the mean of ``methods`` in each inner window, over the series in
    ``mask``, plus (``groups``: product of each inner series) that of its sums per product
    and week: a method is then judged on the shops' weeks and on the hub totals."""
    out = []
    for f, a in zip(inner.forecasts, inner.actuals, strict=True):
        diff = a[mask] - np.mean([f[m][mask] for m in methods], axis=0)
        err = float(np.abs(diff).sum())
        if groups is not None:
            g = groups[mask]
            err += float(np.abs(_group_sum(diff, g, int(g.max()) + 1)).sum())
        out.append(err)
    return np.array(out)


def _scores(
    inner: Inner, mask: np.ndarray, names: list[str], groups: np.ndarray | None = None
) -> dict:
    """Errors per inner window (``_error``) of each candidate, and of the mean of the best
    three (``ENSEMBLE``), over the series in ``mask``."""
    err = {m: _error(inner, mask, (m,), groups) for m in names}
    ranked = sorted(names, key=lambda m: (err[m].sum(), names.index(m)))
    if len(ranked) >= 3:
        err[ENSEMBLE + ":" + ",".join(ranked[:3])] = _error(inner, mask, tuple(ranked[:3]), groups)
    return err


def _best(err: dict, ensemble: bool) -> str:
    keys = [k for k in err if ensemble or not k.startswith(ENSEMBLE)]
    return min(keys, key=lambda k: (err[k].sum(), keys.index(k)))


def _methods(key: str) -> tuple[str, ...]:
    return tuple(key.split(":", 1)[1].split(",")) if key.startswith(ENSEMBLE) else (key,)


def choose(
    inner: Inner,
    family: np.ndarray,
    params: ForecastParams,
    products: np.ndarray | None = None,
) -> dict[str, tuple[str, ...]]:
    """Each family's method (or the best three, averaged) by WAPE over the inner windows;
    with ``products`` (product index of every series), by the error of the shops' weeks plus
    that of their sums per product (the hub totals).

    One choice is made over all the series first; a family departs from it only when its own
    best scores at least ``switch_margin`` lower on its own series over all the windows *and*
    lower in at least ``switch_share`` of them, the windows spanning at least
    :data:`MIN_SWITCH_WEEKS` weeks (a few windows of one family are a noisy guide: on the
    sample, one to five windows made `meat` or `dairy` leave ``HubSeasonalShare`` for a method
    that then did worse). A family too young for any inner origin gets ``HubSeasonalShare``
    when it is a candidate.
    """
    fam = family[inner.rows]
    names_ok = params.candidates
    fallback = (MODEL_NAME,) if MODEL_NAME in names_ok else (names_ok[0],)
    choice: dict[str, tuple[str, ...]] = {str(f): fallback for f in np.unique(family)}
    if not inner.origins:
        return choice
    names = list(inner.forecasts[0])
    groups = None
    if products is not None:
        groups = np.unique(products[inner.rows], return_inverse=True)[1]
    everything = np.ones(len(fam), dtype=bool)
    overall = _best(_scores(inner, everything, names, groups), params.ensemble)
    for name in np.unique(fam):
        mask = fam == name
        err = _scores(inner, mask, names, groups)
        if overall not in err:  # the overall ensemble's three are not this family's best three
            err[overall] = _error(inner, mask, _methods(overall), groups)
        own = _best(err, params.ensemble)
        wins = err[own] < err[overall]
        keep = (
            err[own].sum() >= (1 - params.switch_margin) * err[overall].sum()
            or (len(wins) - 1) * params.calib_step + params.calib_horizon < MIN_SWITCH_WEEKS
            or wins.mean() < params.switch_share
        )
        choice[str(name)] = _methods(overall if keep else own)
    return choice


def combine(
    forecasts: dict[str, np.ndarray], family: np.ndarray, choice: dict[str, tuple[str, ...]]
) -> np.ndarray:
    """Each series' forecast: the mean of its family's chosen candidates."""
    first = next(iter(forecasts.values()))
    out = np.zeros_like(first)
    for name, methods in choice.items():
        mask = family == name
        if mask.any():
            out[mask] = np.mean([forecasts[m][mask] for m in methods], axis=0)
    return out


def forecast_chosen(
    level: Level,
    weeks: pd.DatetimeIndex,
    horizon: int,
    choice: dict[str, tuple[str, ...]],
    params: ForecastParams,
    given: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Fit each family's chosen candidates on that family's series only, and combine them
    (``given`` holds candidates already computed, e.g. the bottom-up hub)."""
    n = level.y.shape[0]
    out = np.zeros((n, horizon))
    needed = sorted({m for methods in choice.values() for m in methods})
    parts: dict[str, np.ndarray] = dict(given or {})
    for m in needed:
        if m in parts:
            continue
        rows = np.flatnonzero(
            np.isin(level.family, [f for f, methods in choice.items() if m in methods])
        )
        full = np.zeros((n, horizon))
        full[rows] = candidates(level, weeks, horizon, (m,), params, rows)[m]
        parts[m] = full
    if parts:
        out = combine(parts, level.family, choice)
    return out


def shares(y: np.ndarray, prod_idx: np.ndarray, n_prod: int) -> np.ndarray:
    """Each series' share of its product over the last year (equal shares where none sold)."""
    year = y[:, -SEASON:].sum(axis=1)
    total = _group_sum(year, prod_idx, n_prod)[prod_idx]
    count = np.bincount(prod_idx, minlength=n_prod)[prod_idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, year / total, 1.0 / count)


def reconcile(
    shop: np.ndarray,
    hub: np.ndarray | None,
    prod_idx: np.ndarray,
    share: np.ndarray,
    *,
    n_prod: int,
    mode: str,
    scale: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Shop and hub forecasts that agree: top-down by forecast proportions, or bottom-up.

    ``scale`` (per product) turns the sum over a sample of shops into an estimate of the sum
    over all of them (the inner backtest works on a sample).
    """
    total = _group_sum(shop, prod_idx, n_prod)
    if scale is not None:
        total = total * scale[:, None]
    if mode == "bottom_up" or hub is None:
        return shop, total
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(total > 0, hub / total, 0.0)
    out = np.where(total[prod_idx] > 0, shop * factor[prod_idx], share[:, None] * hub[prod_idx])
    return out, hub


@dataclass(frozen=True, slots=True)
class PanelForecast:
    """Reconciled forecasts and their relative interval quantiles at both levels."""

    shop: np.ndarray  # (n_series × horizon)
    shop_lo: np.ndarray
    shop_hi: np.ndarray
    hub: np.ndarray  # (n_products × horizon)
    hub_lo: np.ndarray
    hub_hi: np.ndarray
    choice_shop: dict[str, tuple[str, ...]]
    choice_hub: dict[str, tuple[str, ...]]


def _window(f: np.ndarray, actual: np.ndarray, fam: np.ndarray, y: np.ndarray) -> Window:
    """One inner window's relative errors (cells forecast > 0) and their pools."""
    ok = f > 0
    return Window(
        err=actual[ok] / f[ok] - 1.0,
        fam=np.broadcast_to(fam[:, None], f.shape)[ok].astype(str),
        buck=_buckets(f, y)[ok],
    )


def forecast_panel(
    y: np.ndarray,
    weeks: pd.DatetimeIndex,
    prod_idx: np.ndarray,
    site_idx: np.ndarray,
    family: np.ndarray,
    horizon: int,
    alpha: float,
    params: ForecastParams,
) -> PanelForecast:
    """Choose, fit, reconcile and calibrate (see the module docstring)."""
    n = y.shape[0]
    n_prod = int(prod_idx.max()) + 1
    prod_family = np.empty(n_prod, dtype=object)
    prod_family[prod_idx] = family
    prod_family = prod_family.astype(str)
    shop = Level(y, prod_idx, site_idx, family)
    hub_y = _group_sum(y, prod_idx, n_prod)
    hub = Level(hub_y, np.arange(n_prod), np.arange(n_prod), prod_family)
    rng = np.random.default_rng(params.seed)
    rows = (
        np.arange(n)
        if n <= params.select_series
        else np.sort(rng.choice(n, params.select_series, replace=False))
    )
    inner_shop = inner_backtest(shop, weeks, params, rows)
    # bottom_up: the hub is the sum of the shops, no hub method to choose; top_down: the hub
    # chooses among its own candidates; choose: among those and the sum of the shops
    top_down = params.reconcile != "bottom_up"
    c_shop = choose(inner_shop, family, params, prod_idx if params.choose_on_hub else None)
    c_hub: dict[str, tuple[str, ...]] = {"*": (BOTTOM_UP,)}
    scales = []
    for origin in inner_shop.origins:
        past = y[:, :origin]
        whole = _group_sum(past.sum(axis=1), prod_idx, n_prod)
        part = _group_sum(past[rows].sum(axis=1), prod_idx[rows], n_prod)
        with np.errstate(divide="ignore", invalid="ignore"):
            scales.append(np.where(part > 0, whole / part, 0.0))
    inner_hub = None
    if top_down:
        inner_hub = inner_backtest(hub, weeks, params, np.arange(n_prod))
        if params.reconcile == "choose":
            for j, scale in enumerate(scales):
                fs = combine(inner_shop.forecasts[j], family[rows], c_shop)
                bottom_up = _group_sum(fs, prod_idx[rows], n_prod) * scale[:, None]
                inner_hub.forecasts[j][BOTTOM_UP] = bottom_up
        c_hub = choose(inner_hub, prod_family, params)
    log.info("methods chosen: shops %s; hub %s", c_shop, c_hub)

    windows_shop: list[Window] = []
    windows_hub: list[Window] = []
    h = params.calib_horizon
    for j, origin in enumerate(inner_shop.origins):
        fs = combine(inner_shop.forecasts[j], family[rows], c_shop)
        fh = None if inner_hub is None else combine(inner_hub.forecasts[j], prod_family, c_hub)
        past = y[:, :origin]
        scale = scales[j]
        share = shares(past, prod_idx, n_prod)[rows]
        rs, rh = reconcile(
            fs, fh, prod_idx[rows], share, n_prod=n_prod, mode=params.reconcile, scale=scale
        )
        windows_shop.append(_window(rs, inner_shop.actuals[j], family[rows], past[rows]))
        hub_actual = hub_y[:, origin : origin + h]
        windows_hub.append(_window(rh, hub_actual, prod_family, hub_y[:, :origin]))
    if not inner_shop.origins:
        log.warning("history too short to choose a method or calibrate intervals: using ±50 %%")
    # calibrated per level, the windows oldest first (inner origins are listed latest first)
    q_shop, q_hub = (
        calibrate(w[::-1], alpha, method=params.interval, gamma=params.interval_gamma).quantiles
        for w in (windows_shop, windows_hub)
    )

    fs = forecast_chosen(shop, weeks, horizon, c_shop, params)
    given = {BOTTOM_UP: _group_sum(fs, prod_idx, n_prod)}
    fh = forecast_chosen(hub, weeks, horizon, c_hub, params, given) if top_down else None
    rs, rh = reconcile(
        fs, fh, prod_idx, shares(y, prod_idx, n_prod), n_prod=n_prod, mode=params.reconcile
    )
    lo, hi = interval_quantiles(q_shop, family, _buckets(rs, y))
    hub_lo, hub_hi = interval_quantiles(q_hub, prod_family, _buckets(rh, hub_y))
    return PanelForecast(
        shop=rs,
        shop_lo=lo,
        shop_hi=hi,
        hub=rh,
        hub_lo=hub_lo,
        hub_hi=hub_hi,
        choice_shop=c_shop,
        choice_hub=c_hub,
    )
