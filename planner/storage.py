"""Storage in the plan: the network's stock of each storage class bounded every week.

``storage.csv`` gives each site's capacity per storage class. The plan's stock is the whole
network's (the pôle's store and the farms' cellars and cold rooms: a season's potatoes are
kept on the farm), so every site's rows add up to the bound:
``Σ_{p in class c} stock[p, t] ≤ Σ_sites capacity[site, c]`` for every week t (classes without
a row are unbounded). Without the table no row is added and the model is
the one it always was. The rows tie products together: the Lagrangian dualises them
(``planner.lagrangian.COUPLING_ROWS``). A tighter store never makes the plan infeasible: what
cannot be kept is wasted or left short, at its price, and :func:`stock_by_class` shows the
weeks the store is full.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.territory import Territory

if TYPE_CHECKING:  # formulation imports this module
    from planner.arrays import Block, Builder
    from planner.formulation import PlanProblem
    from planner.inputs import PlanInputs
    from planner.result import PlanResult


def network_capacity(territory: Territory) -> dict[str, float]:
    """Capacity in kg per storage class over every site (empty: no storage table)."""
    storage = territory.storage
    if storage is None or storage.empty:
        return {}
    total = storage.groupby("storage_class")["capacity_kg"].sum()
    return {str(c): float(kg) for c, kg in total.items()}


def add_storage_rows(builder: Builder, inputs: PlanInputs, stock: Block) -> None:
    """Rows ``storage[c, t]``: the class's stock at the end of week t within the capacity."""
    capacity = inputs.storage_kg
    if not capacity:
        return
    classes = sorted(capacity)
    num_t = inputs.num_weeks
    rows = builder.add_rows(
        "storage",
        (len(classes), num_t),
        upper=np.repeat([capacity[c] for c in classes], num_t),
    )
    of_class = inputs.products["storage_class"].to_numpy()
    weeks = np.arange(num_t)
    for i, c in enumerate(classes):
        for p in np.flatnonzero(of_class == c):
            builder.add_entries(rows.index(i, weeks), stock.index(p, weeks), 1.0)


def stock_by_class(result: PlanResult, problem: PlanProblem) -> pd.DataFrame:
    """``week_start, storage_class, stock_kg, capacity_kg, full``: the network's stock per
    class and week against its capacity (NaN: unbounded)."""
    cov = result.coverage
    classes = problem.inputs.products.set_index("product_id")["storage_class"]
    frame = cov.assign(storage_class=cov["product_id"].map(classes))
    table = frame.groupby(["week_start", "storage_class"], as_index=False)["stock_kg"].sum()
    capacity = problem.inputs.storage_kg
    table["capacity_kg"] = table["storage_class"].map(capacity).astype(float)
    table["full"] = table["stock_kg"] >= table["capacity_kg"] * (1 - 1e-6) - 1e-6
    return table


def store_was_full(problem: PlanProblem, x: np.ndarray) -> np.ndarray:
    """``full[p, t]``: product p's storage class was full in a week its stock for week t would
    have been kept through (t − shelf weeks … t − 1); all False without storage rows."""
    inputs, m = problem.inputs, problem.model
    num_p, num_t = inputs.demand_kg.shape
    full = np.zeros((num_p, num_t), dtype=bool)
    if "storage" not in m.rows:
        return full
    rows = m.rows["storage"]
    activity = (m.matrix[rows.slice()] @ x).reshape(rows.shape)
    at_cap = activity >= m.row_upper[rows.slice()].reshape(rows.shape) * (1 - 1e-6) - 1e-6
    classes = sorted(inputs.storage_kg)
    of_class = inputs.products["storage_class"].to_numpy()
    shelf = inputs.products["shelf_weeks"].to_numpy(int)
    for p in range(num_p):
        if of_class[p] not in classes or shelf[p] < 1:
            continue
        weeks = at_cap[classes.index(of_class[p])]
        for t in range(num_t):
            lags = np.arange(t - shelf[p], t)
            lags = lags % num_t if inputs.cyclic else lags[lags >= 0]
            full[p, t] = bool(weeks[lags].any())
    return full
