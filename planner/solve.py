"""Solve a season plan and read the solution back as tables, with reasons for what is short.

``solve_plan(problem, params) -> PlanResult`` has no I/O. HiGHS (default) first solves the LP
relaxation and rounds it inside a small neighbourhood MIP (RENS) to hand the full MIP a good
first plan; CBC gets the PuLP model as it is.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from core.errors import InputError, SolverError
from core.schema import LAND_TYPES
from planner._highs import solve_highs
from planner.budget import SolveBudget, StoppedBy, StopRule
from planner.commitments import why_not_kept
from planner.formulation import CONTINUOUS, SEMI_INTEGER, ArrayModel, PlanProblem
from planner.params import PlanParams
from planner.search import Search, complete, lp_bound, search_plan

log = logging.getLogger(__name__)


class PlanStatus(StrEnum):
    """How the solve ended (a plan always exists: shortfall and floor gaps are variables)."""

    OPTIMAL = "optimal"  # proved within the gap tolerance
    FEASIBLE = "feasible"  # stopped (time limit) with a plan, gap above tolerance
    NO_PLAN = "no_plan"  # stopped before any plan was found


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanResult:
    """A solved season plan.

    Attributes
    ----------
    plan
        One row per planting: farm, crop, planting week, beds, area, expected kg and revenue.
    harvest
        ``week_start, producer_id, site_id, product_id, storage_class, kg``: the weekly farm
        supply (the routing stage turns it into pickups).
    coverage
        Per week and product: demand, served, short, harvested, wasted, stock and coverage.
    farms
        Per farm: revenue at fair prices, its floor, the floor gap and why, land and labour use.
    shortfalls
        Runs of consecutive short weeks per product with kilos and the reason.
    explanation
        Plain sentences: what cannot be covered and why, which floors are not met and why.
    """

    status: PlanStatus
    objective: float | None
    best_bound: float | None
    gap: float | None
    runtime_s: float
    plan: pd.DataFrame
    harvest: pd.DataFrame
    coverage: pd.DataFrame
    farms: pd.DataFrame
    shortfalls: pd.DataFrame
    explanation: tuple[str, ...]
    solver: str = "highs"
    message: str = ""
    objective_terms: dict = field(default_factory=dict)
    values: np.ndarray | None = None
    stopped_by: StoppedBy | None = None
    max_row_violation: float = 0.0


def solve_plan(problem: PlanProblem, params: PlanParams | None = None, *,
               warm_start: np.ndarray | None = None,
               on_progress: Callable[[dict], None] | None = None) -> PlanResult:
    """Solve the season plan and return its tables and explanation.

    With HiGHS: the LP relaxation (interior point) gives a bound and a point to round; a
    RENS rounding and a large-neighbourhood search (a few products or farms re-planned at a
    time) give a good plan quickly; branch and cut then runs from that plan for the rest of
    the time. The reported bound is the best of the LP's and the branch and cut's.

    Parameters
    ----------
    problem
        Built by :func:`planner.build_plan_problem`.
    params
        Solver settings (``problem.params`` when omitted; the model's rules are fixed at build).
    warm_start
        Column values of an earlier solution of a similar model (what-if re-solves).
    on_progress
        Called with the incumbent, bound, gap and elapsed seconds while HiGHS searches.
    """
    params = params or problem.params
    started = time.perf_counter()
    model = problem.model
    # CBC has no work budget: it stops on time (or the gap)
    rule = StopRule(params.stop) if params.solver == "highs" else StopRule.TIME
    budget = SolveBudget(rule=rule, limit_s=params.time_limit_s, work=params.work)
    empty = _empty_solution(problem)
    if problem.inputs.frozen.fixed.any():
        empty = _committed_solution(problem, params)
    if warm_start is None and problem.base_beds is not None:
        # a what-if from its base plan: start from the base's beds (the rest re-solved)
        warm_start = np.zeros(model.num_cols)
        warm_start[model.cols["beds"].slice()] = problem.base_beds
    if params.solver == "cbc":
        from planner._pulp import solve_cbc

        # start from the given plan, or the LP's beds rounded down: always feasible, so CBC
        # always returns a plan, as HiGHS does
        start = warm_start if warm_start is not None and len(warm_start) == model.num_cols \
            else _rounded_down_start(problem, params, budget)
        raw = solve_cbc(model, time_limit_s=max(budget.left(), 1.0), gap=params.gap,
                        threads=params.threads, log_to_console=params.log, start=start)
        if raw.status == "error" and not raw.has_solution:
            raise SolverError(f"cbc failed on the plan model: {raw.message}")
        values = raw.values if raw.has_solution else empty
        bound, message = raw.best_bound, raw.message
        stopped_by = StoppedBy.GAP if raw.status == "optimal" else StoppedBy.TIME_LIMIT
        has_plan = raw.has_solution
    else:
        outcome = search_plan(problem, params, budget, start=empty, warm_start=warm_start,
                              on_progress=on_progress)
        values, bound, message = outcome.values, outcome.bound, outcome.message
        stopped_by, has_plan = outcome.stopped_by, True
    values = _clean(model, values)
    # the reported cost is the returned plan's, never a solver's figure for it
    objective = float(model.cost @ values)
    violation = row_violation(model, values)
    if violation > 1e-3:
        log.warning("the plan breaks a row by %.3g after rounding", violation)
    gap = None if bound is None else max(objective - bound, 0.0) / max(abs(objective), 1e-9)
    if not has_plan:
        status = PlanStatus.NO_PLAN
    elif gap is not None and gap <= params.gap + 1e-9:
        status = PlanStatus.OPTIMAL
    else:
        status = PlanStatus.FEASIBLE
    return _result(problem, values, status=status, objective=objective, best_bound=bound,
                   gap=gap, runtime_s=time.perf_counter() - started, solver=params.solver,
                   message=f"{message}; stopped by {stopped_by.value}",
                   stopped_by=stopped_by, max_row_violation=violation)


def row_violation(model: ArrayModel, values: np.ndarray) -> float:
    """Largest amount by which ``values`` break a row or column bound of ``model``."""
    activity = model.matrix @ values
    rows = np.maximum(np.maximum(model.row_lower - activity, activity - model.row_upper), 0.0)
    cols = np.maximum(np.maximum(model.col_lower - values, values - model.col_upper), 0.0)
    semi = model.col_kind == SEMI_INTEGER  # 0 or between its bounds
    cols[semi & (np.abs(values) < 1e-9)] = 0.0
    worst = [rows.max(initial=0.0), cols.max(initial=0.0)]
    return float(np.nan_to_num(max(worst), nan=np.inf))


def _rounded_down_start(problem: PlanProblem, params: PlanParams,
                        budget: SolveBudget) -> np.ndarray:
    """A first plan for CBC: the LP relaxation's beds rounded down (HiGHS, interior point),
    the rest of the solution re-solved for those beds; the empty plan if that fails.

    Fewer beds than a feasible LP point never break land, labour, rotation or the budget, and
    floors, shares and demand have slack columns, so the rounded plan is always feasible
    (minimum sizes: a count below its minimum becomes 0).
    """
    empty = _empty_solution(problem)
    search = Search(cost=problem.model.cost)
    search.offer(empty)
    lp_bound(problem, params, search, budget, seconds=0.3 * params.time_limit_s)
    if search.lp_values is None:
        return empty
    model = problem.model
    beds = model.cols["beds"].slice()
    rounded = np.floor(search.lp_values[beds] + 1e-6)
    semi = model.col_kind[beds] == SEMI_INTEGER
    rounded[semi & (rounded < model.col_lower[beds])] = 0.0
    start = search.lp_values.copy()
    start[beds] = rounded
    complete(problem, params, search, start, budget, seconds=0.1 * params.time_limit_s)
    log.info("CBC start: LP beds rounded down, %s", search.objective)
    return search.values


def _empty_solution(problem: PlanProblem) -> np.ndarray:
    """Nothing planted: every demand short, every floor missed (the always-feasible plan)."""
    m = problem.model
    x = np.zeros(m.num_cols)
    x[m.cols["short"].slice()] = problem.inputs.demand_kg.ravel()
    x[m.cols["floor_gap"].slice()] = problem.inputs.farms["min_revenue_eur"].to_numpy(float)
    if "kept_offset" in m.cols:
        x[m.cols["kept_offset"].slice()] = 1.0
    return x


def _committed_solution(problem: PlanProblem, params: PlanParams) -> np.ndarray:
    """The plan holding only the frozen contracts' beds, the rest of it re-solved (an LP):
    the always-feasible start when contracts are frozen. An InputError says why when the
    frozen plantings cannot all be kept (land, labour, budget)."""
    m = problem.model
    beds = m.cols["beds"].slice()
    fixed = np.nan_to_num(problem.inputs.frozen.beds)
    lower, upper = m.col_lower.copy(), m.col_upper.copy()
    lower[beds] = fixed
    upper[beds] = fixed
    lp = dataclasses.replace(m, col_lower=lower, col_upper=upper,
                             col_kind=np.zeros_like(m.col_kind))
    raw = solve_highs(lp, time_limit_s=max(params.time_limit_s, 60.0), gap=1e-6, threads=1,
                      log_to_console=False)
    if raw.values is None or raw.status in ("infeasible", "error"):
        reasons = why_not_kept(problem.inputs, problem.budget_eur) or [
            "together they break a farm's rotation rule (one family's share of its land)"]
        raise InputError("the frozen contracts cannot all be kept in this plan: "
                         + "; ".join(reasons))
    return _clean(m, raw.values)


def _clean(model: ArrayModel, values: np.ndarray) -> np.ndarray:
    values = values.copy()
    ints = model.col_kind != CONTINUOUS
    values[ints] = np.round(values[ints])
    values[np.abs(values) < 1e-7] = 0.0
    return values


# --------------------------------------------------------------------------- reading back


def _result(problem: PlanProblem, x: np.ndarray, *, status: PlanStatus, objective, best_bound,
            gap, runtime_s: float, solver: str, message: str, stopped_by: StoppedBy,
            max_row_violation: float) -> PlanResult:
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
    plan = plan[["producer_id", "farm", "site_id", "crop_id", "crop", "product_id", "family",
                 "land_type", "plant_week", "plant_date", "beds", "bed_m2", "area_m2",
                 "first_harvest", "last_harvest", "harvest_kg", "price_eur_per_kg",
                 "revenue_eur"]].reset_index(drop=True)

    # harvest per farm, product and week
    o = inputs.harvest_o
    mask = entry_kg > 1e-9
    h = pd.DataFrame({"f": opts["f"].to_numpy(int)[o[mask]], "p": opts["p"].to_numpy(int)[o[mask]],
                      "t": inputs.harvest_t[mask], "kg": entry_kg[mask]})
    h = h.groupby(["t", "f", "p"], as_index=False)["kg"].sum()
    harvest = pd.DataFrame({
        "week_start": weeks[h["t"].to_numpy(int)],
        "producer_id": farms["producer_id"].to_numpy()[h["f"].to_numpy(int)],
        "site_id": farms["site_id"].to_numpy()[h["f"].to_numpy(int)],
        "product_id": products["product_id"].to_numpy()[h["p"].to_numpy(int)],
        "storage_class": products["storage_class"].to_numpy()[h["p"].to_numpy(int)],
        "kg": h["kg"].to_numpy(),
    })

    demand = inputs.demand_kg
    served = demand - short
    pp, tt = np.meshgrid(np.arange(num_p), np.arange(num_t), indexing="ij")
    coverage = pd.DataFrame({
        "week_start": weeks[tt.ravel()],
        "product_id": products["product_id"].to_numpy()[pp.ravel()],
        "demand_kg": demand.ravel(), "served_kg": served.ravel(), "short_kg": short.ravel(),
        "harvest_kg": harvest_pt.ravel(), "waste_kg": waste.ravel(),
        "stock_kg": stock.ravel(),
    })
    coverage["coverage"] = np.where(coverage["demand_kg"] > 0,
                                    coverage["served_kg"] / coverage["demand_kg"].where(
                                        coverage["demand_kg"] > 0, 1.0), 1.0)
    coverage = coverage.loc[(coverage["demand_kg"] > 0) | (coverage["harvest_kg"] > 0)
                            | (coverage["stock_kg"] > 0)].sort_values(
        ["week_start", "product_id"]).reset_index(drop=True)

    usage = _usage(problem, x)
    farm_table = _farm_table(problem, x, plan, usage)
    shortfalls = _shortfalls(problem, x, usage)
    terms = _objective_terms(problem, x)
    explanation = _explain(problem, shortfalls, farm_table, terms, status)
    return PlanResult(status=status, objective=objective, best_bound=best_bound, gap=gap,
                      runtime_s=runtime_s, plan=plan, harvest=harvest, coverage=coverage,
                      farms=farm_table, shortfalls=shortfalls, explanation=explanation,
                      solver=solver, message=message, objective_terms=terms, values=x,
                   stopped_by=stopped_by, max_row_violation=max_row_violation)


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
    offset = (np.arange(num_t)[None, :] - opts["plant_t"].to_numpy(int)[:, None])
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
        where = key.get_indexer(pd.MultiIndex.from_arrays(
            [f, opts["land_type"], opts["family"]]))
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


def _farm_table(problem: PlanProblem, x: np.ndarray, plan: pd.DataFrame,
                usage: _Usage) -> pd.DataFrame:
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
        table[f"{n}_peak_use"] = np.divide(peak, cap[:, i], out=np.zeros(len(farms)),
                                           where=cap[:, i] > 0)
    hours = farms["labour_h_per_week"].to_numpy(float)
    table["labour_peak_use"] = np.divide(usage.labour_used.max(axis=1), hours,
                                         out=np.zeros(len(farms)), where=hours > 0)
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
        return ("season: none of the crops this farm can grow is demanded in a week it could "
                "harvest")
    reason = _main_reason(options, usage)
    if reason is not None:
        return _FLOOR_REASONS[reason]
    return ("demand: the products it can grow are already covered by the plan (growing more "
            "only to pay the farm would be waste)")


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
    entry_p = inputs.options["p"].to_numpy(int)[inputs.harvest_o]
    rows = []
    for p in np.flatnonzero(short.sum(axis=1) > 0.5):
        pid = products["product_id"].iat[p]
        weeks = np.flatnonzero(short[p] > 0.05)
        mine = entry_p == p
        entries = (inputs.harvest_o[mine], inputs.harvest_t[mine])
        reasons = [_short_reason(problem, p, t, can, usage, entries) for t in weeks]
        run_start = 0
        for i in range(1, len(weeks) + 1):
            if i == len(weeks) or weeks[i] != weeks[i - 1] + 1 or reasons[i] != reasons[i - 1]:
                sel = weeks[run_start:i]
                rows.append({"product_id": pid, "name": products["name"].iat[p],
                             "first_week": int(sel[0]) + 1, "last_week": int(sel[-1]) + 1,
                             "from_date": inputs.week_start[sel[0]].date(),
                             "to_date": inputs.week_start[sel[-1]].date(),
                             "short_kg": float(short[p, sel].sum()),
                             "demand_kg": float(demand[p, sel].sum()),
                             "reason": reasons[run_start]})
                run_start = i
    columns = ["product_id", "name", "first_week", "last_week", "from_date", "to_date", "short_kg",
               "demand_kg", "reason"]
    return pd.DataFrame(rows, columns=columns)


def _short_reason(problem: PlanProblem, p: int, t: int, can: np.ndarray, usage: _Usage,
                  entries: tuple[np.ndarray, np.ndarray]) -> str:
    inputs = problem.inputs
    pid = inputs.products["product_id"].iat[p]
    if pid in inputs.no_grower:
        return "no suitable farm: no partner farm grows this product (producer_crops)"
    if not can[p, t]:
        return ("out of season: no planting window gives a harvest that keeps until this week "
                "(crop calendar and shelf life)")
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
    return ("cost: a further bed would mostly be wasted (harvest comes in whole beds over "
            "several weeks; the rest of the week's demand is too small)")


def _objective_terms(problem: PlanProblem, x: np.ndarray) -> dict:
    m = problem.model
    terms = {}
    for name in ("beds", "short", "waste", "excess", "floor_gap"):
        b = m.cols[name]
        terms[name] = float(m.cost[b.slice()] @ x[b.slice()])
    return terms


def _explain(problem: PlanProblem, shortfalls: pd.DataFrame, farms: pd.DataFrame,
             terms: dict, status: PlanStatus) -> tuple[str, ...]:
    inputs = problem.inputs
    lines = []
    if status is PlanStatus.NO_PLAN:
        lines.append("The solver stopped before finding any plan: nothing is planted. Give it "
                     "more time (--time-limit).")
    elif status is PlanStatus.FEASIBLE and terms.get("beds", 0.0) == 0.0 and \
            inputs.demand_kg.sum() > 0:
        lines.append("Nothing is planted: the solver stopped before it improved on the empty "
                     "plan. Give it more time (--time-limit).")
    demand = inputs.demand_kg.sum()
    short = shortfalls["short_kg"].sum() if len(shortfalls) else 0.0
    if demand > 0:
        lines.append(f"Crop demand {demand:,.0f} kg over {inputs.num_weeks} weeks; "
                     f"{100 * (1 - short / demand):.1f} % covered, {short:,.0f} kg short.")
    if len(shortfalls):
        by_reason = shortfalls.groupby(shortfalls["reason"].str.split(":").str[0])
        for reason, group in sorted(by_reason, key=lambda kv: -kv[1]["short_kg"].sum()):
            top = (group.groupby("name")["short_kg"].sum().sort_values(ascending=False))
            names = ", ".join(f"{n} {kg:,.0f} kg" for n, kg in top.head(5).items())
            more = f" and {len(top) - 5} more" if len(top) > 5 else ""
            lines.append(f"Short because of {reason} ({group['short_kg'].sum():,.0f} kg): "
                         f"{names}{more}.")
    below = farms.loc[farms["floor_gap_eur"] > 1.0]
    if len(below):
        for r in below.itertuples():
            lines.append(f"Farm {r.producer_id} ({r.name}) reaches {r.revenue_eur:,.0f} € of "
                         f"its {r.min_revenue_eur:,.0f} € floor — {r.floor_reason}.")
    else:
        lines.append("Every partner farm reaches its minimum fair revenue.")
    if len(inputs.unplanned):
        lines.append(f"{len(inputs.unplanned)} demanded products are not crops of the partner "
                     f"farms and are not planned ({inputs.unplanned['kg'].sum():,.0f} kg: "
                     + ", ".join(inputs.unplanned["product_id"].head(6)) + "…).")
    return tuple(lines)
