"""The HiGHS search for a season plan: bounds (LP, Lagrangian, branch and cut) and plans
(RENS, large-neighbourhood search, searches around the Lagrangian's product plans).

Every step is limited through a :class:`planner.budget.SolveBudget`: by counts (the default
work rule: the same plan on any machine) or by shares of the time limit. A step that stops
early returns nothing rather than failing; the search always holds a plan (the empty one to
start with) and only valid bounds, the best of which is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from planner._highs import RawSolution
from planner.budget import SolveBudget, StoppedBy
from planner.formulation import PlanProblem
from planner.lagrangian_search import (
    lagrangian_bound_only,
    lagrangian_search,
    warm_up,
    worker_pool,
)
from planner.params import PlanParams
from planner.steps import (  # noqa: F401
    Search,
    SearchOutcome,
    complete,
    lns,
    lp_bound,
    relax,
    rens,
    solve_step,
)

log = logging.getLogger(__name__)

#: Below this many integer variables HiGHS goes straight to branch and cut.
SMALL_MODEL_INT_VARS = 1500
#: Above this many, the whole search goes to the LNS (no final branch and cut).
LARGE_MODEL_INT_VARS = 8000


def _branch_and_cut(
    problem: PlanProblem,
    params: PlanParams,
    search: Search,
    budget: SolveBudget,
    *,
    seconds: float,
    count: str,
    on_progress: Callable[[dict], None] | None,
) -> RawSolution:
    """HiGHS's branch and cut from the incumbent; its bound and plan join the search's."""
    # the root LP by interior point too: simplex takes minutes on the metro instance
    raw = solve_step(
        problem.model,
        params,
        budget,
        seconds=max(seconds, 1.0),
        count=count,
        gap=params.gap,
        log_to_console=params.log,
        warm_start=search.values,
        on_progress=on_progress,
        options={"mip_lp_solver": "ipm"},
    )
    search.offer(raw.values)
    search.raise_bound(raw.best_bound)
    return raw


def search_plan(
    problem: PlanProblem,
    params: PlanParams,
    budget: SolveBudget,
    *,
    start: np.ndarray,
    warm_start: np.ndarray | None = None,
    on_progress: Callable[[dict], None] | None = None,
) -> SearchOutcome:
    """Small models: branch and cut. Others: LP relaxation (bound), the Lagrangian search
    (medium) or RENS, branch and cut (medium) and LNS (large). ``start`` is a plan that is
    always feasible (the empty plan): the search never ends without one."""
    model = problem.model
    limit = params.time_limit_s
    search = Search(cost=model.cost, on_progress=on_progress)
    search.offer(start)
    if warm_start is not None and len(warm_start) == model.num_cols:
        complete(problem, params, search, warm_start, budget, seconds=0.1 * limit)

    def done(message: str) -> SearchOutcome:
        values, objective = search.incumbent()
        if search.within(params.gap + 1e-12):
            stopped = StoppedBy.GAP
        elif budget.capped:
            stopped = StoppedBy.TIME_CAP
        else:
            stopped = StoppedBy.WORK_BUDGET if budget.deterministic else StoppedBy.TIME_LIMIT
        return SearchOutcome(
            values=values,
            objective=objective,
            bound=search.bound,
            stopped_by=stopped,
            message=message,
        )

    if model.num_int <= SMALL_MODEL_INT_VARS:
        # small models: branch and cut alone is quicker than the heuristics' set-up; if it
        # stops early, the Lagrangian bound (usually well above its own) closes the gap
        raw = _branch_and_cut(
            problem,
            params,
            search,
            budget,
            seconds=0.6 * limit,
            count="small_nodes",
            on_progress=on_progress,
        )
        if raw.status != "optimal":
            lagrangian_bound_only(problem, params, search, budget)
        return done(f"branch and cut: {raw.message}")

    medium = model.num_int <= LARGE_MODEL_INT_VARS
    pool = worker_pool(min(2, params.threads)) if medium else None
    try:
        if pool is not None:  # the workers start (import) while the LP solves
            for _ in range(pool.size):
                pool.submit(warm_up)
        lp_bound(problem, params, search, budget, seconds=0.3 * limit)
        if (
            medium
            and search.lp_duals is not None
            and lagrangian_search(problem, params, search, budget, pool)
        ):
            lns(problem, params, search, budget, rounds="final_rounds", share=0.95)
            return done("LP and Lagrangian bounds, searches around the Lagrangian plans, LNS")
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    if search.lp_values is not None:
        rens_s = max(0.15 * limit, 0.4 * limit - budget.elapsed())
        if not medium:
            rens_s = 0.1 * limit  # large: its box is solved to optimality, barely better
        rens(problem, params, search, budget, seconds=rens_s)
    message = "LP bound, RENS and LNS"
    left = limit - budget.elapsed()
    if medium and (budget.deterministic or left > 0.2 * limit) and not search.within(params.gap):
        # HiGHS's root cut rounds can run 15 s past its limit: whatever they overrun is
        # taken from the LNS that follows, not from the caller's time
        _branch_and_cut(
            problem,
            params,
            search,
            budget,
            seconds=0.5 * left,
            count="medium_nodes",
            on_progress=on_progress,
        )
        message = "LP bound, RENS, branch and cut, LNS"
    # large models skip the branch and cut: its root alone would take most of the time for a
    # bound barely above the LP's, so the search keeps improving the plan instead
    lns(
        problem,
        params,
        search,
        budget,
        rounds="final_rounds" if medium else "large_rounds",
        share=0.95,
    )
    return done(message)
