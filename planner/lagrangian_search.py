"""The Lagrangian search (medium models): product MILPs in worker processes, a plan searched
around their bed counts, a second pass that raises the bound; merged in a fixed order.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.arrays import ArrayModel
from planner.budget import SolveBudget
from planner.formulation import PlanProblem
from planner.lagrangian import BlockResult, Decomposition, total_bound
from planner.params import PlanParams
from planner.steps import Search, lns, lp_bound, relax, rens, solve_step

log = logging.getLogger(__name__)

#: Time rule: share of the time limit each product MILP gets in the Lagrangian's first pass
#: (0.02 and 0.08 gave 0.108-0.119 % and 0.111-0.113 % on the sample, 0.05 gave 0.106 %).
FIRST_PASS_LIMIT = 0.05
#: A restricted LP this much above the full LP means the counts do not fit together.
RESTRICTED_LP_SLACK = 0.003
#: seconds before its time limit the solve stops waiting for a late worker (what is left is
#: for reading the plan back: it returns within its limit, not after)
READBACK_RESERVE_S = 0.5


def _with_group_totals(
    model: ArrayModel, groups: list[np.ndarray], lower: np.ndarray, upper: np.ndarray
) -> ArrayModel:
    """The model plus rows ``lower[g] ≤ Σ beds of group g ≤ upper[g]``."""
    rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    cols = np.concatenate(groups)
    extra = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(groups), model.num_cols))
    return dataclasses.replace(
        model,
        matrix=sp.vstack([model.matrix, extra]).tocsr(),
        row_lower=np.concatenate([model.row_lower, lower]),
        row_upper=np.concatenate([model.row_upper, upper]),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlocksTask:
    """Some product blocks of the Lagrangian to solve (in a worker, one thread): by node
    count (``nodes``) or by time (``block_limit_s`` each, ``time_limit_s`` in all)."""

    which: list[int]
    time_limit_s: float
    block_limit_s: float
    nodes: int | None
    starts: dict | None = None
    #: the caller's clock when it made the task: a worker started late (spawned on a busy
    #: machine) has that much less time (perf_counter is the system's monotonic clock)
    made_at: float = dataclasses.field(default_factory=time.perf_counter)

    def run(self, dec: Decomposition, reduced: np.ndarray) -> dict[int, BlockResult]:
        waited = max(0.0, time.perf_counter() - self.made_at)
        return dec.solve_blocks(
            reduced,
            self.which,
            time_limit_s=max(self.time_limit_s - waited, 0.1),
            block_limit_s=self.block_limit_s,
            threads=1,
            nodes=self.nodes,
            starts=self.starts,
        )


def _blocks_task(
    dec: Decomposition, reduced: np.ndarray, task: BlocksTask
) -> dict[int, BlockResult]:
    return task.run(dec, reduced)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanFound:
    """A worker's plan search: its plan (``None``: none found) and whether the cap cut it."""

    values: np.ndarray | None
    capped: bool


def _restricted_task(
    problem: PlanProblem,
    restricted: PlanProblem,
    params: PlanParams,
    budget: SolveBudget,
    lp_values: np.ndarray | None = None,
    wider: PlanProblem | None = None,
    lp_bound_eur: float | None = None,
    start: np.ndarray | None = None,
) -> PlanFound:
    """Worker: LP, RENS and LNS on the restricted model until the LNS stalls, then LNS on the
    full model from that plan. When the restricted LP is more than ``RESTRICTED_LP_SLACK``
    above the full LP's ``lp_bound_eur`` (the counts do not fit the farms together), the
    ``wider`` restriction is searched instead. ``start``: the caller's incumbent (a what-if's
    base plan completed); the full-model LNS starts from it when it is the better plan."""
    limit = budget.limit_s
    search = Search(cost=problem.model.cost)
    lp_bound(restricted, params, search, budget, seconds=0.3 * limit)
    if (
        wider is not None
        and lp_bound_eur is not None
        and (search.bound is None or search.bound > lp_bound_eur * (1 + RESTRICTED_LP_SLACK))
    ):
        log.info(
            "restricted LP %s against %s: the wider restriction instead", search.bound, lp_bound_eur
        )
        restricted = wider
        search = Search(cost=problem.model.cost)
        lp_bound(restricted, params, search, budget, seconds=0.3 * limit)
    if search.lp_values is not None:
        rens(restricted, params, search, budget, seconds=0.15 * limit)
        lns(restricted, params, search, budget, rounds="restricted_rounds", share=1.0, max_stall=12)
    search.offer(start)
    if search.values is None:
        return PlanFound(values=None, capped=budget.capped)
    search.lp_values = lp_values if lp_values is not None else search.lp_values
    search.bound = lp_bound_eur  # the restricted LP's bound is not the full model's
    lns(problem, params, search, budget, rounds="full_rounds", share=1.0)
    return PlanFound(values=search.values, capped=budget.capped)


class WorkerPool(ProcessPoolExecutor):
    """A pool of spawned processes that says how many it has (``size``)."""

    def __init__(self, size: int) -> None:
        super().__init__(max_workers=size, mp_context=multiprocessing.get_context("spawn"))
        self.size = size


def worker_pool(workers: int) -> WorkerPool | None:
    """A pool of ``workers`` spawned processes, or None where none can be started (e.g.
    inside a daemonic job process, or with a single thread)."""
    if workers < 2 or multiprocessing.current_process().daemon:
        return None
    try:
        return WorkerPool(workers)
    except (OSError, ValueError, AssertionError) as exc:  # pragma: no cover - platform limits
        log.info("no worker processes (%s): the Lagrangian search runs in this one", exc)
        return None


def _submit(pool: WorkerPool | None, fn: Callable, *args: Any) -> _Done | _Retry:
    """Run ``fn(*args)`` in the pool (a future) or, without one, here (a finished value)."""
    if pool is None:
        return _Done(fn(*args))
    try:
        return _Retry(pool.submit(fn, *args), fn, args)
    except (BrokenProcessPool, RuntimeError):
        return _Done(fn(*args))


@dataclass(slots=True)
class _Done:
    value: Any

    def result(self, budget: SolveBudget | None = None) -> Any:
        return self.value


@dataclass(slots=True)
class _Retry:
    """A worker's future; if the worker died, the same task runs again in this process."""

    future: Future
    fn: Callable
    args: tuple

    def result(self, budget: SolveBudget | None = None) -> Any:
        """The task's result; ``None`` when ``budget``'s time limit (less
        ``READBACK_RESERVE_S``) passes first: the solve returns what it has rather than wait
        for a late worker."""
        timeout = None if budget is None else max(budget.left() - READBACK_RESERVE_S, 0.0)
        try:
            return self.future.result(timeout=timeout)
        except FutureTimeout:
            log.warning("a planner worker is late: the solve goes on without its result")
            self.future.cancel()
            if budget is not None:
                budget.capped = True
            return None
        except BrokenProcessPool:
            log.warning("a planner worker process died: its task runs again in this one")
            return self.fn(*self.args)


def _merge(outcome: dict[int, BlockResult], per_block: dict[int, BlockResult]) -> None:
    """Fold a pass's block results into ``outcome``, block by block, in index order."""
    for i in sorted(per_block):
        outcome[i] = per_block[i].merged(outcome.get(i))


def lagrangian_search(
    problem: PlanProblem,
    params: PlanParams,
    search: Search,
    budget: SolveBudget,
    pool: WorkerPool | None,
) -> bool:
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
    reduced, fixed_value, x = dec.fixed_part(search.duals())
    if not np.isfinite(fixed_value):
        return False
    workers = 1 if pool is None else pool.size
    todo = list(range(len(dec.blocks)))
    nodes = budget.count("block_nodes") if budget.deterministic else None
    left = budget.left() if budget.deterministic else 0.4 * limit - budget.elapsed()
    outcome: dict[int, BlockResult] = {}
    tasks = [
        BlocksTask(
            which=todo[k::workers],
            time_limit_s=left,
            block_limit_s=FIRST_PASS_LIMIT * limit,
            nodes=nodes,
        )
        for k in range(workers)
    ]
    for pending in [_submit(pool, _blocks_task, dec, reduced, t) for t in tasks]:
        _merge(outcome, pending.result(budget) or {})
    if any(r.capped for r in outcome.values()):
        budget.note("time_limit")
    first = total_bound(outcome.values())
    if len(outcome) < len(todo) or first is None:
        log.info("Lagrangian bound: a product's MILP has no bound")
        return False
    for r in outcome.values():
        for cols, values in r.found:
            x[cols] = values
    log.debug("Lagrangian first pass done at %.1f s", budget.elapsed())
    search.raise_bound(fixed_value + first)

    beds = problem.model.cols["beds"]
    bed_values = np.round(x[beds.slice()])
    groups = [g for b in dec.blocks for g in b.groups]
    counts = np.array([bed_values[g - beds.start].sum() for g in groups])
    restricted = dataclasses.replace(
        problem,
        model=_with_group_totals(problem.model, groups, np.maximum(counts - 2, 0.0), counts),
    )
    # where the product plans, priced alone, do not fit the farms together (a scenario with
    # a farm less, say), a wider box that also holds the LP's beds (which fit)
    lp_beds = search.lp()[beds.slice()]
    lp_counts = np.array([lp_beds[g - beds.start].sum() for g in groups])
    wider = dataclasses.replace(
        problem,
        model=_with_group_totals(
            problem.model,
            groups,
            np.minimum(np.maximum(counts - 2, 0.0), np.floor(lp_counts + 1e-6)),
            np.maximum(counts, np.ceil(lp_counts - 1e-6)),
        ),
    )
    lp_bound_eur = float(problem.model.cost @ search.lp_values)
    if budget.deterministic:
        worker_budget = budget.for_worker()
        more_task = BlocksTask(
            which=[i for i in todo if not outcome[i].optimal],
            time_limit_s=worker_budget.limit_s,
            block_limit_s=np.inf,
            nodes=budget.count("block_nodes_more"),
            starts={i: outcome[i].values for i in todo},
        )
    else:
        worker_budget = dataclasses.replace(
            budget.for_worker(), limit_s=0.93 * limit - budget.elapsed()
        )
        more_task = BlocksTask(
            which=[i for i in todo if not outcome[i].optimal],
            time_limit_s=worker_budget.limit_s,
            block_limit_s=np.inf,
            nodes=None,
            starts={i: outcome[i].values for i in todo},
        )
    worker_params = params if pool is None else dataclasses.replace(params, threads=1)
    plan = _submit(
        pool,
        _restricted_task,
        problem,
        restricted,
        worker_params,
        worker_budget,
        search.lp_values,
        wider,
        lp_bound_eur,
        search.values,
    )
    # one process under the time rule: the plan search takes all the time, no second pass
    second = more_task.which and (pool is not None or budget.deterministic)
    more = _submit(pool, _blocks_task, dec, reduced, more_task) if second else None
    found = plan.result(budget)
    if found is not None:
        if found.capped:
            budget.note("time_limit")
        search.offer(found.values)
    log.info("plan around the Lagrangian's: %s", search.objective)
    if more is not None:
        _merge(outcome, more.result(budget) or {})
        if any(r.capped for r in outcome.values()):
            budget.note("time_limit")
    total = total_bound(outcome.values())
    if total is not None:
        bound = fixed_value + total
        log.info(
            "Lagrangian bound %.1f (before %.1f), %d product MILPs left open",
            bound,
            search.bound,
            sum(not r.optimal for r in outcome.values()),
        )
        search.raise_bound(bound)
    return True


def lagrangian_bound_only(
    problem: PlanProblem, params: PlanParams, search: Search, budget: SolveBudget
) -> None:
    """Raise the search's bound to the Lagrangian bound from the LP duals, in this process
    (small models: their product MILPs take milliseconds)."""
    left = budget.left()
    if left < 0.2 or search.within(params.gap):
        return
    lp = solve_step(
        relax(problem.model), params, budget, seconds=0.5 * left, count=None, gap=params.gap
    )
    if lp.row_duals is None:
        return
    dec = Decomposition(problem)
    left = budget.left()
    value, _, _ = dec.evaluate(
        lp.row_duals,
        deadline=time.perf_counter() + left,
        threads=params.threads,
        block_limit_s=max(2 * left / max(len(dec.blocks), 1), 0.1),
        nodes=budget.count("block_nodes_more") if budget.deterministic else None,
    )
    if value is not None and np.isfinite(value):
        log.info("Lagrangian bound %.1f (branch and cut's %s)", value, search.bound)
        search.raise_bound(value)


def warm_up() -> None:
    """Worker start-up: the imports are done by unpickling this function."""
