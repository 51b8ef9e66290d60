"""Solve a season plan: ``solve_plan(problem, params) -> PlanResult``, no I/O.

HiGHS (default): the search of ``planner.search`` (LP bound, the Lagrangian search around the
product plans, RENS, branch and cut, LNS) under one :class:`planner.budget.SolveBudget`; CBC
gets the model as it is from a rounded-down LP start. The reported cost is always c·x of the
returned plan; ``planner.readback`` turns it into tables and explanations.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np

from core.errors import InputError, SolverError
from planner._highs import solve_highs
from planner.arrays import CONTINUOUS, SEMI_INTEGER, ArrayModel
from planner.budget import SolveBudget, StoppedBy, StopRule
from planner.commitments import why_not_kept
from planner.formulation import PlanProblem
from planner.params import PlanParams
from planner.readback import result_tables
from planner.result import PlanResult, PlanStatus
from planner.search import Search, complete, lp_bound, search_plan

log = logging.getLogger(__name__)


def solve_plan(
    problem: PlanProblem,
    params: PlanParams | None = None,
    *,
    warm_start: np.ndarray | None = None,
    on_progress: Callable[[dict], None] | None = None,
) -> PlanResult:
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
        start = (
            warm_start
            if warm_start is not None and len(warm_start) == model.num_cols
            else _rounded_down_start(problem, params, budget)
        )
        raw = solve_cbc(
            model,
            time_limit_s=max(budget.left(), 1.0),
            gap=params.gap,
            threads=params.threads,
            log_to_console=params.log,
            start=start,
        )
        if raw.status == "error" and not raw.has_solution:
            raise SolverError(f"cbc failed on the plan model: {raw.message}")
        values = raw.values if raw.has_solution and raw.values is not None else empty
        bound, message = raw.best_bound, raw.message
        stopped_by = StoppedBy.GAP if raw.status == "optimal" else StoppedBy.TIME_LIMIT
        has_plan = raw.has_solution
    else:
        outcome = search_plan(
            problem, params, budget, start=empty, warm_start=warm_start, on_progress=on_progress
        )
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
    return result_tables(
        problem,
        values,
        status=status,
        objective=objective,
        best_bound=bound,
        gap=gap,
        runtime_s=time.perf_counter() - started,
        solver=params.solver,
        message=f"{message}; stopped by {stopped_by.value}",
        stopped_by=stopped_by,
        max_row_violation=violation,
    )


def row_violation(model: ArrayModel, values: np.ndarray) -> float:
    """Largest amount by which ``values`` break a row or column bound of ``model``."""
    activity = model.matrix @ values
    rows = np.maximum(np.maximum(model.row_lower - activity, activity - model.row_upper), 0.0)
    cols = np.maximum(np.maximum(model.col_lower - values, values - model.col_upper), 0.0)
    semi = model.col_kind == SEMI_INTEGER  # 0 or between its bounds
    cols[semi & (np.abs(values) < 1e-9)] = 0.0
    worst = [rows.max(initial=0.0), cols.max(initial=0.0)]
    return float(np.nan_to_num(max(worst), nan=np.inf))


def _rounded_down_start(
    problem: PlanProblem, params: PlanParams, budget: SolveBudget
) -> np.ndarray:
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
    lp = search.lp()
    rounded = np.floor(lp[beds] + 1e-6)
    semi = model.col_kind[beds] == SEMI_INTEGER
    rounded[semi & (rounded < model.col_lower[beds])] = 0.0
    start = lp.copy()
    start[beds] = rounded
    complete(problem, params, search, start, budget, seconds=0.1 * params.time_limit_s)
    log.info("CBC start: LP beds rounded down, %s", search.objective)
    return search.incumbent()[0]


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
    lp = dataclasses.replace(
        m, col_lower=lower, col_upper=upper, col_kind=np.zeros_like(m.col_kind)
    )
    raw = solve_highs(
        lp, time_limit_s=max(params.time_limit_s, 60.0), gap=1e-6, threads=1, log_to_console=False
    )
    if raw.status == "infeasible":
        reasons = why_not_kept(problem.inputs, problem.budget_eur) or [
            "together they break a farm's rotation rule (one family's share of its land)"
        ]
        raise InputError(
            "the frozen contracts cannot all be kept in this plan: " + "; ".join(reasons)
        )
    if raw.values is None:  # cut short, not proved impossible
        raise SolverError(
            f"the plan holding only the frozen contracts was not solved: {raw.message}"
        )
    return _clean(m, raw.values)


def _clean(model: ArrayModel, values: np.ndarray) -> np.ndarray:
    values = values.copy()
    ints = model.col_kind != CONTINUOUS
    values[ints] = np.round(values[ints])
    values[np.abs(values) < 1e-7] = 0.0
    return values


__all__ = ["PlanResult", "PlanStatus", "row_violation", "solve_plan"]
