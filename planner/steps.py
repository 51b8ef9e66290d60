"""The search's steps on the plan model, each limited by a :class:`planner.budget.SolveBudget`:
the incumbent and bound it keeps (:class:`Search`), the LP bound, a start completed for this
model, RENS and the large-neighbourhood search. A step that stops early returns nothing rather
than failing.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.errors import SolverError
from planner._highs import RawSolution, solve_highs
from planner.arrays import SEMI_INTEGER, ArrayModel
from planner.budget import SolveBudget, StoppedBy
from planner.formulation import PlanProblem
from planner.params import PlanParams

#: a step does not start with less time left than it takes HiGHS to load and presolve its
#: model: this much, plus this much per nonzero (measured on a busy 2-core machine: the
#: sample's 86 k nonzeros took 0.4–0.7 s at load 10)
STEP_MIN_S = 0.2
STEP_S_PER_NONZERO = 5e-6

log = logging.getLogger(__name__)


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
        if bound is not None and np.isfinite(bound) and (self.bound is None or bound > self.bound):
            self.bound = float(bound)
            self.report()

    def report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                {
                    "objective": self.objective,
                    "best_bound": self.bound,
                    "gap": self.gap(),
                    "runtime_s": time.perf_counter() - self.started,
                }
            )

    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return max(self.objective - self.bound, 0.0) / max(abs(self.objective), 1e-9)

    def within(self, gap: float) -> bool:
        """True when the incumbent is proved within ``gap`` of the optimum."""
        found = self.gap()
        return found is not None and found <= gap

    def incumbent(self) -> tuple[np.ndarray, float]:
        """The best plan's values and cost (a search always starts from a plan)."""
        if self.values is None or self.objective is None:
            raise SolverError("the plan search has no plan: it must start from one")
        return self.values, self.objective

    def duals(self) -> np.ndarray:
        """The LP relaxation's row duals (the Lagrangian's first multipliers)."""
        if self.lp_duals is None:
            raise SolverError("the LP relaxation was not solved before a step that needs it")
        return self.lp_duals

    def lp(self) -> np.ndarray:
        """The LP relaxation's column values (the search solves it first)."""
        if self.lp_values is None:
            raise SolverError("the LP relaxation was not solved before a step that needs it")
        return self.lp_values


def relax(model: ArrayModel) -> ArrayModel:
    """The LP relaxation (semi-integer columns may go down to 0)."""
    return dataclasses.replace(
        model,
        col_kind=np.zeros_like(model.col_kind),
        col_lower=np.where(model.col_kind == SEMI_INTEGER, 0.0, model.col_lower),
    )


def solve_step(
    model: ArrayModel,
    params: PlanParams,
    budget: SolveBudget,
    *,
    seconds: float,
    count: str | None,
    gap: float,
    log_to_console: bool = False,
    threads: int | None = None,
    warm_start: np.ndarray | None = None,
    on_progress: Callable[[dict], None] | None = None,
    options: dict | None = None,
) -> RawSolution:
    """One HiGHS step under the budget (count of nodes, or seconds); notes a cap stop. Past
    the time limit no step starts (loading a model into HiGHS alone takes a few tenths of a
    second on a busy machine): the solve returns what it has, within its limit."""
    if budget.left() <= STEP_MIN_S + STEP_S_PER_NONZERO * model.matrix.nnz:
        budget.note("time_limit")
        return RawSolution.nothing("time_limit", "not started: the time limit is reached")
    extra: dict = {}
    if count is None:
        time_limit_s = max(budget.left(), 0.1) if budget.deterministic else max(seconds, 0.1)
    else:
        time_limit_s, extra = budget.limits(seconds, count)
    raw = solve_highs(
        model,
        time_limit_s=time_limit_s,
        gap=gap,
        threads=params.threads if threads is None else threads,
        log_to_console=log_to_console,
        warm_start=warm_start,
        on_progress=on_progress,
        options={**(options or {}), **extra} or None,
    )
    budget.note(raw.status)
    return raw


def lp_bound(
    problem: PlanProblem, params: PlanParams, search: Search, budget: SolveBudget, seconds: float
) -> None:
    """Solve the LP relaxation: a valid bound and the point the heuristics round."""
    # interior point (then crossover to a vertex) is 3-4× faster than simplex on these LPs
    lp = solve_step(
        relax(problem.model),
        params,
        budget,
        seconds=seconds,
        count=None,
        gap=params.gap,
        log_to_console=params.log,
        options={"solver": "ipm"},
    )
    if lp.status == "optimal" and lp.values is not None:
        search.lp_values = lp.values
        search.lp_duals = lp.row_duals
        search.raise_bound(float(problem.model.cost @ lp.values))
    log.info("LP relaxation: %s in %.1f s", lp.objective, lp.runtime_s)


def with_bounds(model: ArrayModel, beds_lower: np.ndarray, beds_upper: np.ndarray) -> ArrayModel:
    beds = model.cols["beds"].slice()
    lower = model.col_lower.copy()
    upper = model.col_upper.copy()
    lower[beds] = beds_lower
    upper[beds] = beds_upper
    return dataclasses.replace(model, col_lower=lower, col_upper=upper)


def complete(
    problem: PlanProblem,
    params: PlanParams,
    search: Search,
    start: np.ndarray,
    budget: SolveBudget,
    seconds: float,
) -> None:
    """Offer an earlier plan's beds (e.g. the base plan in a what-if): the rest of the
    solution is re-solved for this model, and the plan dropped if it no longer fits."""
    model = problem.model
    cols = model.cols["beds"].slice()
    lower, upper = model.col_lower[cols], model.col_upper[cols]
    # frozen beds keep their count, the rest of the start within the model's bounds
    beds = np.where(lower == upper, lower, np.minimum(np.round(start[cols]), upper))
    sub = solve_step(
        with_bounds(model, beds, beds),
        params,
        budget,
        seconds=max(seconds, 1.0),
        count="rens_nodes",
        gap=params.gap,
    )
    accepted = search.offer(sub.values)
    log.info("warm start: %s (%s)", sub.objective, "kept" if accepted else "not better/feasible")


def rens(
    problem: PlanProblem, params: PlanParams, search: Search, budget: SolveBudget, seconds: float
) -> None:
    """Round the LP's beds in the best way within [floor, ceil] (a small MIP)."""
    model = problem.model
    beds = model.cols["beds"].slice()
    x = search.lp()[beds]
    lo = np.floor(x + 1e-6)
    hi = np.ceil(x - 1e-6)
    semi = model.col_kind[beds] == SEMI_INTEGER
    min_beds = model.col_lower[beds]
    upper = np.where(semi & (hi < min_beds), np.where(x < 0.5 * min_beds, 0.0, min_beds), hi)

    def solve_box(upper: np.ndarray) -> RawSolution:
        lower = np.minimum(np.where(semi, min_beds, lo), np.maximum(upper, 0.0))
        return solve_step(
            with_bounds(model, lower, upper),
            params,
            budget,
            seconds=seconds,
            count="rens_nodes",
            gap=params.gap / 2,
            log_to_console=params.log,
        )

    sub = solve_box(upper)
    log.info("RENS: %s in %.1f s", sub.objective, sub.runtime_s)
    if sub.values is None and (semi & (x > 1e-6) & (upper < min_beds)).any():
        # small LP values of "0 or at least min_beds" options were rounded to 0, which a row
        # (a crop's bed total, a farm's floor) may not allow: let each of them reach min_beds
        sub = solve_box(np.where(semi & (x > 1e-6), np.maximum(upper, min_beds), upper))
        log.info("RENS, small semi-integer values free up to their minimum: %s", sub.objective)
    search.offer(sub.values)


def product_cost(problem: PlanProblem, x: np.ndarray) -> np.ndarray:
    """Shortfall and waste penalties per product."""
    m = problem.model
    total = np.zeros(problem.inputs.demand_kg.shape[0])
    for name in ("short", "waste"):
        b = m.cols[name]
        total += (m.cost[b.slice()] * x[b.slice()]).reshape(b.shape).sum(axis=1)
    return total


def lns(
    problem: PlanProblem,
    params: PlanParams,
    search: Search,
    budget: SolveBudget,
    *,
    rounds: str,
    share: float,
    max_stall: int | None = None,
) -> None:
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
        if search.within(params.gap):
            break
        if max_stall is not None and stall >= max_stall:
            break
        kind = kinds[done % len(kinds)]
        fixed = np.round(search.values[beds])  # exact integers: fixed bounds must be
        if kind == "regret":
            # the product whose shortfall and waste cost most above the LP's, with every
            # option of the farms able to grow it (so they can make room for it)
            if search.lp_values is None or lp_beds is None:
                done += 1
                continue
            regret = product_cost(problem, search.values) - product_cost(problem, search.lp_values)
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
            key = keys[kind]
            groups = rng.permutation(np.unique(key))
            free = np.zeros(len(opts), dtype=bool)
            for g in groups:
                free |= key == g
                if free.sum() >= size:
                    break
        lower = np.where(free, min_beds, fixed)  # a frozen bed's lower bound is its count
        upper = np.where(free, max_beds, fixed)
        seconds = max(min(per_round, deadline - time.perf_counter()), 0.5)
        sub = solve_step(
            with_bounds(model, lower, upper),
            params,
            budget,
            seconds=seconds,
            count="lns_nodes",
            gap=params.gap / 4,
            warm_start=search.values,
        )
        improved = search.offer(sub.values)
        stall = 0 if improved else stall + 1
        if free.all() and sub.status == "optimal":
            break  # the neighbourhood was the whole model
        log.debug(
            "LNS round %d (%s): %s%s", done, kind, sub.objective, " improved" if improved else ""
        )
        done += 1
    log.info("LNS: %d rounds, incumbent %s, gap %s", done, search.objective, search.gap())
