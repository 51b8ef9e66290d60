"""Exact optimum of a product block without storage, by dynamic programming over the weeks
(the Lagrangian's fast path for products whose shelf life is under a week)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from planner.arrays import SEMI_INTEGER, ArrayModel

if TYPE_CHECKING:
    from planner.lagrangian import _ProductBlock


#: Largest dynamic-programming table (entries) tried before falling back to the MILP.
MAX_TABLE = 4_000_000


def solve_by_weeks(
    block: _ProductBlock, sub: ArrayModel, demand: np.ndarray, cyclic: bool
) -> tuple[float, np.ndarray] | None:
    """Exact optimum of a product block without storage (shelf life under a week) by dynamic
    programming over the season's weeks, or None when the table would be too large.

    With nothing kept from one week to the next, a week's cost depends only on that week's
    harvest: ``short·max(d − h, 0) + waste·max(h − d, 0)``, h the sum of the bed counts of the
    plantings harvesting that week times their kilos per bed. The table is indexed by the bed
    counts of the plantings still harvesting; a planting's count is chosen in its first
    harvest week and minimised out after its last. A 52-week season is cut at a week no
    planting harvests in. Returns ``(value, block values)`` in the block model's columns.
    """
    n_plain = block.num_plain
    n_groups = len(block.groups)
    num_t = len(demand)
    cost = sub.cost
    harvest_cost = cost[0:num_t]
    short_cost = cost[2 * num_t : 3 * num_t]
    waste_cost = cost[3 * num_t : 4 * num_t]
    if np.any(sub.col_upper[num_t : 2 * num_t] > 0):
        return None  # storage: not this method
    if np.any(sub.col_lower[n_plain + n_groups :] > 0):
        return None  # frozen plantings: the table does not hold their counts
    merged = slice(n_plain, n_plain + n_groups)
    upper = sub.col_upper[merged]
    lower = sub.col_lower[merged]
    semi = sub.col_kind[merged] == SEMI_INTEGER
    if n_groups and (not np.all(np.isfinite(upper)) or upper.max() > 400):
        return None
    # per group: cost of n beds, filling its per-farm segments cheapest first
    seg_cost = cost[n_plain + n_groups :]
    seg_cap = sub.col_upper[n_plain + n_groups :]
    group_cost = []
    segments = []  # per group: its segments' positions, cheapest first
    offset = 0
    for g in range(n_groups):
        size = len(block.groups[g])
        order = offset + np.argsort(seg_cost[offset : offset + size], kind="stable")
        segments.append(order)
        offset += size
        rc, cap = seg_cost[order], seg_cap[order]
        units = np.repeat(rc, np.minimum(cap, upper[g]).astype(int))
        n = int(upper[g])
        c = np.concatenate([[0.0], np.cumsum(units[:n])])
        if len(c) < n + 1:
            return None
        if semi[g]:
            c[1 : int(lower[g])] = np.inf
        group_cost.append(c)
    # harvest span of each group (weeks with kilos), and the cut of a wrapping season
    spans = []
    covered = np.zeros(num_t, dtype=bool)
    for t, k in block.harvest:
        ok = k > 0
        spans.append((t[ok], k[ok]))
        covered[t[ok]] = True
    if covered.all():
        return None
    start = int(np.flatnonzero(~covered)[-1]) + 1 if cyclic else 0
    order_t = (np.arange(num_t) + start) % num_t
    position = np.empty(num_t, dtype=int)
    position[order_t] = np.arange(num_t)
    first = [int(position[t].min()) if len(t) else -1 for t, _ in spans]
    last = [int(position[t].max()) if len(t) else -1 for t, _ in spans]
    if any(lo_ < 0 for lo_ in first):
        return None
    kg_at = [dict(zip(position[t].tolist(), k.tolist(), strict=True)) for t, k in spans]

    def week_cost(h: np.ndarray, t: int) -> np.ndarray:
        d = demand[t]
        return (
            harvest_cost[t] * h
            + short_cost[t] * np.maximum(d - h, 0.0)
            + waste_cost[t] * np.maximum(h - d, 0.0)
        )

    table: np.ndarray = np.zeros(())
    axes: list[int] = []  # group of each table axis
    steps = []  # (retired group, axes left, argmin table)
    for pos in range(num_t):
        week = int(order_t[pos])
        for g in [g for g in range(n_groups) if first[g] == pos]:
            if table.size * len(group_cost[g]) > MAX_TABLE:
                return None
            table = table[..., None] + group_cost[g].reshape((1,) * table.ndim + (-1,))
            axes.append(g)
        h: np.ndarray = np.zeros(())
        for a, g in enumerate(axes):
            k = kg_at[g].get(pos, 0.0)
            if k:
                shape = [1] * len(axes)
                shape[a] = -1
                h = h + k * np.arange(table.shape[a], dtype=float).reshape(shape)
        table = table + week_cost(np.broadcast_to(h, table.shape) if h.ndim else h, week)
        for g in [g for g in axes if last[g] == pos]:
            a = axes.index(g)
            steps.append((g, [x for x in axes if x != g], np.argmin(table, axis=a)))
            table = np.min(table, axis=a)
            axes.pop(a)
    value = float(table)
    if not np.isfinite(value):
        return None
    # back-track the bed counts, then the block's columns
    beds = np.zeros(n_groups)
    for g, left, arg in reversed(steps):
        beds[g] = arg[tuple(int(beds[x]) for x in left)] if left else arg
    values = np.zeros(sub.num_cols)
    harvest = np.zeros(num_t)
    for g, (t, k) in enumerate(spans):
        harvest[t] += k * beds[g]
    values[0:num_t] = harvest
    values[2 * num_t : 3 * num_t] = np.maximum(demand - harvest, 0.0)
    values[3 * num_t : 4 * num_t] = np.maximum(harvest - demand, 0.0)
    values[merged] = beds
    for g in range(n_groups):
        left_beds = beds[g]
        for i in segments[g]:  # cheapest first, as costed above
            take = min(seg_cap[i], left_beds)
            values[n_plain + n_groups + i] = take
            left_beds -= take
    return value, values
