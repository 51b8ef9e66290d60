"""A solution read back as the plan's tables, with reasons for what is short and which farm
floors are missed (the explanations a plan prints)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.schema import LAND_TYPES
from planner.budget import StoppedBy
from planner.formulation import PlanProblem
from planner.result import PlanResult, PlanStatus
from planner.storage import store_was_full


def result_tables(
    problem: PlanProblem,
    x: np.ndarray,
    *,
    status: PlanStatus,
    objective: float | None,
    best_bound: float | None,
    gap: float | None,
    runtime_s: float,
    solver: str,
    message: str,
    stopped_by: StoppedBy,
    max_row_violation: float,
) -> PlanResult:
    """The solution ``x`` as a :class:`PlanResult`: plan, harvest, coverage, farms, shortfalls
    and the explanation."""
    inputs = problem.inputs
    m = problem.model
    opts = inputs.options
    farms = inputs.farms
    products = inputs.products
    weeks = inputs.week_start
    num_p, num_t = inputs.demand_kg.shape
    beds = x[m.cols["beds"].slice()]

    def block(name: str) -> np.ndarray:
        b = m.cols[name]
        return x[b.slice()].reshape(b.shape)

    harvest_pt = block("harvest")
    short = block("short")
    waste = block("waste")
    stock = block("stock")

    # plan: one row per planting with beds > 0
    used = np.flatnonzero(beds > 0.5)
    entry_kg = inputs.harvest_kg_per_bed * beds[inputs.harvest_o]
    first_t = pd.Series(inputs.harvest_t).groupby(inputs.harvest_o).min()
    last_t = pd.Series(inputs.harvest_t).groupby(inputs.harvest_o).max()
    crop_names = problem.stats.get("crop_names", {})
    plan = opts.iloc[used].copy()
    plan["beds"] = beds[used].astype(int)
    plan["area_m2"] = plan["beds"] * plan["bed_m2"]
    plan["harvest_kg"] = plan["beds"] * plan["kg_per_bed"]
    plan["revenue_eur"] = plan["harvest_kg"] * plan["price_eur_per_kg"]
    plan["plant_week"] = plan["plant_t"] + 1
    plan["plant_date"] = weeks[plan["plant_t"].to_numpy(int)].date
    plan["first_harvest"] = weeks[first_t.reindex(used).to_numpy(int)].date if len(used) else []
    plan["last_harvest"] = weeks[last_t.reindex(used).to_numpy(int)].date if len(used) else []
    plan["site_id"] = farms["site_id"].to_numpy()[plan["f"].to_numpy(int)]
    plan["farm"] = farms["name"].to_numpy()[plan["f"].to_numpy(int)]
    plan["crop"] = plan["crop_id"].map(crop_names).fillna(plan["crop_id"])
    plan = plan[
        [
            "producer_id",
            "farm",
            "site_id",
            "crop_id",
            "crop",
            "product_id",
            "family",
            "land_type",
            "plant_week",
            "plant_date",
            "beds",
            "bed_m2",
            "area_m2",
            "first_harvest",
            "last_harvest",
            "harvest_kg",
            "price_eur_per_kg",
            "revenue_eur",
        ]
    ].reset_index(drop=True)

    # harvest per farm, product and week
    o = inputs.harvest_o
    mask = entry_kg > 1e-9
    # kilos of frozen (signed) plantings: the week buys them as commitments
    signed_kg = inputs.harvest_kg_per_bed * np.nan_to_num(inputs.frozen.beds)[o]
    h = pd.DataFrame(
        {
            "f": opts["f"].to_numpy(int)[o[mask]],
            "p": opts["p"].to_numpy(int)[o[mask]],
            "t": inputs.harvest_t[mask],
            "kg": entry_kg[mask],
            "committed_kg": np.minimum(signed_kg[mask], entry_kg[mask]),
        }
    )
    h = h.groupby(["t", "f", "p"], as_index=False)[["kg", "committed_kg"]].sum()
    harvest = pd.DataFrame(
        {
            "week_start": weeks[h["t"].to_numpy(int)],
            "producer_id": farms["producer_id"].to_numpy()[h["f"].to_numpy(int)],
            "site_id": farms["site_id"].to_numpy()[h["f"].to_numpy(int)],
            "product_id": products["product_id"].to_numpy()[h["p"].to_numpy(int)],
            "storage_class": products["storage_class"].to_numpy()[h["p"].to_numpy(int)],
            "kg": h["kg"].to_numpy(),
            "committed_kg": h["committed_kg"].to_numpy(),
        }
    )

    demand = inputs.demand_kg
    served = demand - short
    pp, tt = np.meshgrid(np.arange(num_p), np.arange(num_t), indexing="ij")
    coverage = pd.DataFrame(
        {
            "week_start": weeks[tt.ravel()],
            "product_id": products["product_id"].to_numpy()[pp.ravel()],
            "demand_kg": demand.ravel(),
            "served_kg": served.ravel(),
            "short_kg": short.ravel(),
            "harvest_kg": harvest_pt.ravel(),
            "waste_kg": waste.ravel(),
            "stock_kg": stock.ravel(),
        }
    )
    coverage["coverage"] = np.where(
        coverage["demand_kg"] > 0,
        coverage["served_kg"] / coverage["demand_kg"].where(coverage["demand_kg"] > 0, 1.0),
        1.0,
    )
    coverage = (
        coverage.loc[
            (coverage["demand_kg"] > 0) | (coverage["harvest_kg"] > 0) | (coverage["stock_kg"] > 0)
        ]
        .sort_values(["week_start", "product_id"])
        .reset_index(drop=True)
    )

    usage = _usage(problem, x)
    farm_table = _farm_table(problem, x, plan, usage)
    shortfalls = _shortfalls(problem, x, usage)
    terms = _objective_terms(problem, x)
    explanation = _explain(problem, shortfalls, farm_table, terms, status)
    return PlanResult(
        status=status,
        objective=objective,
        best_bound=best_bound,
        gap=gap,
        runtime_s=runtime_s,
        plan=plan,
        harvest=harvest,
        coverage=coverage,
        farms=farm_table,
        shortfalls=shortfalls,
        explanation=explanation,
        solver=solver,
        message=message,
        objective_terms=terms,
        values=x,
        stopped_by=stopped_by,
        max_row_violation=max_row_violation,
    )


@dataclass(frozen=True, slots=True)
class _Usage:
    """Land and labour used per farm and week, and what blocks one more planting per option.

    ``blocked[o, k]`` says whether resource ``_RESOURCE_ORDER[k]`` has no room for one more
    planting (its minimum size) of option o.
    """

    land_used: np.ndarray  # (F, 3, T) m²
    labour_used: np.ndarray  # (F, T) h
    blocked: np.ndarray  # (O, 4) bool


_RESOURCE_ORDER = ("budget", "land", "labour", "rotation")


def _held(problem: PlanProblem) -> np.ndarray:
    """held[o, t]: option o holds its land in week t."""
    inputs = problem.inputs
    opts = inputs.options
    num_t = inputs.num_weeks
    offset = np.arange(num_t)[None, :] - opts["plant_t"].to_numpy(int)[:, None]
    if inputs.cyclic:
        offset = offset % num_t
    return (offset >= 0) & (offset < opts["dur"].to_numpy(int)[:, None])


def _usage(problem: PlanProblem, x: np.ndarray) -> _Usage:
    inputs = problem.inputs
    m = problem.model
    opts = inputs.options
    num_f = len(inputs.farms)
    num_t = inputs.num_weeks
    beds = x[m.cols["beds"].slice()]
    held = _held(problem)
    f = opts["f"].to_numpy(int)
    lt = opts["land_type"].map({n: i for i, n in enumerate(LAND_TYPES)}).to_numpy(int)
    bed_m2 = opts["bed_m2"].to_numpy(float)
    rate = opts["labour_h_per_bed_week"].to_numpy(float)
    land = np.zeros((num_f, len(LAND_TYPES), num_t))
    np.add.at(land, (f, lt), held * (beds * bed_m2)[:, None])
    labour = np.zeros((num_f, num_t))
    np.add.at(labour, f, held * (beds * rate)[:, None])
    cap = inputs.farms[[f"{n}_m2" for n in LAND_TYPES]].to_numpy(float)
    hours = inputs.farms["labour_h_per_week"].to_numpy(float)
    n = np.maximum(opts["min_beds"].to_numpy(float), 1.0)

    land_free = np.where(held, (cap[:, :, None] - land)[f, lt], np.inf).min(axis=1)
    labour_free = np.where(held, (hours[:, None] - labour)[f], np.inf).min(axis=1)
    blocked = np.zeros((len(opts), len(_RESOURCE_ORDER)), dtype=bool)
    if "budget" in m.rows and problem.budget_eur is not None:
        free = problem.budget_eur - float((m.matrix[m.rows["budget"].start] @ x)[0])
        cost = n * opts["kg_per_bed"].to_numpy(float) * opts["price_eur_per_kg"].to_numpy(float)
        blocked[:, 0] = free < cost - 1e-6
    blocked[:, 1] = land_free < n * bed_m2 - 1e-6
    blocked[:, 2] = (rate > 0) & (labour_free < n * rate - 1e-6)
    if "rotation" in m.rows and len(problem.rotation):
        rot = problem.rotation
        room = rot["cap_m2_weeks"].to_numpy(float) - m.matrix[m.rows["rotation"].slice()] @ x
        key = pd.MultiIndex.from_frame(rot[["f", "land_type", "family"]])
        where = key.get_indexer(pd.MultiIndex.from_arrays([f, opts["land_type"], opts["family"]]))
        has = where >= 0
        need = n * bed_m2 * held.sum(axis=1)
        blocked[has, 3] = room[where[has]] < need[has] - 1e-6
    return _Usage(land_used=land, labour_used=labour, blocked=blocked)


def _main_reason(candidates: np.ndarray, usage: _Usage) -> str | None:
    """The resource blocking most candidate options (None when most are not blocked)."""
    if candidates.size == 0:
        return None
    rows = usage.blocked[candidates]
    counts = rows.sum(axis=0)
    free = int((~rows.any(axis=1)).sum())
    best = int(np.argmax(counts))
    return _RESOURCE_ORDER[best] if counts[best] > free else None


def _farm_table(
    problem: PlanProblem, x: np.ndarray, plan: pd.DataFrame, usage: _Usage
) -> pd.DataFrame:
    inputs = problem.inputs
    farms = inputs.farms
    m = problem.model
    gaps = x[m.cols["floor_gap"].slice()]
    revenue = plan.groupby("producer_id")["revenue_eur"].sum()
    kg = plan.groupby("producer_id")["harvest_kg"].sum()
    table = farms[["producer_id", "name", "site_id", "km_to_hub", "min_revenue_eur"]].copy()
    table["revenue_eur"] = table["producer_id"].map(revenue).fillna(0.0)
    table["harvest_kg"] = table["producer_id"].map(kg).fillna(0.0)
    table["floor_gap_eur"] = gaps
    cap = farms[[f"{n}_m2" for n in LAND_TYPES]].to_numpy(float)
    for i, n in enumerate(LAND_TYPES):
        peak = usage.land_used[:, i, :].max(axis=1)
        table[f"{n}_peak_use"] = np.divide(
            peak, cap[:, i], out=np.zeros(len(farms)), where=cap[:, i] > 0
        )
    hours = farms["labour_h_per_week"].to_numpy(float)
    table["labour_peak_use"] = np.divide(
        usage.labour_used.max(axis=1), hours, out=np.zeros(len(farms)), where=hours > 0
    )
    o_f = inputs.options["f"].to_numpy(int)
    reasons = []
    for f in range(len(farms)):
        if gaps[f] <= 1.0:
            reasons.append("")
            continue
        reasons.append(_floor_reason(np.flatnonzero(o_f == f), usage))
    table["floor_reason"] = reasons
    return table


_FLOOR_REASONS = {
    "land": "land: no room left on its land for a further planting",
    "labour": "labour: the farm's hours are used up in the weeks a further planting needs",
    "rotation": "rotation: the farm is at its family share for the crops it could add",
    "budget": "budget: the purchase budget is spent",
}


def _floor_reason(options: np.ndarray, usage: _Usage) -> str:
    if options.size == 0:
        return "season: none of the crops this farm can grow is demanded in a week it could harvest"
    reason = _main_reason(options, usage)
    if reason is not None:
        return _FLOOR_REASONS[reason]
    return (
        "demand: the products it can grow are already covered by the plan (growing more "
        "only to pay the farm would be waste)"
    )


def _reach(problem: PlanProblem) -> np.ndarray:
    """reach[o_index list] per (p, t): options whose harvest can serve week t of product p."""
    inputs = problem.inputs
    opts = inputs.options
    num_p, num_t = inputs.demand_kg.shape
    shelf = inputs.products["shelf_weeks"].to_numpy(int)
    p = opts["p"].to_numpy(int)[inputs.harvest_o]
    can = np.zeros((num_p, num_t), dtype=bool)
    for k in range(int(shelf.max(initial=0)) + 1):
        ok = shelf[p] >= k
        t = inputs.harvest_t[ok] + k
        if inputs.cyclic:
            t = t % num_t
        keep = t < num_t
        can[p[ok][keep], t[keep]] = True
    return can


def _shortfalls(problem: PlanProblem, x: np.ndarray, usage: _Usage) -> pd.DataFrame:
    inputs = problem.inputs
    m = problem.model
    b = m.cols["short"]
    short = x[b.slice()].reshape(b.shape)
    demand = inputs.demand_kg
    products = inputs.products
    can = _reach(problem)
    full = store_was_full(problem, x)
    entry_p = inputs.options["p"].to_numpy(int)[inputs.harvest_o]
    rows = []
    for p in np.flatnonzero(short.sum(axis=1) > 0.5):
        pid = products["product_id"].iat[p]
        weeks = np.flatnonzero(short[p] > 0.05)
        mine = entry_p == p
        entries = (inputs.harvest_o[mine], inputs.harvest_t[mine])
        reasons = [_short_reason(problem, int(p), int(t), can, usage, entries) for t in weeks]
        reasons = [
            _STORAGE_REASON if r.startswith("cost") and full[p, t] else r
            for r, t in zip(reasons, weeks, strict=True)
        ]
        run_start = 0
        for i in range(1, len(weeks) + 1):
            if i == len(weeks) or weeks[i] != weeks[i - 1] + 1 or reasons[i] != reasons[i - 1]:
                sel = weeks[run_start:i]
                rows.append(
                    {
                        "product_id": pid,
                        "name": products["name"].iat[p],
                        "first_week": int(sel[0]) + 1,
                        "last_week": int(sel[-1]) + 1,
                        "from_date": inputs.week_start[sel[0]].date(),
                        "to_date": inputs.week_start[sel[-1]].date(),
                        "short_kg": float(short[p, sel].sum()),
                        "demand_kg": float(demand[p, sel].sum()),
                        "reason": reasons[run_start],
                    }
                )
                run_start = i
    columns = [
        "product_id",
        "name",
        "first_week",
        "last_week",
        "from_date",
        "to_date",
        "short_kg",
        "demand_kg",
        "reason",
    ]
    return pd.DataFrame(rows, columns=columns)


_STORAGE_REASON = "storage: the stores of its class were full in the weeks it would be kept"


def _short_reason(
    problem: PlanProblem,
    p: int,
    t: int,
    can: np.ndarray,
    usage: _Usage,
    entries: tuple[np.ndarray, np.ndarray],
) -> str:
    inputs = problem.inputs
    pid = inputs.products["product_id"].iat[p]
    if pid in inputs.no_grower:
        return "no suitable farm: no partner farm grows this product (producer_crops)"
    if not can[p, t]:
        return (
            "out of season: no planting window gives a harvest that keeps until this week "
            "(crop calendar and shelf life)"
        )
    # options of this product whose harvest can reach week t
    shelf = int(inputs.products["shelf_weeks"].iat[p])
    entry_o, entry_t = entries
    lag = t - entry_t
    if inputs.cyclic:
        lag = lag % inputs.num_weeks
    candidates = np.unique(entry_o[(lag >= 0) & (lag <= shelf)])
    reason = _main_reason(candidates, usage)
    if reason is not None:
        return {
            "land": "land: the farms able to grow it in time have no room for another bed",
            "labour": "labour: the farms able to grow it in time have no hours left",
            "rotation": "rotation: the farms able to grow it are at their family share",
            "budget": "budget: the purchase budget is spent",
        }[reason]
    return (
        "cost: a further bed would mostly be wasted (harvest comes in whole beds over "
        "several weeks; the rest of the week's demand is too small)"
    )


def _objective_terms(problem: PlanProblem, x: np.ndarray) -> dict:
    m = problem.model
    terms = {}
    for name in ("beds", "short", "waste", "excess", "floor_gap"):
        b = m.cols[name]
        terms[name] = float(m.cost[b.slice()] @ x[b.slice()])
    return terms


def _explain(
    problem: PlanProblem,
    shortfalls: pd.DataFrame,
    farms: pd.DataFrame,
    terms: dict,
    status: PlanStatus,
) -> tuple[str, ...]:
    inputs = problem.inputs
    lines = list(problem.notes)
    if status is PlanStatus.NO_PLAN:
        lines.append(
            "The solver stopped before finding any plan: nothing is planted. Give it "
            "more time (--time-limit)."
        )
    elif (
        status is PlanStatus.FEASIBLE
        and terms.get("beds", 0.0) == 0.0
        and inputs.demand_kg.sum() > 0
    ):
        lines.append(
            "Nothing is planted: the solver stopped before it improved on the empty "
            "plan. Give it more time (--time-limit)."
        )
    demand = inputs.demand_kg.sum()
    short = shortfalls["short_kg"].sum() if len(shortfalls) else 0.0
    if demand > 0:
        lines.append(
            f"Crop demand {demand:,.0f} kg over {inputs.num_weeks} weeks; "
            f"{100 * (1 - short / demand):.1f} % covered, {short:,.0f} kg short."
        )
    if len(shortfalls):
        by_reason = shortfalls.groupby(shortfalls["reason"].str.split(":").str[0])
        for reason, group in sorted(by_reason, key=lambda kv: -kv[1]["short_kg"].sum()):
            top = group.groupby("name")["short_kg"].sum().sort_values(ascending=False)
            names = ", ".join(f"{n} {kg:,.0f} kg" for n, kg in top.head(5).items())
            more = f" and {len(top) - 5} more" if len(top) > 5 else ""
            lines.append(
                f"Short because of {reason} ({group['short_kg'].sum():,.0f} kg): {names}{more}."
            )
    below = farms.loc[farms["floor_gap_eur"] > 1.0]
    if len(below):
        for r in below.itertuples():
            lines.append(
                f"Farm {r.producer_id} ({r.name}) reaches {r.revenue_eur:,.0f} € of "
                f"its {r.min_revenue_eur:,.0f} € floor — {r.floor_reason}."
            )
    else:
        lines.append("Every partner farm reaches its minimum fair revenue.")
    frozen = inputs.frozen
    if frozen.fixed.any():
        lines.append(
            f"{int(np.nan_to_num(frozen.beds).sum())} beds of frozen contracts kept as signed "
            f"({', '.join(sorted(set(frozen.contract[frozen.fixed])))})."
        )
    if len(frozen.outside):
        lines.append(
            f"{len(frozen.outside)} frozen contract lines plant outside this plan's weeks and "
            "are not part of it."
        )
    if len(inputs.unplanned):
        lines.append(
            f"{len(inputs.unplanned)} demanded products are not crops of the partner "
            f"farms and are not planned ({inputs.unplanned['kg'].sum():,.0f} kg: "
            + ", ".join(inputs.unplanned["product_id"].head(6))
            + "…)."
        )
    return tuple(lines)
