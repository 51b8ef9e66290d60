"""Plans that hold still: the reported cost is the plan's, a step that stops early never
crashes the solve, and the work rule gives the same plan twice (issue 19)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from test_planner_model import _random_case, solve

import planner
from planner import PlanParams, PlanStatus
from planner._highs import RawSolution, solve_highs
from planner.budget import StoppedBy
from planner.outputs import plan_hash
from planner.solve import row_violation


def _sample_case(kg: float = 250.0, weeks: int = 52):
    from core.territory import SAMPLE_DIR, load_territory

    terr = load_territory(SAMPLE_DIR, activity=False)
    starts = pd.date_range("2026-01-05", periods=weeks, freq="7D")
    products = sorted(set(terr.crops["product_id"]))
    hub = pd.DataFrame(
        [{"week_start": s, "product_id": p, "kg": kg} for s in starts for p in products]
    )
    return terr, hub


def test_reported_cost_is_the_plan_cost_not_the_solvers_figure():
    terr, hub = _random_case(1, weeks=16)
    problem, result = solve(terr, hub, work=0.05)
    assert result.objective == float(problem.model.cost @ result.values)
    assert result.max_row_violation <= 1e-6
    assert row_violation(problem.model, result.values) == result.max_row_violation
    # HiGHS's own objective for its own plan is a different figure (offsets, tolerances):
    # whatever it says, the result reports c·x of the plan it returns
    raw = solve_highs(
        problem.model,
        time_limit_s=300,
        gap=1e-4,
        threads=1,
        log_to_console=False,
        options={"mip_max_nodes": 500},
    )
    assert raw.values is not None
    recomputed = float(problem.model.cost @ np.round(raw.values, 9))
    assert recomputed == pytest.approx(raw.objective, rel=1e-5)
    if result.gap is not None:
        assert result.gap == pytest.approx(
            max(result.objective - result.best_bound, 0) / result.objective, abs=1e-12
        )


class _StopsEarly:
    """solve_highs that answers 'time limit, no plan, no bound' on the calls listed."""

    def __init__(self, failing: set[int]):
        self.failing = failing
        self.calls = 0

    def __call__(self, model, **kw):
        self.calls += 1
        if self.calls in self.failing:
            return RawSolution.nothing("time_limit", "forced stop")
        return solve_highs(model, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("failing", [{1}, {3}, {2, 3, 4, 5, 6, 7, 8}, set(range(1, 10_000))])
def test_a_step_that_stops_early_never_crashes_the_solve(monkeypatch, failing):
    # every HiGHS step of the medium-model search in turn (LP, product MILPs, restricted LP,
    # RENS, LNS rounds...) answers "time limit, nothing found": the solve still returns a
    # plan with a valid bound, and says the safety cap stopped it
    import planner.lagrangian
    import planner.search
    import planner.steps

    fake = _StopsEarly(failing)
    monkeypatch.setattr(planner.steps, "solve_highs", fake)
    monkeypatch.setattr(planner.lagrangian, "solve_highs", fake)
    terr, hub = _sample_case(weeks=30)
    problem, result = solve(terr, hub, work=0.02, threads=1)  # one process: fake reaches all
    assert problem.model.num_int > planner.search.SMALL_MODEL_INT_VARS
    assert fake.calls >= min(failing)
    assert result.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)
    assert result.objective == float(problem.model.cost @ result.values)
    assert result.best_bound is None or result.best_bound <= result.objective + 1e-6
    if result.stopped_by is StoppedBy.GAP:  # the steps that did run proved the plan
        assert result.gap <= 0.001 + 1e-12
    else:
        assert result.stopped_by is StoppedBy.TIME_CAP
    if failing == set(range(1, 10_000)):  # nothing ever solved: the empty plan, honestly
        assert result.plan.empty and result.best_bound is None


def test_a_product_block_without_bound_keeps_the_earlier_pass_bound():
    from planner.lagrangian import BlockResult

    first = BlockResult(bound=10.0, found=[], optimal=False, values=np.ones(2))
    second = BlockResult(bound=None, found=[], optimal=False, values=None, capped=True)
    merged = second.merged(first)
    assert merged.bound == 10.0 and merged.values is not None and merged.capped
    assert BlockResult(bound=12.0, found=[], optimal=True, values=None).merged(first).bound == 12.0


@pytest.mark.slow
def test_work_rule_gives_the_same_small_plan_twice():
    terr, hub = _random_case(2, weeks=16)
    runs = [solve(terr, hub, work=0.05)[1] for _ in range(2)]
    assert runs[0].stopped_by in (StoppedBy.GAP, StoppedBy.WORK_BUDGET)
    assert plan_hash(runs[0]) == plan_hash(runs[1])
    assert runs[0].objective == runs[1].objective


@pytest.mark.slow
def test_work_rule_gives_the_same_medium_plan_with_or_without_workers():
    # the Lagrangian search in two worker processes or in this one (as in the API's
    # daemonic job worker): the same plan, bed for bed
    terr, hub = _sample_case()
    params = PlanParams(work=0.1, threads=2)
    problem = planner.build_plan_problem(terr, hub, params=params)
    parallel = planner.solve_plan(problem, params)
    alone = planner.solve_plan(problem, dataclasses.replace(params, threads=1))
    assert parallel.stopped_by in (StoppedBy.WORK_BUDGET, StoppedBy.GAP)
    assert plan_hash(parallel) == plan_hash(alone)


def test_time_rule_is_still_available():
    # the time rule on a small model: the plan is proved within the gap long before the cap
    # (no test stops on the clock), and is the work rule's plan
    terr, hub = _random_case(3, weeks=12)
    _, timed = solve(terr, hub, stop="time", time_limit_s=600)
    _, counted = solve(terr, hub, work=1.0)
    assert timed.stopped_by is StoppedBy.GAP
    assert timed.objective == pytest.approx(counted.objective, rel=1e-3)


def test_time_rule_budget_gives_shares_of_the_time_and_no_counts():
    from planner.budget import SolveBudget, StopRule

    timed = SolveBudget(rule=StopRule.TIME, limit_s=100.0, started=1000.0)
    assert timed.rounds("restricted_rounds") is None
    assert timed.limits(30.0, "rens_nodes") == (30.0, {})
    assert timed.deadline(0.4) == pytest.approx(1040.0)
    timed.note("time_limit")  # the time rule's own stop, not the cap's
    assert not timed.capped
    counted = SolveBudget(rule=StopRule.WORK, limit_s=100.0, work=0.5, started=1000.0)
    assert counted.rounds("restricted_rounds") == 24
    assert counted.limits(30.0, "rens_nodes")[1] == {"mip_max_nodes": 100}
    assert counted.deadline(0.4) == pytest.approx(1100.0)  # only the cap
    counted.note("time_limit")  # under the work rule a time stop is the safety cap's
    assert counted.capped


def test_unknown_stop_rule_is_an_input_error():
    from core.errors import InputError

    with pytest.raises(InputError, match="stop must be one of"):
        PlanParams(stop="fast")
