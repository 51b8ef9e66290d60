"""The HiGHS search for a season plan: bounds (LP, Lagrangian, branch and cut) and plans
(RENS, large-neighbourhood search, searches around the Lagrangian's product plans).

Every step is limited through a :class:`planner.budget.SolveBudget`: by counts (the default
work rule: the same plan on any machine) or by shares of the time limit. A step that stops
early returns nothing rather than failing; the search always holds a plan (the empty one to
start with) and only valid bounds, the best of which is kept.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from planner._highs import RawSolution, solve_highs
from planner.budget import SolveBudget, StoppedBy
from planner.formulation import SEMI_INTEGER, ArrayModel, PlanProblem
from planner.lagrangian import BlockResult, Decomposition
from planner.params import PlanParams

log = logging.getLogger(__name__)

#: Below this many integer variables HiGHS goes straight to branch and cut.
SMALL_MODEL_INT_VARS = 1500
#: Above this many, the whole search goes to the LNS (no final branch and cut).
LARGE_MODEL_INT_VARS = 8000
#: Time rule: share of the time limit each product MILP gets in the Lagrangian's first pass
#: (0.02 and 0.08 gave 0.108-0.119 % and 0.111-0.113 % on the sample, 0.05 gave 0.106 %).
FIRST_PASS_LIMIT = 0.05
#: A restricted LP this much above the full LP means the counts do not fit together.
RESTRICTED_LP_SLACK = 0.003


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchOutcome:
    """What the search hands back: its best plan (column values), that plan's cost c·x, the
    best valid bound, what stopped it and a sentence for the report."""

    values: np.ndarray
    objective: float
    bound: float | None
    stopped_by: StoppedBy
    message: str


@dataclass(slots=True)
class Search:
    """Incumbent (its cost is always c·x of its values) and best valid bound."""

    cost: np.ndarray
    values: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    lp_values: np.ndarray | None = None
    lp_duals: np.ndarray | None = None
    on_progress: Callable[[dict], None] | None = None
    started: float = field(default_factory=time.perf_counter)

    def offer(self, values: np.ndarray | None) -> bool:
        """Keep ``values`` if they cost less than the incumbent; True when kept."""
        if values is None:
            return False
        objective = float(self.cost @ values)
        if self.objective is None or objective < self.objective - 1e-6:
            self.values, self.objective = values, objective
            self.report()
            return True
        return False

    def raise_bound(self, bound: float | None) -> None:
        """Keep the better of two valid bounds (``None``: no bound, nothing changes)."""
        if bound is not None and np.isfinite(bound) and (self.bound is None
                                                         or bound > self.bound):
            self.bound = float(bound)
            self.report()

    def report(self) -> None:
        if self.on_progress is not None:
            self.on_progress({"objective": self.objective, "best_bound": self.bound,
                              "gap": self.gap(),
                              "runtime_s": time.perf_counter() - self.started})

    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return max(self.objective - self.bound, 0.0) / max(abs(self.objective), 1e-9)


def relax(model: ArrayModel) -> ArrayModel:
    """The LP relaxation (semi-integer columns may go down to 0)."""
    return dataclasses.replace(model, col_kind=np.zeros_like(model.col_kind),
                               col_lower=np.where(model.col_kind == SEMI_INTEGER, 0.0,
                                                  model.col_lower))


def _solve(model: ArrayModel, params: PlanParams, budget: SolveBudget, *, seconds: float,
           count: str | None, gap: float, log_to_console: bool = False, threads=None,
           warm_start=None, on_progress=None, options: dict | None = None) -> RawSolution:
    """One HiGHS step under the budget (count of nodes, or seconds); notes a cap stop."""
    if count is None:
        time_limit_s, extra = (max(budget.left(), 0.1) if budget.deterministic
                               else max(seconds, 0.1)), {}
    else:
        time_limit_s, extra = budget.limits(seconds, count)
    raw = solve_highs(model, time_limit_s=time_limit_s, gap=gap,
                      threads=params.threads if threads is None else threads,
                      log_to_console=log_to_console, warm_start=warm_start,
                      on_progress=on_progress, options={**(options or {}), **extra} or None)
    budget.note(raw.status)
    return raw


def lp_bound(problem: PlanProblem, params: PlanParams, search: Search, budget: SolveBudget,
             seconds: float) -> None:
    """Solve the LP relaxation: a valid bound and the point the heuristics round."""
    # interior point (then crossover to a vertex) is 3-4× faster than simplex on these LPs
    lp = _solve(relax(problem.model), params, budget, seconds=seconds, count=None,
                gap=params.gap, log_to_console=params.log, options={"solver": "ipm"})
    if lp.status == "optimal" and lp.values is not None:
        search.lp_values = lp.values
        search.lp_duals = lp.row_duals
        search.raise_bound(float(problem.model.cost @ lp.values))
    log.info("LP relaxation: %s in %.1f s", lp.objective, lp.runtime_s)


def _with_bounds(model: ArrayModel, beds_lower: np.ndarray, beds_upper: np.ndarray) -> ArrayModel:
    beds = model.cols["beds"].slice()
    lower = model.col_lower.copy()
    upper = model.col_upper.copy()
    lower[beds] = beds_lower
    upper[beds] = beds_upper
    return dataclasses.replace(model, col_lower=lower, col_upper=upper)


def complete(problem: PlanProblem, params: PlanParams, search: Search, start: np.ndarray,
             budget: SolveBudget, seconds: float) -> None:
    """Offer an earlier plan's beds (e.g. the base plan in a what-if): the rest of the
    solution is re-solved for this model, and the plan dropped if it no longer fits."""
    model = problem.model
    cols = model.cols["beds"].slice()
    lower, upper = model.col_lower[cols], model.col_upper[cols]
    # frozen beds keep their count, the rest of the start within the model's bounds
    beds = np.where(lower == upper, lower, np.minimum(np.round(start[cols]), upper))
    sub = _solve(_with_bounds(model, beds, beds), params, budget, seconds=max(seconds, 1.0),
                 count="rens_nodes", gap=params.gap)
    accepted = search.offer(sub.values)
    log.info("warm start: %s (%s)", sub.objective, "kept" if accepted else "not better/feasible")


def _rens(problem: PlanProblem, params: PlanParams, search: Search, budget: SolveBudget,
          seconds: float) -> None:
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
    sub = _solve(_with_bounds(model, lower, upper), params, budget, seconds=seconds,
                 count="rens_nodes", gap=params.gap / 2, log_to_console=params.log)
    search.offer(sub.values)
    log.info("RENS: %s in %.1f s", sub.objective, sub.runtime_s)


def _product_cost(problem: PlanProblem, x: np.ndarray) -> np.ndarray:
    """Shortfall and waste penalties per product."""
    m = problem.model
    total = np.zeros(problem.inputs.demand_kg.shape[0])
    for name in ("short", "waste"):
        b = m.cols[name]
        total += (m.cost[b.slice()] * x[b.slice()]).reshape(b.shape).sum(axis=1)
    return total


def _lns(problem: PlanProblem, params: PlanParams, search: Search, budget: SolveBudget, *,
         rounds: str, share: float, max_stall: int | None = None) -> None:
    """Large-neighbourhood search: re-plan a few products (or farms) at a time, the rest fixed.

    Each round frees every planting option of a group of products, or of a group of farms,
    and solves that small MIP from the incumbent; improvements are kept. Groups are visited in
    a seeded order. Under the work rule it runs ``WORK_COUNTS[rounds]`` rounds; under the time
    rule, until ``share`` of the time limit.
    """
    model = problem.model
    opts = problem.inputs.options
    beds = model.cols["beds"].slice()
    min_beds = model.col_lower[beds]
    max_beds = model.col_upper[beds]
    rng = np.random.default_rng(params.seed)
    per_round = max(2.0, 0.04 * params.time_limit_s)
    size = max(150, int(0.03 * len(opts)))  # options freed per round: a few seconds. MIP
    o_p = opts["p"].to_numpy(int)
    o_f = opts["f"].to_numpy(int)
    # measured on the metro instance: product and regret rounds improve most often and
    # solve fastest; farm and RINS rounds now and then
    kinds = ("regret", "products", "regret", "products", "farms", "rins")
    keys = {"products": o_p, "farms": o_f}
    lp_beds = search.lp_values[beds] if search.lp_values is not None else None
    max_rounds = budget.rounds(rounds)
    deadline = budget.deadline(share)
    tried: dict[int, int] = {}
    done = stall = 0
    while search.values is not None:
        if max_rounds is not None and done >= max_rounds:
            break
        if time.perf_counter() >= deadline - (0.0 if budget.deterministic else 1.0):
            budget.capped = budget.capped or budget.deterministic
            break
        if search.gap() is not None and search.gap() <= params.gap:
            break
        if max_stall is not None and stall >= max_stall:
            break
        kind = kinds[done % len(kinds)]
        key = keys.get(kind)
        fixed = np.round(search.values[beds])  # exact integers: fixed bounds must be
        if kind == "regret":
            # the product whose shortfall and waste cost most above the LP's, with every
            # option of the farms able to grow it (so they can make room for it)
            if search.lp_values is None:
                done += 1
                continue
            regret = _product_cost(problem, search.values) - _product_cost(problem,
                                                                           search.lp_values)
            # least-tried first, then the largest regret
            times = np.array([tried.get(p, 0) for p in range(len(regret))])
            p = int(np.lexsort((-regret, times))[0])
            tried[p] = tried.get(p, 0) + 1
            free = o_p == p
            growers = np.unique(o_f[free])
            share_f = np.bincount(o_f[free], weights=lp_beds[free], minlength=o_f.max() + 1)
            for f in growers[np.argsort(-share_f[growers], kind="stable")]:
                if free.sum() >= size:
                    break
                free |= o_f == f
        elif kind == "rins":  # free where the plan and the LP disagree
            if lp_beds is None:
                done += 1
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
        lower = np.where(free, min_beds, fixed)  # a frozen bed's lower bound is its count
        upper = np.where(free, max_beds, fixed)
        seconds = max(min(per_round, deadline - time.perf_counter()), 0.5)
        sub = _solve(_with_bounds(model, lower, upper), params, budget, seconds=seconds,
                     count="lns_nodes", gap=params.gap / 4, warm_start=search.values)
        improved = search.offer(sub.values)
        stall = 0 if improved else stall + 1
        if free.all() and sub.status == "optimal":
            break  # the neighbourhood was the whole model
        log.debug("LNS round %d (%s): %s%s", done, kind, sub.objective,
                  " improved" if improved else "")
        done += 1
    log.info("LNS: %d rounds, incumbent %s, gap %s", done, search.objective, search.gap())


def _with_group_totals(model: ArrayModel, groups: list[np.ndarray], lower: np.ndarray,
                       upper: np.ndarray) -> ArrayModel:
    """The model plus rows ``lower[g] ≤ Σ beds of group g ≤ upper[g]``."""
    rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    cols = np.concatenate(groups)
    extra = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(groups), model.num_cols))
    return dataclasses.replace(model, matrix=sp.vstack([model.matrix, extra]).tocsr(),
                               row_lower=np.concatenate([model.row_lower, lower]),
                               row_upper=np.concatenate([model.row_upper, upper]))


@dataclass(frozen=True, slots=True, kw_only=True)
class BlocksTask:
    """Some product blocks of the Lagrangian to solve (in a worker, one thread): by node
    count (``nodes``) or by time (``block_limit_s`` each, ``time_limit_s`` in all)."""

    which: list[int]
    time_limit_s: float
    block_limit_s: float
    nodes: int | None
    starts: dict | None = None

    def run(self, dec: Decomposition, reduced: np.ndarray) -> dict[int, BlockResult]:
        return dec.solve_blocks(reduced, self.which, time_limit_s=self.time_limit_s,
                                block_limit_s=self.block_limit_s, threads=1, nodes=self.nodes,
                                starts=self.starts)


def _blocks_task(dec: Decomposition, reduced: np.ndarray, task: BlocksTask):
    return task.run(dec, reduced)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanFound:
    """A worker's plan search: its plan (``None``: none found) and whether the cap cut it."""

    values: np.ndarray | None
    capped: bool


def _restricted_task(problem: PlanProblem, restricted: PlanProblem, params: PlanParams,
                     budget: SolveBudget, lp_values: np.ndarray | None = None,
                     wider: PlanProblem | None = None,
                     lp_bound_eur: float | None = None) -> PlanFound:
    """Worker: LP, RENS and LNS on the restricted model until the LNS stalls, then LNS on the
    full model from that plan. When the restricted LP is more than ``RESTRICTED_LP_SLACK``
    above the full LP's ``lp_bound_eur`` (the counts do not fit the farms together), the
    ``wider`` restriction is searched instead."""
    limit = budget.limit_s
    search = Search(cost=problem.model.cost)
    lp_bound(restricted, params, search, budget, seconds=0.3 * limit)
    if wider is not None and lp_bound_eur is not None and (
            search.bound is None or search.bound > lp_bound_eur * (1 + RESTRICTED_LP_SLACK)):
        log.info("restricted LP %s against %s: the wider restriction instead", search.bound,
                 lp_bound_eur)
        restricted = wider
        search = Search(cost=problem.model.cost)
        lp_bound(restricted, params, search, budget, seconds=0.3 * limit)
    if search.lp_values is None:
        return PlanFound(values=None, capped=budget.capped)
    _rens(restricted, params, search, budget, seconds=0.15 * limit)
    _lns(restricted, params, search, budget, rounds="restricted_rounds", share=1.0,
         max_stall=12)
    search.lp_values = lp_values if lp_values is not None else search.lp_values
    search.bound = lp_bound_eur  # the restricted LP's bound is not the full model's
    _lns(problem, params, search, budget, rounds="full_rounds", share=1.0)
    return PlanFound(values=search.values, capped=budget.capped)


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


def _submit(pool, fn, *args):
    """Run ``fn(*args)`` in the pool (a future) or, without one, here (a finished value)."""
    if pool is None:
        return _Done(fn(*args))
    try:
        return _Retry(pool.submit(fn, *args), fn, args)
    except (BrokenProcessPool, RuntimeError):
        return _Done(fn(*args))


@dataclass(slots=True)
class _Done:
    value: object

    def result(self):
        return self.value


@dataclass(slots=True)
class _Retry:
    """A worker's future; if the worker died, the same task runs again in this process."""

    future: object
    fn: Callable
    args: tuple

    def result(self):
        try:
            return self.future.result()
        except BrokenProcessPool:
            log.warning("a planner worker process died: its task runs again in this one")
            return self.fn(*self.args)


def _merge(outcome: dict[int, BlockResult], per_block: dict[int, BlockResult]) -> None:
    """Fold a pass's block results into ``outcome``, block by block, in index order."""
    for i in sorted(per_block):
        outcome[i] = per_block[i].merged(outcome.get(i))


def _lagrangian_search(problem: PlanProblem, params: PlanParams, search: Search,
                       budget: SolveBudget, pool) -> bool:
    """Lagrangian bound from the LP duals, and a plan searched around its product plans.

    Each product's MILP under the LP's prices (``planner.lagrangian``) gives a bound above the
    LP's and, per crop and planting week, how many whole beds suit that product's weekly
    demand. A search (LP, RENS, LNS) then runs on the plan model with each crop and week's
    total beds held between those counts and two beds fewer, which leaves mostly the split
    over farms to decide. Schedule, with two workers: every product's MILP with a short limit
    (most solve in well under a second); then one worker goes on with the products left open
    (a better bound) while the other searches for the plan. Results are merged in a fixed
    order, never first-come. Returns False when it could not run (the caller falls back to
    RENS, branch and cut and LNS).
    """
    limit = params.time_limit_s
    dec = Decomposition(problem)
    reduced, fixed_value, x = dec.fixed_part(search.lp_duals)
    if not np.isfinite(fixed_value):
        return False
    workers = 1 if pool is None else pool._max_workers
    todo = list(range(len(dec.blocks)))
    nodes = budget.count("block_nodes") if budget.deterministic else None
    left = budget.left() if budget.deterministic else 0.4 * limit - budget.elapsed()
    outcome: dict[int, BlockResult] = {}
    tasks = [BlocksTask(which=todo[k::workers], time_limit_s=left,
                        block_limit_s=FIRST_PASS_LIMIT * limit, nodes=nodes)
             for k in range(workers)]
    for pending in [_submit(pool, _blocks_task, dec, reduced, t) for t in tasks]:
        _merge(outcome, pending.result())
    if any(r.capped for r in outcome.values()):
        budget.note("time_limit")
    if len(outcome) < len(todo) or any(r.bound is None for r in outcome.values()):
        log.info("Lagrangian bound: a product's MILP has no bound")
        return False
    for r in outcome.values():
        for cols, values in r.found:
            x[cols] = values
    log.debug("Lagrangian first pass done at %.1f s", budget.elapsed())
    search.raise_bound(fixed_value + sum(r.bound for r in outcome.values()))

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
    lp_bound_eur = float(problem.model.cost @ search.lp_values)
    if budget.deterministic:
        worker_budget = budget.for_worker()
        more_task = BlocksTask(which=[i for i in todo if not outcome[i].optimal],
                               time_limit_s=worker_budget.limit_s, block_limit_s=np.inf,
                               nodes=budget.count("block_nodes_more"),
                               starts={i: outcome[i].values for i in todo})
    else:
        worker_budget = dataclasses.replace(budget.for_worker(),
                                            limit_s=0.93 * limit - budget.elapsed())
        more_task = BlocksTask(which=[i for i in todo if not outcome[i].optimal],
                               time_limit_s=worker_budget.limit_s, block_limit_s=np.inf,
                               nodes=None, starts={i: outcome[i].values for i in todo})
    worker_params = params if pool is None else dataclasses.replace(params, threads=1)
    plan = _submit(pool, _restricted_task, problem, restricted, worker_params, worker_budget,
                   search.lp_values, wider, lp_bound_eur)
    # one process under the time rule: the plan search takes all the time, no second pass
    second = more_task.which and (pool is not None or budget.deterministic)
    more = _submit(pool, _blocks_task, dec, reduced, more_task) if second else None
    found = plan.result()
    if found.capped:
        budget.note("time_limit")
    search.offer(found.values)
    log.info("plan around the Lagrangian's: %s", search.objective)
    if more is not None:
        _merge(outcome, more.result())
        if any(r.capped for r in outcome.values()):
            budget.note("time_limit")
    bounds = [r.bound for r in outcome.values()]
    if all(b is not None for b in bounds):
        bound = fixed_value + sum(bounds)
        log.info("Lagrangian bound %.1f (before %.1f), %d product MILPs left open", bound,
                 search.bound, sum(not r.optimal for r in outcome.values()))
        search.raise_bound(bound)
    return True


def _lagrangian_bound_only(problem: PlanProblem, params: PlanParams, search: Search,
                           budget: SolveBudget) -> None:
    """Raise the search's bound to the Lagrangian bound from the LP duals, in this process
    (small models: their product MILPs take milliseconds)."""
    left = budget.left()
    if left < 0.2 or (search.gap() is not None and search.gap() <= params.gap):
        return
    lp = _solve(relax(problem.model), params, budget, seconds=0.5 * left, count=None,
                gap=params.gap)
    if lp.row_duals is None:
        return
    dec = Decomposition(problem)
    left = budget.left()
    value, _, _ = dec.evaluate(
        lp.row_duals, deadline=time.perf_counter() + left, threads=params.threads,
        block_limit_s=max(2 * left / max(len(dec.blocks), 1), 0.1),
        nodes=budget.count("block_nodes_more") if budget.deterministic else None)
    if value is not None and np.isfinite(value):
        log.info("Lagrangian bound %.1f (branch and cut's %s)", value, search.bound)
        search.raise_bound(value)


def _branch_and_cut(problem: PlanProblem, params: PlanParams, search: Search,
                    budget: SolveBudget, *, seconds: float, count: str,
                    on_progress) -> RawSolution:
    """HiGHS's branch and cut from the incumbent; its bound and plan join the search's."""
    # the root LP by interior point too: simplex takes minutes on the metro instance
    raw = _solve(problem.model, params, budget, seconds=max(seconds, 1.0), count=count,
                 gap=params.gap, log_to_console=params.log, warm_start=search.values,
                 on_progress=on_progress, options={"mip_lp_solver": "ipm"})
    search.offer(raw.values)
    search.raise_bound(raw.best_bound)
    return raw


def search_plan(problem: PlanProblem, params: PlanParams, budget: SolveBudget, *,
                start: np.ndarray, warm_start: np.ndarray | None = None,
                on_progress=None) -> SearchOutcome:
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
        gap = search.gap()
        if gap is not None and gap <= params.gap + 1e-12:
            stopped = StoppedBy.GAP
        elif budget.capped:
            stopped = StoppedBy.TIME_CAP
        else:
            stopped = StoppedBy.WORK_BUDGET if budget.deterministic else StoppedBy.TIME_LIMIT
        return SearchOutcome(values=search.values, objective=search.objective,
                             bound=search.bound, stopped_by=stopped, message=message)

    if model.num_int <= SMALL_MODEL_INT_VARS:
        # small models: branch and cut alone is quicker than the heuristics' set-up; if it
        # stops early, the Lagrangian bound (usually well above its own) closes the gap
        raw = _branch_and_cut(problem, params, search, budget, seconds=0.6 * limit,
                              count="small_nodes", on_progress=on_progress)
        if raw.status != "optimal":
            _lagrangian_bound_only(problem, params, search, budget)
        return done(f"branch and cut: {raw.message}")

    medium = model.num_int <= LARGE_MODEL_INT_VARS
    pool = _pool(min(2, params.threads)) if medium else None
    try:
        if pool is not None:  # the workers start (import) while the LP solves
            for _ in range(pool._max_workers):
                pool.submit(_warm_up)
        lp_bound(problem, params, search, budget, seconds=0.3 * limit)
        if medium and search.lp_duals is not None and \
                _lagrangian_search(problem, params, search, budget, pool):
            _lns(problem, params, search, budget, rounds="final_rounds", share=0.95)
            return done("LP and Lagrangian bounds, searches around the Lagrangian plans, LNS")
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    if search.lp_values is not None:
        rens_s = max(0.15 * limit, 0.4 * limit - budget.elapsed())
        if not medium:
            rens_s = 0.1 * limit  # large: its box is solved to optimality, barely better
        _rens(problem, params, search, budget, seconds=rens_s)
    message = "LP bound, RENS and LNS"
    left = limit - budget.elapsed()
    if medium and (budget.deterministic or left > 0.2 * limit) and (
            search.gap() is None or search.gap() > params.gap):
        # HiGHS's root cut rounds can run 15 s past its limit: whatever they overrun is
        # taken from the LNS that follows, not from the caller's time
        _branch_and_cut(problem, params, search, budget, seconds=0.5 * left,
                        count="medium_nodes", on_progress=on_progress)
        message = "LP bound, RENS, branch and cut, LNS"
    # large models skip the branch and cut: its root alone would take most of the time for a
    # bound barely above the LP's, so the search keeps improving the plan instead
    _lns(problem, params, search, budget, rounds="final_rounds" if medium else "large_rounds",
         share=0.95)
    return done(message)


def _warm_up() -> None:
    """Worker start-up: the imports are done by unpickling this function."""
