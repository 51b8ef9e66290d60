"""The Lagrangian bound: between the LP bound and the proven optimum, and stronger than the LP
where whole beds cannot follow the demand."""

from __future__ import annotations

import time

import numpy as np
import pytest
from planner_helpers import crop, demand, farm, product, salad, territory
from test_planner_model import _random_case

import planner
from planner import PlanParams, PlanStatus
from planner._highs import solve_highs
from planner.arrays import SEMI_INTEGER
from planner.lagrangian import Decomposition
from planner.search import relax as _relax


def lp_and_lagrangian(problem, *, nodes: int = 20_000):
    # stopped by a node count per product (the deadline is a generous safety cap only)
    lp = solve_highs(
        _relax(problem.model), time_limit_s=300, gap=1e-9, threads=2, log_to_console=False
    )
    assert lp.status == "optimal" and lp.row_duals is not None
    value, x, exact = Decomposition(problem).evaluate(
        lp.row_duals, deadline=time.perf_counter() + 300, threads=2, nodes=nodes
    )
    return lp.objective, value, x, exact


def optimum(problem):
    raw = solve_highs(problem.model, time_limit_s=60, gap=0.0, threads=2, log_to_console=False)
    assert raw.status == "optimal"
    return raw.objective


def test_salad_bound_is_the_whole_bed_optimum_not_the_lp():
    # 50 kg wanted, 20 kg per bed: the LP plants 2.5 beds (100 €, nothing short or wasted),
    # whole beds cost 130 € (see test_planner_model); no coupling row binds, so the
    # product's own MILP is the whole model and the bound is the optimum
    params = PlanParams(horizon_weeks=8)
    problem = planner.build_plan_problem(salad(), demand({"salade": {3: 50}}), params=params)
    lp, value, _, exact = lp_and_lagrangian(problem)
    assert exact
    assert lp == pytest.approx(100.0, abs=1e-6)
    assert value == pytest.approx(130.0, abs=1e-6)


def test_merged_farms_keep_the_cheaper_one_and_its_land():
    # two farms grow the same salad; the nearer one has room for 2 beds only: 3 beds
    # (optimum 130 € + transport) need both, and the merged column must respect that split
    terr = territory(
        products=[product("salade")],
        crops=[crop("salade_c", "salade")],
        yields={"salade_c": {2: 2.0}},
        farms=[farm("A", open_field_m2=20.0), farm("B", km_east=40.0)],
        grows=[("A", "salade_c"), ("B", "salade_c")],
    )
    params = PlanParams(horizon_weeks=8)
    problem = planner.build_plan_problem(terr, demand({"salade": {3: 50}}), params=params)
    lp, value, _, _ = lp_and_lagrangian(problem)
    best = optimum(problem)
    assert lp - 1e-6 <= value <= best + 1e-6
    assert value > lp + 1.0


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_bound_lies_between_lp_and_the_proven_optimum(seed):
    # random 12-week seasons with land, labour, floors, rotation and shares that bind:
    # HiGHS proves their optimum, which no valid bound may exceed
    terr, hub = _random_case(seed, weeks=12)
    params = PlanParams(horizon_weeks=12)
    problem = planner.build_plan_problem(terr, hub, params=params)
    lp, value, _, exact = lp_and_lagrangian(problem)
    best = optimum(problem)
    assert exact
    assert lp - 1e-6 * abs(lp) <= value <= best + 1e-6 * abs(best)


@pytest.mark.slow
@pytest.mark.parametrize("threads", [2, 1])
def test_real_size_solve_reports_the_lagrangian_bound_and_a_consistent_gap(threads):
    # the sample's farms and crops with a flat demand: the bound reported is above the LP's,
    # with two worker processes or (one thread, as in a daemonic job process) without
    import pandas as pd

    from core.territory import SAMPLE_DIR, load_territory

    terr = load_territory(SAMPLE_DIR, activity=False)
    starts = pd.date_range("2026-01-05", periods=52, freq="7D")
    products = sorted(set(terr.crops["product_id"]))
    hub = pd.DataFrame(
        [{"week_start": s, "product_id": p, "kg": 250.0} for s in starts for p in products]
    )
    params = PlanParams(work=0.25, threads=threads)
    problem = planner.build_plan_problem(terr, hub, params=params)
    lp = solve_highs(
        _relax(problem.model), time_limit_s=30, gap=1e-9, threads=2, log_to_console=False
    )
    result = planner.solve_plan(problem, params)
    assert result.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)
    assert result.best_bound > lp.objective + 1.0
    assert result.best_bound <= result.objective + 1e-6
    assert float(problem.model.cost @ result.values) == pytest.approx(result.objective, rel=1e-6)
    assert np.all(result.plan["beds"] == result.plan["beds"].round())


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
def test_products_without_storage_solved_by_weeks_match_their_milp(seed):
    # products kept under a week (no stock): the week-by-week dynamic programme gives the
    # MILP's proven optimum, and a solution that satisfies the block's rows at that cost
    from planner.weeks_dp import solve_by_weeks

    rng = np.random.default_rng(seed)
    weeks = 20
    products = [product("salade", price=2.0, shelf_days=3)]
    crops = [
        crop(
            f"s{i}",
            "salade",
            window=(10 + 3 * i, 12 + 3 * i),
            bed_m2=10.0,
            min_beds=int(rng.integers(1, 3)),
        )
        for i in range(3)
    ]
    yields = {
        f"s{i}": {w: float(rng.uniform(0.5, 2.0)) for w in range(2, 2 + int(rng.integers(1, 4)))}
        for i in range(3)
    }
    farms = [farm("A", open_field_m2=400.0), farm("B", open_field_m2=300.0, km_east=30.0)]
    grows = [(f, f"s{i}") for f in ("A", "B") for i in range(3)]
    terr = territory(products=products, crops=crops, yields=yields, farms=farms, grows=grows)
    hub = demand(
        {"salade": {w: float(rng.uniform(20, 120)) for w in range(1, weeks + 1)}}, weeks=weeks
    )
    problem = planner.build_plan_problem(terr, hub, params=PlanParams(horizon_weeks=weeks))
    lp = solve_highs(
        _relax(problem.model), time_limit_s=30, gap=1e-9, threads=2, log_to_console=False
    )
    dec = Decomposition(problem)
    reduced, _, _ = dec.fixed_part(lp.row_duals)
    (block,) = dec.blocks
    sub = dec.block_model(block, reduced)
    found = solve_by_weeks(block, sub, problem.inputs.demand_kg[0], problem.inputs.cyclic)
    assert found is not None
    value, values = found
    milp = solve_highs(sub, time_limit_s=30, gap=0.0, threads=2, log_to_console=False)
    assert milp.status == "optimal"
    assert value == pytest.approx(milp.objective, rel=1e-9, abs=1e-6)
    assert float(sub.cost @ values) == pytest.approx(value, rel=1e-9, abs=1e-6)
    activity = sub.matrix @ values
    assert np.all(activity >= sub.row_lower - 1e-6) and np.all(activity <= sub.row_upper + 1e-6)
    semi = sub.col_kind == SEMI_INTEGER  # 0 or at least their lower bound
    assert np.all((values >= sub.col_lower - 1e-9) | (semi & (np.abs(values) < 1e-9)))
    assert np.all(values <= sub.col_upper + 1e-9)
    merged = values[block.num_plain : block.num_plain + len(block.groups)]
    assert np.all(merged == np.round(merged))


def test_the_plan_search_goes_on_from_the_callers_plan_when_its_box_has_none():
    """A box with no plan (its LP infeasible): the worker goes on from the caller's incumbent
    (a what-if's base plan) instead of returning nothing."""
    import dataclasses as dc

    from test_planner_model import _random_case

    from planner.budget import SolveBudget, StopRule
    from planner.lagrangian_search import _restricted_task
    from planner.solve import _empty_solution
    from planner.steps import with_bounds

    terr, hub = _random_case(1, weeks=16)
    params = PlanParams(horizon_weeks=16, work=0.05)
    problem = planner.build_plan_problem(terr, hub, params=params)
    m = problem.model
    beds = m.cols["beds"].slice()
    no_plan = dc.replace(problem, model=with_bounds(m, m.col_upper[beds] + 1, m.col_upper[beds]))
    start = _empty_solution(problem)  # nothing planted, everything short: feasible
    budget = SolveBudget(rule=StopRule.WORK, limit_s=120, work=0.05)
    found = _restricted_task(problem, no_plan, params, budget, start=start)
    assert found.values is not None  # the caller's plan, LNS-improved under the time rule
    assert float(m.cost @ found.values) <= float(m.cost @ start) + 1e-6
    nothing = _restricted_task(problem, no_plan, params, budget)
    assert nothing.values is None
