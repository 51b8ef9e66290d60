"""Solve a season plan and read the solution back as tables, with reasons for what is short.

``solve_plan(problem, params) -> PlanResult`` has no I/O. HiGHS (default) first solves the LP
relaxation and rounds it inside a small neighbourhood MIP (RENS) to hand the full MIP a good
first plan; CBC gets the PuLP model as it is.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.errors import SolverError
from core.schema import LAND_TYPES
from planner._highs import RawSolution, solve_highs
from planner.formulation import CONTINUOUS, SEMI_INTEGER, ArrayModel, PlanProblem
from planner.lagrangian import Decomposition
from planner.params import PlanParams

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


def _relax(model: ArrayModel) -> ArrayModel:
    return dataclasses.replace(model, col_kind=np.zeros_like(model.col_kind),
                               col_lower=np.where(model.col_kind == SEMI_INTEGER, 0.0,
                                                  model.col_lower))


#: Below this many integer variables HiGHS goes straight to branch and cut.
SMALL_MODEL_INT_VARS = 1500
#: Above this many, the whole time goes to the LNS (no final branch and cut).
LARGE_MODEL_INT_VARS = 8000
#: Share of the time limit each product MILP gets in the Lagrangian's first pass (0.02 and
#: 0.08 gave 0.108-0.119 % and 0.111-0.113 % on the sample, 0.05 gave 0.106 % twice).
FIRST_PASS_LIMIT = 0.05
#: A restricted LP this much above the full LP means the counts do not fit together.
RESTRICTED_LP_SLACK = 0.003


@dataclass(slots=True)
class _Search:
    """Incumbent and bound of the HiGHS search (LP, RENS, LNS, then branch and cut)."""

    values: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    lp_values: np.ndarray | None = None
    lp_duals: np.ndarray | None = None
    on_progress: Callable[[dict], None] | None = None
    started: float = field(default_factory=time.perf_counter)

    def offer(self, values: np.ndarray | None, objective: float | None) -> bool:
        if values is None or objective is None:
            return False
        if self.objective is None or objective < self.objective - 1e-6:
            self.values, self.objective = values, objective
            self.report()
            return True
        return False

    def report(self) -> None:
        if self.on_progress is not None:
            self.on_progress({"objective": self.objective, "best_bound": self.bound,
                              "gap": self.gap(),
                              "runtime_s": time.perf_counter() - self.started})

    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return max(self.objective - self.bound, 0.0) / max(abs(self.objective), 1e-9)


def _lp_bound(problem: PlanProblem, params: PlanParams, search: _Search, budget_s: float) -> None:
    """Solve the LP relaxation: a valid bound and the point the heuristics round."""
    # interior point (then crossover to a vertex) is 3-4× faster than simplex on these LPs
    lp = solve_highs(_relax(problem.model), time_limit_s=budget_s, gap=params.gap,
                     threads=params.threads, log_to_console=params.log,
                     options={"solver": "ipm"})
    if lp.status == "optimal" and lp.objective is not None:
        search.bound = lp.objective
        search.lp_values = lp.values
        search.lp_duals = lp.row_duals
        search.report()
    log.info("LP relaxation: %s in %.1f s", lp.objective, lp.runtime_s)


def _with_bounds(model: ArrayModel, beds_lower: np.ndarray, beds_upper: np.ndarray) -> ArrayModel:
    beds = model.cols["beds"].slice()
    lower = model.col_lower.copy()
    upper = model.col_upper.copy()
    lower[beds] = beds_lower
    upper[beds] = beds_upper
    return dataclasses.replace(model, col_lower=lower, col_upper=upper)


def _complete(problem: PlanProblem, params: PlanParams, search: _Search, start: np.ndarray,
              budget_s: float) -> None:
    """Offer an earlier plan's beds (e.g. the base plan in a what-if): the rest of the
    solution is re-solved for this model, and the plan dropped if it no longer fits."""
    model = problem.model
    beds = np.round(start[model.cols["beds"].slice()])
    sub = solve_highs(_with_bounds(model, beds, beds), time_limit_s=max(budget_s, 1.0),
                      gap=params.gap, threads=params.threads, log_to_console=False)
    accepted = search.offer(sub.values, sub.objective)
    log.info("warm start: %s (%s)", sub.objective, "kept" if accepted else "not better/feasible")


def _rens(problem: PlanProblem, params: PlanParams, search: _Search, budget_s: float) -> None:
    """Round the LP's beds in the best way within [floor, ceil] (a small MIP)."""
    model = problem.model
    beds = model.cols["beds"].slice()
    x = search.lp_values[beds]
    lo = np.floor(x + 1e-6)
    hi = np.ceil(x - 1e-6)
    semi = model.col_kind[beds] == SEMI_INTEGER
    min_beds = model.col_lower[beds]
    upper = np.where(semi & (hi < min_beds), np.where(x < 0.5 * min_beds, 0.0, min_beds), hi)
    lower = np.minimum(np.where(semi, min_beds, lo), np.maximum(upper, 0.0))
    sub = solve_highs(_with_bounds(model, lower, upper), time_limit_s=budget_s,
                      gap=params.gap / 2, threads=params.threads, log_to_console=params.log)
    search.offer(sub.values, sub.objective)
    log.info("RENS: %s in %.1f s", sub.objective, sub.runtime_s)


def _product_cost(problem: PlanProblem, x: np.ndarray) -> np.ndarray:
    """Shortfall and waste penalties per product."""
    m = problem.model
    total = np.zeros(problem.inputs.demand_kg.shape[0])
    for name in ("short", "waste"):
        b = m.cols[name]
        total += (m.cost[b.slice()] * x[b.slice()]).reshape(b.shape).sum(axis=1)
    return total


def _lns(problem: PlanProblem, params: PlanParams, search: _Search, deadline: float, *,
         max_stall: int | None = None) -> None:
    """Large-neighbourhood search: re-plan a few products (or farms) at a time, the rest fixed.

    Each round frees every planting option of a group of products, or of a group of farms,
    and solves that small MIP from the incumbent; improvements are kept. Groups are visited in
    a seeded order so the same input gives the same plan.
    """
    model = problem.model
    opts = problem.inputs.options
    beds = model.cols["beds"].slice()
    semi = model.col_kind[beds] == SEMI_INTEGER
    min_beds = model.col_lower[beds]
    max_beds = model.col_upper[beds]
    rng = np.random.default_rng(0)
    per_round = max(2.0, 0.04 * params.time_limit_s)
    size = max(150, int(0.03 * len(opts)))  # options freed per round: a few seconds. MIP
    o_p = opts["p"].to_numpy(int)
    o_f = opts["f"].to_numpy(int)
    # measured on the metro instance: product and regret rounds improve most often and
    # solve fastest; farm and RINS rounds now and then
    kinds = ("regret", "products", "regret", "products", "farms", "rins")
    keys = {"products": o_p, "farms": o_f}
    lp_beds = search.lp_values[beds] if search.lp_values is not None else None
    tried: dict[int, int] = {}
    rounds = stall = 0
    while time.perf_counter() < deadline - 1.0 and search.values is not None:
        if search.gap() is not None and search.gap() <= params.gap:
            break
        if max_stall is not None and stall >= max_stall:
            break
        kind = kinds[rounds % len(kinds)]
        key = keys.get(kind)
        fixed = np.round(search.values[beds])  # exact integers: fixed bounds must be
        if kind == "regret":
            # the product whose shortfall and waste cost most above the LP's, with every
            # option of the farms able to grow it (so they can make room for it)
            if search.lp_values is None:
                rounds += 1
                continue
            regret = _product_cost(problem, search.values) - _product_cost(problem,
                                                                           search.lp_values)
            # least-tried first, then the largest regret
            times = np.array([tried.get(p, 0) for p in range(len(regret))])
            p = int(np.lexsort((-regret, times))[0])
            tried[p] = tried.get(p, 0) + 1
            free = o_p == p
            growers = np.unique(o_f[free])
            share = np.bincount(o_f[free], weights=lp_beds[free], minlength=o_f.max() + 1)
            for f in growers[np.argsort(-share[growers])]:
                if free.sum() >= size:
                    break
                free |= o_f == f
        elif kind == "rins":  # free where the plan and the LP disagree
            if lp_beds is None:
                rounds += 1
                continue
            free = np.abs(fixed - lp_beds) > 0.5
            if free.sum() > size:
                keep = rng.choice(np.flatnonzero(free), size=size, replace=False)
                free = np.zeros(len(opts), dtype=bool)
                free[keep] = True
        else:
            groups = rng.permutation(np.unique(key))
            free = np.zeros(len(opts), dtype=bool)
            for g in groups:
                free |= key == g
                if free.sum() >= size:
                    break
        lower = np.where(free, np.where(semi, min_beds, 0.0), fixed)
        upper = np.where(free, max_beds, fixed)
        budget = min(per_round, deadline - time.perf_counter())
        sub = solve_highs(_with_bounds(model, lower, upper), time_limit_s=max(budget, 0.5),
                          gap=params.gap / 4, threads=params.threads, log_to_console=False,
                          warm_start=search.values)
        improved = search.offer(sub.values, sub.objective)
        stall = 0 if improved else stall + 1
        if free.all() and sub.status == "optimal":
            break  # the neighbourhood was the whole model
        log.debug("LNS round %d (%s): %s%s", rounds, kind, sub.objective,
                  " improved" if improved else "")
        rounds += 1
    log.info("LNS: %d rounds, incumbent %s, gap %s", rounds, search.objective, search.gap())


def _with_group_totals(model: ArrayModel, groups: list[np.ndarray], lower: np.ndarray,
                       upper: np.ndarray) -> ArrayModel:
    """The model plus rows ``lower[g] ≤ Σ beds of group g ≤ upper[g]``."""
    rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    cols = np.concatenate(groups)
    extra = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(groups), model.num_cols))
    return dataclasses.replace(model, matrix=sp.vstack([model.matrix, extra]).tocsr(),
                               row_lower=np.concatenate([model.row_lower, lower]),
                               row_upper=np.concatenate([model.row_upper, upper]))


def _blocks_task(dec: Decomposition, reduced: np.ndarray, which: list[int],
                 time_limit_s: float, block_limit_s: float, starts=None):
    """Worker: solve some product blocks of the Lagrangian (one thread)."""
    return dec.solve_blocks(reduced, which, time_limit_s=time_limit_s,
                            block_limit_s=block_limit_s, threads=1, each=True, starts=starts)


def _restricted_task(problem: PlanProblem, restricted: PlanProblem, params: PlanParams,
                     time_limit_s: float, lp_values: np.ndarray | None = None,
                     wider: PlanProblem | None = None, lp_bound: float | None = None):
    """Worker: LP, RENS and LNS on the restricted model until the LNS stalls, then LNS on the
    full model from that plan; returns its values and objective. When the restricted LP is
    more than ``RESTRICTED_LP_SLACK`` above the full LP's ``lp_bound`` (the counts do not fit
    the farms together), the ``wider`` restriction is searched instead."""
    started = time.perf_counter()
    deadline = started + time_limit_s
    search = _Search()
    _lp_bound(restricted, params, search, budget_s=0.3 * time_limit_s)
    if wider is not None and lp_bound is not None and (
            search.bound is None or search.bound > lp_bound * (1 + RESTRICTED_LP_SLACK)):
        log.info("restricted LP %s against %s: the wider restriction instead", search.bound,
                 lp_bound)
        restricted = wider
        search = _Search()
        _lp_bound(restricted, params, search, budget_s=0.3 * time_limit_s)
    if search.lp_values is None:
        return None, None
    _rens(restricted, params, search, budget_s=0.15 * time_limit_s)
    _lns(restricted, params, search, deadline=deadline, max_stall=12)
    search.lp_values = lp_values if lp_values is not None else search.lp_values
    _lns(problem, params, search, deadline=deadline)
    return search.values, search.objective


def _pool(workers: int):
    """A pool of ``workers`` spawned processes, or None where none can be started (e.g.
    inside a daemonic job process, or with a single thread)."""
    if workers < 2 or multiprocessing.current_process().daemon:
        return None
    try:
        return ProcessPoolExecutor(max_workers=workers,
                                   mp_context=multiprocessing.get_context("spawn"))
    except (OSError, ValueError, AssertionError) as exc:  # pragma: no cover - platform limits
        log.info("no worker processes (%s): the Lagrangian search runs in this one", exc)
        return None


def _merge(outcome: dict[int, tuple], per_block: dict[int, tuple]) -> None:
    """Fold a pass's block results into ``outcome`` (the better bound; the newer values)."""
    for i, (bound, found, optimal, values) in per_block.items():
        old = outcome.get(i)
        if old is not None and old[0] is not None and bound is not None:
            bound = max(bound, old[0])  # both are valid bounds
        outcome[i] = (bound, found or (old[1] if old else []), optimal or bool(old and old[2]),
                      values if values is not None else (old[3] if old else None))


def _lagrangian_search(problem: PlanProblem, params: PlanParams, search: _Search,
                       started: float, pool) -> bool:
    """Lagrangian bound from the LP duals, and a plan searched around its product plans.

    Each product's MILP under the LP's prices (``planner.lagrangian``) gives a bound above the
    LP's and, per crop and planting week, how many whole beds suit that product's weekly
    demand. A search (LP, RENS, LNS) then runs on the plan model with each crop and week's
    total beds held between those counts and two beds fewer, which leaves mostly the split
    over farms to decide. Schedule, with two workers: every product's MILP with a short limit
    (most solve in well under a second); then one worker goes on with the products left open
    (a better bound) while the other searches for the plan. Returns False when it could not
    run (the caller falls back to RENS, branch and cut and LNS).
    """
    limit = params.time_limit_s
    dec = Decomposition(problem)
    reduced, fixed_value, x = dec.fixed_part(search.lp_duals)
    if not np.isfinite(fixed_value):
        return False
    workers = 1 if pool is None else pool._max_workers
    todo = list(range(len(dec.blocks)))
    outcome: dict[int, tuple] = {}
    first_limit_s = FIRST_PASS_LIMIT * limit
    left = 0.4 * limit - (time.perf_counter() - started)
    if pool is None:
        _merge(outcome, dec.solve_blocks(reduced, todo, time_limit_s=left,
                                         block_limit_s=first_limit_s, threads=params.threads,
                                         each=True))
    else:
        for f in [pool.submit(_blocks_task, dec, reduced, todo[k::workers], left,
                              first_limit_s) for k in range(workers)]:
            _merge(outcome, f.result())
    if len(outcome) < len(todo) or any(v[0] is None for v in outcome.values()):
        log.info("Lagrangian bound: a product's MILP failed")
        return False
    for _, found, _, _ in outcome.values():
        for cols, values in found:
            x[cols] = values
    log.debug("Lagrangian first pass done at %.1f s", time.perf_counter() - started)
    first_bound = fixed_value + sum(v[0] for v in outcome.values())
    if search.bound is None or first_bound > search.bound:
        search.bound = first_bound  # valid already; the open products raise it later
        search.report()

    beds = problem.model.cols["beds"]
    bed_values = np.round(x[beds.slice()])
    groups = [g for b in dec.blocks for g in b.groups]
    counts = np.array([bed_values[g - beds.start].sum() for g in groups])
    restricted = dataclasses.replace(problem, model=_with_group_totals(
        problem.model, groups, np.maximum(counts - 2, 0.0), counts))
    # where the product plans, priced alone, do not fit the farms together (a scenario with
    # a farm less, say), a wider box that also holds the LP's beds (which fit)
    lp_beds = search.lp_values[beds.slice()]
    lp_counts = np.array([lp_beds[g - beds.start].sum() for g in groups])
    wider = dataclasses.replace(problem, model=_with_group_totals(
        problem.model, groups,
        np.minimum(np.maximum(counts - 2, 0.0), np.floor(lp_counts + 1e-6)),
        np.maximum(counts, np.ceil(lp_counts - 1e-6))))
    lp_bound = float(problem.model.cost @ search.lp_values)
    search_s = 0.93 * limit - (time.perf_counter() - started)
    open_blocks = [i for i in todo if not outcome[i][2]]
    if pool is None:
        values, objective = _restricted_task(problem, restricted, params, search_s,
                                             search.lp_values, wider, lp_bound)
    else:
        plan = pool.submit(_restricted_task, problem, restricted,
                           dataclasses.replace(params, threads=1), search_s, search.lp_values,
                           wider, lp_bound)
        if open_blocks:
            more = pool.submit(_blocks_task, dec, reduced, open_blocks, search_s, np.inf,
                               {i: outcome[i][3] for i in open_blocks})
            _merge(outcome, more.result())
        values, objective = plan.result()
    search.offer(values, objective)
    log.info("plan around the Lagrangian's: %s", objective)

    bound = fixed_value + sum(v[0] for v in outcome.values())
    left_open = sum(not v[2] for v in outcome.values())
    log.info("Lagrangian bound %.1f (LP %.1f), %d product MILPs stopped at their limit", bound,
             search.bound, left_open)
    if search.bound is None or bound > search.bound:
        search.bound = bound
        search.report()
    return True


def _lagrangian_bound_only(problem: PlanProblem, params: PlanParams, search: _Search, *,
                           deadline: float) -> None:
    """Raise the search's bound to the Lagrangian bound from the LP duals, in this process
    (small models: their product MILPs take milliseconds)."""
    left = deadline - time.perf_counter()
    if left < 0.2 or (search.gap() is not None and search.gap() <= params.gap):
        return
    lp = solve_highs(_relax(problem.model), time_limit_s=0.5 * left, gap=params.gap,
                     threads=params.threads, log_to_console=False)
    if lp.row_duals is None:
        return
    dec = Decomposition(problem)
    left = deadline - time.perf_counter()
    value, _, _ = dec.evaluate(lp.row_duals, deadline=deadline, threads=params.threads,
                               block_limit_s=max(2 * left / max(len(dec.blocks), 1), 0.1))
    if value is not None and np.isfinite(value) and (search.bound is None
                                                     or value > search.bound):
        log.info("Lagrangian bound %.1f (branch and cut's %s)", value, search.bound)
        search.bound = value
        search.report()


def _branch_and_cut(problem: PlanProblem, params: PlanParams, search: _Search,
                    time_limit_s: float, on_progress) -> RawSolution:
    """HiGHS's branch and cut from the incumbent; its bound and plan join the search's."""
    # the root LP by interior point too: simplex takes minutes on the metro instance
    raw = solve_highs(problem.model, time_limit_s=max(time_limit_s, 1.0), gap=params.gap,
                      threads=params.threads, log_to_console=params.log,
                      warm_start=search.values, on_progress=on_progress,
                      options={"mip_lp_solver": "ipm"})
    search.offer(raw.values, raw.objective)
    if raw.best_bound is not None:
        search.bound = max(search.bound if search.bound is not None else -np.inf,
                           raw.best_bound)
    return raw


def _solve_highs_plan(problem: PlanProblem, params: PlanParams, warm_start: np.ndarray | None,
                      on_progress) -> RawSolution:
    """Small models: branch and cut. Others: LP relaxation (bound), RENS (a plan), branch and
    cut for half the time left (a better bound; medium models only), then LNS to the end."""
    started = time.perf_counter()
    model = problem.model
    limit = params.time_limit_s
    search = _Search(on_progress=on_progress)
    # the empty plan is always feasible: the search never ends without a plan
    empty = _empty_solution(problem)
    search.offer(empty, float(model.cost @ empty))
    if warm_start is not None and len(warm_start) == model.num_cols:
        _complete(problem, params, search, warm_start, budget_s=0.1 * limit)

    def done(status: str, message: str) -> RawSolution:
        gap = search.gap()
        if gap is not None and gap <= params.gap:
            status = "optimal"
        return RawSolution(status=status, has_solution=search.values is not None,
                           values=search.values, objective=search.objective,
                           best_bound=search.bound, gap=gap,
                           runtime_s=time.perf_counter() - started, message=message)

    if model.num_int <= SMALL_MODEL_INT_VARS:
        # small models: branch and cut alone is quicker than the heuristics' set-up; if it
        # stops at the limit, the Lagrangian bound (usually well above its own) closes the gap
        raw = _branch_and_cut(problem, params, search, 0.6 * limit, on_progress)
        if raw.status == "optimal" and raw.objective is not None \
                and raw.objective <= search.objective + 1e-6:
            return dataclasses.replace(raw, runtime_s=time.perf_counter() - started)
        _lagrangian_bound_only(problem, params, search, deadline=started + limit)
        return done(raw.status, raw.message)

    medium = model.num_int <= LARGE_MODEL_INT_VARS
    pool = _pool(min(2, params.threads)) if medium else None
    try:
        if pool is not None:  # the workers start (import) while the LP solves
            for _ in range(pool._max_workers):
                pool.submit(_warm_up)
        _lp_bound(problem, params, search, budget_s=0.3 * limit)
        if medium and search.lp_duals is not None and \
                _lagrangian_search(problem, params, search, started, pool):
            _lns(problem, params, search, deadline=started + 0.95 * limit)
            return done("time_limit", "time limit reached (LP and Lagrangian bounds, "
                                      "searches around the Lagrangian plans, LNS)")
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    if search.lp_values is not None:
        elapsed = time.perf_counter() - started
        rens_s = max(0.15 * limit, 0.4 * limit - elapsed)
        if model.num_int > LARGE_MODEL_INT_VARS:
            rens_s = 0.1 * limit  # large: its box is solved to optimality, barely better
        _rens(problem, params, search, budget_s=rens_s)
    message = "time limit reached (LP bound, RENS and LNS)"
    left = limit - (time.perf_counter() - started)
    if medium and left > 0.2 * limit and (search.gap() is None or search.gap() > params.gap):
        # HiGHS's root cut rounds can run 15 s past its limit: whatever they overrun is
        # taken from the LNS that follows, not from the caller's time
        raw = _branch_and_cut(problem, params, search, 0.5 * left, on_progress)
        message = raw.message
    # large models skip the branch and cut: its root alone would take most of the time for a
    # bound barely above the LP's, so the search keeps improving the plan instead
    _lns(problem, params, search, deadline=started + 0.95 * limit)
    return done("time_limit", message)


def _warm_up() -> None:
    """Worker start-up: the imports are done by unpickling this function."""


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
    if params.solver == "cbc":
        from planner._pulp import solve_cbc

        # start from the given plan, or the LP's beds rounded down: always feasible, so CBC
        # always returns a plan, as HiGHS does
        start = warm_start if warm_start is not None and len(warm_start) == model.num_cols \
            else _rounded_down_start(problem, params)
        left = params.time_limit_s - (time.perf_counter() - started)
        raw = solve_cbc(model, time_limit_s=max(left, 1.0), gap=params.gap,
                        threads=params.threads, log_to_console=params.log, start=start)
    else:
        raw = _solve_highs_plan(problem, params, warm_start, on_progress)
    runtime = time.perf_counter() - started
    if raw.status == "error" and not raw.has_solution:
        raise SolverError(f"{params.solver} failed on the plan model: {raw.message}")
    if not raw.has_solution:
        status = PlanStatus.NO_PLAN
    elif raw.status == "optimal" or (raw.gap is not None and raw.gap <= params.gap + 1e-9):
        status = PlanStatus.OPTIMAL
    else:
        status = PlanStatus.FEASIBLE
    values = raw.values if raw.values is not None else _empty_solution(problem)
    values = _clean(model, values)
    return _result(problem, values, status=status, objective=raw.objective,
                   best_bound=raw.best_bound, gap=raw.gap, runtime_s=runtime,
                   solver=params.solver, message=raw.message)


def _rounded_down_start(problem: PlanProblem, params: PlanParams) -> np.ndarray:
    """A first plan for CBC: the LP relaxation's beds rounded down (HiGHS, interior point),
    the rest of the solution re-solved for those beds; the empty plan if that fails.

    Fewer beds than a feasible LP point never break land, labour, rotation or the budget, and
    floors, shares and demand have slack columns, so the rounded plan is always feasible
    (minimum sizes: a count below its minimum becomes 0).
    """
    empty = _empty_solution(problem)
    search = _Search()
    search.offer(empty, float(problem.model.cost @ empty))
    _lp_bound(problem, params, search, budget_s=0.3 * params.time_limit_s)
    if search.lp_values is None:
        return empty
    model = problem.model
    beds = model.cols["beds"].slice()
    rounded = np.floor(search.lp_values[beds] + 1e-6)
    semi = model.col_kind[beds] == SEMI_INTEGER
    rounded[semi & (rounded < model.col_lower[beds])] = 0.0
    start = search.lp_values.copy()
    start[beds] = rounded
    _complete(problem, params, search, start, budget_s=0.1 * params.time_limit_s)
    log.info("CBC start: LP beds rounded down, %s", search.objective)
    return search.values


def _empty_solution(problem: PlanProblem) -> np.ndarray:
    """Nothing planted: every demand short, every floor missed (the always-feasible plan)."""
    m = problem.model
    x = np.zeros(m.num_cols)
    x[m.cols["short"].slice()] = problem.inputs.demand_kg.ravel()
    x[m.cols["floor_gap"].slice()] = problem.inputs.farms["min_revenue_eur"].to_numpy(float)
    return x


def _clean(model: ArrayModel, values: np.ndarray) -> np.ndarray:
    values = values.copy()
    ints = model.col_kind != CONTINUOUS
    values[ints] = np.round(values[ints])
    values[np.abs(values) < 1e-7] = 0.0
    return values


# --------------------------------------------------------------------------- reading back


def _result(problem: PlanProblem, x: np.ndarray, *, status: PlanStatus, objective, best_bound,
            gap, runtime_s: float, solver: str, message: str) -> PlanResult:
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
                      solver=solver, message=message, objective_terms=terms, values=x)


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
