"""Share short supply among shops: lexicographic max-min fair fill rate, or proportional.

The max-min LP (Lien, Iravani & Smilowitz 2014, "Sequential resource allocation for nonprofit
operations"; Orgut et al. 2016 on equitable food bank distribution), over the products that
are shared this week (P: orders above supply, or in a storage class over the hub's capacity),
shops s, order lines d[s,p]:

    max  t
    s.t. Σ_s x[s,p] ≤ supply[p]                                   (each limited product)
         Σ_{p in class c} Σ_s x[s,p] ≤ capacity[c]                (each class over capacity)
         A[s] + Σ_p x[s,p] ≥ w[s] · t · (D[s] + Σ_p d[s,p])        (each free shop)
         A[s] + Σ_p x[s,p] ≥ level[s]                              (each shop already fixed)
         0 ≤ x[s,p] ≤ d[s,p]

``A``/``D``: the shop's carried past (allocated/ordered kilos of earlier short weeks), so the
fill rate that is raised is the shop's running one. After each solve, the free shops whose row
has a non-zero dual cannot rise without lowering another (complementary slackness): they are
fixed at ``w·t``; repeat until every shop is fixed, then hand out what is left
(max Σ x at the fixed levels), and among those allocations take the one closest in kilos to
each product's proportional share (min Σ |x − d·supply/ordered|). Products sold in units are
then rounded down to whole units and the units left over go one by one to the shop with the
lowest fill rate per weight; the products sold by the kilo are then shared again with the units
fixed, so that they make up what the rounding took.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.errors import SolverError
from core.highs import quiet_highs
from routing.sharing.model import ShareParams, ShareProblem, ShareResult, gini

log = logging.getLogger(__name__)

_EPS = 1e-9


def shared_products(problem: ShareProblem) -> list[str]:
    """Products whose orders exceed supply, or in a storage class over capacity."""
    ordered = problem.orders.groupby("product_id")["ordered_kg"].sum()
    short = {p for p, kg in ordered.items() if kg > problem.supply.get(p, np.inf) + _EPS}
    by_class = problem.orders.groupby("storage_class")["ordered_kg"].sum()
    full = {c for c, kg in by_class.items() if kg > problem.capacity.get(c, np.inf) + _EPS}
    classes = problem.orders.drop_duplicates("product_id").set_index("product_id")["storage_class"]
    short |= {p for p, c in classes.items() if c in full}
    return sorted(short)


def share(problem: ShareProblem, params: ShareParams | None = None) -> ShareResult:
    """Allocate the week's short products among the shops (see the module docstring)."""
    params = params or ShareParams()
    orders = problem.orders.sort_values(["site_id", "product_id"], kind="mergesort")
    orders = orders.reset_index(drop=True)
    products = shared_products(problem)
    in_p = orders["product_id"].isin(products).to_numpy()
    lines = orders.loc[in_p].reset_index(drop=True)
    levels = 0
    if len(lines) == 0:
        x = np.zeros(0)
    elif params.method == "maxmin":
        x, levels = _maxmin(problem, lines, params.tolerance)
    else:
        x = _proportional(problem, lines)
    x = _whole_units(problem, lines, x)
    if params.method == "maxmin" and len(lines):
        x, more = _after_units(problem, lines, x, params.tolerance)
        levels += more
    allocated = orders["ordered_kg"].to_numpy(float).copy()
    allocated[in_p] = x
    return _result(problem, orders, allocated, products, params.method, levels)


# --------------------------------------------------------------------------- the LPs


def _shop_index(
    problem: ShareProblem, lines: pd.DataFrame
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    shops = sorted(lines["site_id"].unique())
    col_shop = lines["site_id"].map({s: i for i, s in enumerate(shops)}).to_numpy()
    d = lines["ordered_kg"].to_numpy(float)
    past_a = np.zeros(len(shops))
    past_d = np.zeros(len(shops))
    if problem.past is not None and len(problem.past):
        past = problem.past.groupby("site_id")[["ordered_kg", "allocated_kg"]].sum()
        for i, s in enumerate(shops):
            if s in past.index:
                past_d[i] = float(past.at[s, "ordered_kg"])
                past_a[i] = min(float(past.at[s, "allocated_kg"]), past_d[i])
    total = past_d + np.bincount(col_shop, weights=d, minlength=len(shops))
    weights = np.array([problem.weights.get(s, 1.0) for s in shops])
    return shops, col_shop, past_a, total, weights


def _capacity_rows(problem: ShareProblem, lines: pd.DataFrame) -> tuple[np.ndarray, sp.csr_matrix]:
    """(upper bounds, matrix part) of the supply and class-capacity rows."""
    n = len(lines)
    rows, upper = [], []
    for p, idx in lines.groupby("product_id", sort=True).indices.items():
        if p in problem.supply:
            rows.append(idx)
            upper.append(problem.supply[p])
    for c, idx in lines.groupby("storage_class", sort=True).indices.items():
        if c in problem.capacity:
            rows.append(idx)
            upper.append(problem.capacity[c])
    data = np.concatenate([np.ones(len(r)) for r in rows]) if rows else np.zeros(0)
    cols = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    rr = np.concatenate([np.full(len(r), i) for i, r in enumerate(rows)]) if rows else cols
    matrix = sp.csr_matrix((data, (rr, cols)), shape=(len(rows), n + 1))
    return np.array(upper, dtype=float), matrix


def _maxmin(problem: ShareProblem, lines: pd.DataFrame, tol: float) -> tuple[np.ndarray, int]:
    import highspy

    shops, col_shop, past_a, total, weights = _shop_index(problem, lines)
    n, m = len(lines), len(shops)
    d = lines["ordered_kg"].to_numpy(float)
    cap_hi, cap_matrix = _capacity_rows(problem, lines)
    # fairness rows: Σ_p x[s,p] − w·total·t ≥ −A
    fair = sp.csr_matrix(
        (
            np.concatenate([np.ones(n), -weights * total]),
            (
                np.concatenate([col_shop, np.arange(m)]),
                np.concatenate([np.arange(n), np.full(m, n)]),
            ),
        ),
        shape=(m, n + 1),
    )
    matrix = sp.vstack([cap_matrix, fair]).tocsc()
    num_cap = cap_matrix.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + 1, matrix.shape[0]
    lp.col_cost_ = np.concatenate([np.zeros(n), [1.0]])
    lp.col_lower_ = np.zeros(n + 1)
    lp.col_upper_ = np.concatenate([d, [highspy.kHighsInf]])
    lp.row_lower_ = np.concatenate([np.full(num_cap, -highspy.kHighsInf), -past_a])
    lp.row_upper_ = np.concatenate([cap_hi, np.full(m, highspy.kHighsInf)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n + 1, matrix.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    h = quiet_highs()
    h.setOptionValue("output_flag", False)
    if h.passModel(lp) == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the sharing model")

    free = np.ones(m, dtype=bool)
    levels = 0
    while free.any():
        levels += 1
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"sharing LP round {levels}: {h.getModelStatus()}")
        sol = h.getSolution()
        t = float(sol.col_value[n])
        duals = np.abs(np.asarray(sol.row_dual)[num_cap:])
        activity = np.asarray(sol.row_value)[num_cap:]
        blocked = free & (duals > 1e-9)
        if not blocked.any():  # degenerate duals: hold every tight free shop
            blocked = free & (activity + weights * total * t <= -past_a + tol * (1 + total))
        if not blocked.any():
            blocked = free.copy()
        for i in np.flatnonzero(blocked):
            level = weights[i] * total[i] * t - past_a[i] - tol * total[i]
            h.changeCoeff(num_cap + int(i), n, 0.0)
            h.changeRowBounds(num_cap + int(i), level, highspy.kHighsInf)
        free &= ~blocked
        log.debug("sharing round %d: level %.4f, %d shop(s) fixed", levels, t, blocked.sum())
    # what is left: as many kilos as the fixed levels allow
    h.changeColsCost(n + 1, np.arange(n + 1, dtype=np.int32), np.concatenate([np.ones(n), [0]]))
    h.changeColBounds(n, 0.0, 0.0)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"sharing LP (what is left): {h.getModelStatus()}")
    x = np.asarray(h.getSolution().col_value[:n])
    x = _spread(h, highspy, lines, problem, x, n)
    return np.clip(x, 0.0, d), levels


def _spread(
    h: Any, highspy: Any, lines: pd.DataFrame, problem: ShareProblem, x: np.ndarray, n: int
) -> np.ndarray:
    """Among the allocations with these levels and this total, the one closest (in kilos) to
    each product's proportional share: the levels leave many optima, and without this a shop
    may get none of one short product and all of another."""
    d = lines["ordered_kg"].to_numpy(float)
    ordered = lines.groupby("product_id")["ordered_kg"].transform("sum").to_numpy(float)
    supply = lines["product_id"].map(problem.supply).astype(float).fillna(np.inf).to_numpy()
    target = d * np.minimum(1.0, supply / ordered)
    total = float(x.sum())
    inf = highspy.kHighsInf
    # e[i] ≥ |x[i] − target[i]|, cost 1 per kilo; x keeps cost 0; Σ x ≥ total
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.changeColsCost(n + 1, np.arange(n + 1, dtype=np.int32), np.zeros(n + 1))
    h.addCols(n, np.ones(n), np.zeros(n), np.full(n, inf), 0, [], [], [])
    x_cols = np.arange(n, dtype=np.int32)
    e_cols = np.arange(n + 1, 2 * n + 1, dtype=np.int32)
    starts = np.arange(0, 2 * n, 2, dtype=np.int32)
    pairs = np.column_stack([e_cols, x_cols]).ravel()
    h.addRows(n, -target, np.full(n, inf), 2 * n, starts, pairs, np.tile([1.0, -1.0], n))
    h.addRows(n, target, np.full(n, inf), 2 * n, starts, pairs, np.tile([1.0, 1.0], n))
    h.addRows(1, [total * (1 - 1e-9) - 1e-9], [inf], n, [0], x_cols, np.ones(n))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return x  # keep the max-min allocation as it is
    return np.asarray(h.getSolution().col_value[:n])


def _proportional(problem: ShareProblem, lines: pd.DataFrame) -> np.ndarray:
    d = lines["ordered_kg"].to_numpy(float)
    ordered = lines.groupby("product_id")["ordered_kg"].transform("sum").to_numpy(float)
    supply = lines["product_id"].map(problem.supply).astype(float).fillna(np.inf).to_numpy()
    x = d * np.minimum(1.0, supply / ordered)
    classes = lines["storage_class"].to_numpy()
    for c, cap in problem.capacity.items():
        mask = classes == c
        held = x[mask].sum()
        if held > cap:
            x[mask] *= cap / held
    return x


# --------------------------------------------------------------------------- whole units


def _whole_units(problem: ShareProblem, lines: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """Round unit products down to whole units, then hand the units left over one by one to
    the shop with the lowest fill rate per weight (ties: the first site id)."""
    if not problem.unit_kg or len(lines) == 0:
        return x
    x = x.copy()
    d = lines["ordered_kg"].to_numpy(float)
    unit = lines["product_id"].map(problem.unit_kg).astype(float).to_numpy()
    has_unit = np.isfinite(unit)
    x[has_unit] = np.floor(x[has_unit] / unit[has_unit] + 1e-6) * unit[has_unit]
    shops, col_shop, past_a, total, weights = _shop_index(problem, lines)
    got = past_a + np.bincount(col_shop, weights=x, minlength=len(shops))
    products = lines["product_id"].to_numpy()
    classes = lines["storage_class"].to_numpy()
    for p in sorted(set(products[has_unit])):
        idx = np.flatnonzero(products == p)
        u = float(unit[idx[0]])
        cls = classes[idx[0]]
        while True:
            left = problem.supply.get(p, np.inf) - x[idx].sum()
            room = problem.capacity.get(cls, np.inf) - x[classes == cls].sum()
            if min(left, room) < u - 1e-6:
                break
            fits = idx[x[idx] + u <= d[idx] + 1e-6]
            if len(fits) == 0:
                break
            rate = got[col_shop[fits]] / (weights[col_shop[fits]] * total[col_shop[fits]])
            j = int(fits[np.argmin(rate)])  # argmin keeps the first: lines are sorted by shop
            x[j] += u
            got[col_shop[j]] += u
    return x


def _after_units(
    problem: ShareProblem, lines: pd.DataFrame, x: np.ndarray, tol: float
) -> tuple[np.ndarray, int]:
    """Share the products sold by the kilo again, the units now fixed: the kilos can make up
    what rounding down to whole units took from a shop."""
    units = lines["product_id"].isin(list(problem.unit_kg)).to_numpy()
    if not units.any() or units.all():
        return x, 0
    fixed = lines.loc[units].assign(allocated_kg=x[units])
    past = fixed[["site_id", "ordered_kg", "allocated_kg"]]
    if problem.past is not None and len(problem.past):
        past = pd.concat([problem.past[["site_id", "ordered_kg", "allocated_kg"]], past])
    held = fixed.groupby("storage_class")["allocated_kg"].sum()
    capacity = {c: max(0.0, kg - float(held.get(c, 0.0))) for c, kg in problem.capacity.items()}
    rest = lines.loc[~units].reset_index(drop=True)
    sub = dataclasses.replace(problem, past=past, capacity=capacity)
    x = x.copy()
    x[~units], levels = _maxmin(sub, rest, tol)
    return x, levels


# --------------------------------------------------------------------------- the result


def _result(
    problem: ShareProblem,
    orders: pd.DataFrame,
    allocated: np.ndarray,
    products: list[str],
    method: str,
    levels: int,
) -> ShareResult:
    lines = orders[["site_id", "product_id", "storage_class", "ordered_kg"]].copy()
    lines["allocated_kg"] = allocated
    missing = lines["ordered_kg"] - lines["allocated_kg"]
    by_product = lines.groupby("product_id", sort=True)[["ordered_kg", "allocated_kg"]].sum()
    supply = pd.Series(problem.supply, dtype=float).reindex(by_product.index)
    short_kg = (by_product["ordered_kg"] - supply).clip(lower=0).fillna(0.0)
    # a product's missing kilos: short supply up to what supply lacks, the rest is storage
    unallocated = by_product["ordered_kg"] - by_product["allocated_kg"]
    short_share = (short_kg.clip(upper=unallocated) / unallocated.where(unallocated > 0)).fillna(0)
    full = {
        c
        for c, kg in lines.groupby("storage_class")["ordered_kg"].sum().items()
        if kg > problem.capacity.get(c, np.inf) + _EPS
    }
    cls = lines.drop_duplicates("product_id").set_index("product_id")["storage_class"]
    short_share = short_share.where(cls.reindex(short_share.index).isin(full), 1.0)
    share = lines["product_id"].map(short_share).fillna(1.0).to_numpy()
    share = np.where(missing > 0, share, 1.0)
    lines["short_supply_kg"] = missing * share
    lines["storage_kg"] = missing * (1 - share)

    table = by_product.reset_index()
    table["available_kg"] = supply.to_numpy()
    table["short_kg"] = short_kg.to_numpy()
    table["undistributed_kg"] = (
        (supply - by_product["allocated_kg"]).clip(lower=0).where(short_kg > 0, 0.0).to_numpy()
    )
    table = table[
        ["product_id", "ordered_kg", "available_kg", "allocated_kg", "short_kg", "undistributed_kg"]
    ]

    part = lines.loc[lines["product_id"].isin(products)]
    shops = part.groupby("site_id", sort=True)[["ordered_kg", "allocated_kg"]].sum()
    if problem.past is not None and len(problem.past):
        past = problem.past.groupby("site_id")[["ordered_kg", "allocated_kg"]].sum()
        shops = shops.add(past.reindex(shops.index).fillna(0.0))
    shops["fill_rate"] = shops["allocated_kg"] / shops["ordered_kg"]
    shops.insert(0, "weight", [problem.weights.get(s, 1.0) for s in shops.index])
    shops = shops.reset_index()
    rates = shops["fill_rate"].to_numpy(float)
    return ShareResult(
        method=method,
        lines=lines,
        shops=shops,
        products=table,
        min_fill_rate=float(rates.min()) if len(rates) else 1.0,
        gini=gini(rates),
        undistributed_kg=float(table["undistributed_kg"].sum()),
        levels=levels,
        shared=tuple(products),
    )
