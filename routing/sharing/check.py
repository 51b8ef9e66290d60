"""An independent check of the max-min level: one LP with scipy's ``linprog``.

A different formulation from :mod:`sharing.solve` (no lexicographic rounds, no duals, no
carried past, the fill rate written per shop as a ratio bound on kilos): the best the
worst-served shop can get over the products short this week,

    max  t   s.t.  t · D[s] ≤ Σ_p x[s,p] (each shop),  Σ_s x[s,p] ≤ supply[p] (each product),
                   0 ≤ x[s,p] ≤ d[s,p].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from core.errors import SolverError


def maxmin_fill_rate(orders: pd.DataFrame, supply: dict[str, float]) -> float:
    """The max-min fill rate of ``orders`` (``site_id, product_id, ordered_kg``) over the
    products short against ``supply`` (1.0 when none is short)."""
    ordered = orders.groupby("product_id")["ordered_kg"].sum()
    short = [p for p, kg in ordered.items() if p in supply and kg > supply[p] + 1e-9]
    lines = orders.loc[orders["product_id"].isin(short) & (orders["ordered_kg"] > 0)]
    if lines.empty:
        return 1.0
    lines = lines.groupby(["site_id", "product_id"], as_index=False)["ordered_kg"].sum()
    n = len(lines)
    shop_codes, shops = pd.factorize(lines["site_id"], sort=True)
    prod_codes, prods = pd.factorize(lines["product_id"], sort=True)
    d = lines["ordered_kg"].to_numpy(float)
    total = np.bincount(shop_codes, weights=d)
    cols = np.arange(n)
    # t·D[s] − Σ_p x[s,p] ≤ 0  (t is the last column)
    fair = coo_matrix(
        (
            np.concatenate([-np.ones(n), total]),
            (
                np.concatenate([shop_codes, np.arange(len(shops))]),
                np.concatenate([cols, np.full(len(shops), n)]),
            ),
        ),
        shape=(len(shops), n + 1),
    )
    cap = coo_matrix((np.ones(n), (prod_codes, cols)), shape=(len(prods), n + 1))
    res = linprog(
        c=np.concatenate([np.zeros(n), [-1.0]]),
        A_ub=vstack([fair, cap]).tocsr(),
        b_ub=np.concatenate([np.zeros(len(shops)), [supply[p] for p in prods]]),
        bounds=[(0.0, v) for v in d] + [(0.0, 1.0)],
        method="highs",
    )
    if res.status != 0:
        raise SolverError(f"max-min check LP: {res.message}")
    return float(res.x[-1])
