"""The plan model on instances solved by hand: optimum, integrality, limits, explanations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from planner_helpers import crop, demand, farm, occupancy, product, salad, territory

import planner
from planner import PlanParams, PlanStatus

SOLVERS = ["highs", "cbc"]


def solve(terr, hub, **kw):
    kw.setdefault("horizon_weeks", hub["week_start"].nunique())
    params = PlanParams(**kw)
    problem = planner.build_plan_problem(terr, hub, params=params)
    return problem, planner.solve_plan(problem, params)


def beds(result) -> int:
    return int(result.plan["beds"].sum())


# Salad by hand: x beds give 20x kg in week 3 where 50 kg are wanted. Cost = 2 €/kg × 20x
# (purchase) + 4 × 2 €/kg per kg short + 0.5 × 2 €/kg per kg wasted:
#   x=2: 80 + 10·8 = 160;   x=3: 120 + 10·1 = 130;   x=4: 160 + 30·1 = 190.


@pytest.mark.parametrize("solver", SOLVERS)
def test_hand_optimum_three_beds(solver):
    _, result = solve(salad(), demand({"salade": {3: 50}}), solver=solver)
    assert result.status is PlanStatus.OPTIMAL
    assert beds(result) == 3
    assert result.objective == pytest.approx(130.0, abs=1e-4)
    assert result.best_bound == pytest.approx(130.0, abs=0.2)
    week3 = result.coverage.loc[result.coverage["week_start"] == pd.Timestamp("2026-03-16")]
    assert week3["harvest_kg"].item() == pytest.approx(60)
    assert week3["served_kg"].item() == pytest.approx(50)
    assert week3["waste_kg"].item() == pytest.approx(10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_minimum_planting_size_is_semi_integer(solver):
    # at least 4 beds or none: 0 beds costs 50·8 = 400, 4 beds 190 → 4
    terr = salad(crop_kw={"min_beds": 4})
    _, result = solve(terr, demand({"salade": {3: 50}}), solver=solver)
    assert beds(result) == 4
    assert result.objective == pytest.approx(190.0, abs=1e-4)
    # a tiny demand is not worth the minimum planting: 0 beds (5 kg short = 40 €) beats
    # 4 beds (80 kg: 160 + 75 wasted = 235)
    _, result = solve(terr, demand({"salade": {3: 5}}), solver=solver)
    assert beds(result) == 0
    assert result.shortfalls["short_kg"].sum() == pytest.approx(5)


def test_land_limit_is_binding_and_explained():
    _, result = solve(salad(open_field_m2=20.0), demand({"salade": {3: 50}}))
    assert beds(result) == 2
    assert result.shortfalls["short_kg"].sum() == pytest.approx(10)
    assert result.shortfalls["reason"].str.startswith("land").all()


def test_labour_limit_is_binding_and_explained():
    # 1 h/m² over a 3-week cycle: 10/3 h per bed and week; 7 h/week allow 2 beds
    terr = salad(labour_h_per_week=7.0, crop_kw={"labour_h_per_m2": 1.0})
    _, result = solve(terr, demand({"salade": {3: 50}}))
    assert beds(result) == 2
    assert result.shortfalls["reason"].str.startswith("labour").all()


def test_budget_is_respected_and_explained():
    _, result = solve(salad(), demand({"salade": {3: 50}}), budget_eur=80.0)
    assert result.plan["revenue_eur"].sum() <= 80.0 + 1e-6
    assert beds(result) == 2
    assert result.shortfalls["reason"].str.startswith("budget").all()


def test_floor_met_with_surplus_when_cheaper_than_the_gap():
    # floor 200 €: x=5 → revenue 200, purchase 200 + 50 kg waste = 250; x=3 → 130 + 3·80 = 370
    _, result = solve(salad(min_revenue_eur=200.0), demand({"salade": {3: 50}}))
    assert beds(result) == 5
    assert result.farms["floor_gap_eur"].sum() == pytest.approx(0.0, abs=1e-6)
    assert result.objective == pytest.approx(250.0, abs=1e-4)


def test_floor_out_of_reach_is_reported_with_its_reason():
    # 4 beds of land at most: 160 € of a 200 € floor, because land is full
    _, result = solve(salad(min_revenue_eur=200.0, open_field_m2=40.0), demand({"salade": {3: 50}}))
    row = result.farms.iloc[0]
    assert row["revenue_eur"] == pytest.approx(160.0)
    assert row["floor_gap_eur"] == pytest.approx(40.0)
    assert row["floor_reason"].startswith("land")
    assert any("floor" in line and "land" in line for line in result.explanation)


def test_product_no_farm_grows_is_short_with_reason():
    terr = territory(
        products=[product("salade"), product("radis")],
        crops=[crop("salade_c", "salade"), crop("radis_c", "radis")],
        yields={"salade_c": {2: 2.0}, "radis_c": {2: 1.0}},
        farms=[farm("A")],
        grows=[("A", "salade_c")],
    )
    _, result = solve(terr, demand({"salade": {3: 40}, "radis": {3: 30}}))
    short = result.shortfalls.set_index("product_id")
    assert short.loc["radis", "short_kg"] == pytest.approx(30)
    assert short.loc["radis", "reason"].startswith("no suitable farm")
    assert "salade" not in short.index


def test_demand_out_of_season_is_short_with_reason():
    # nothing can be harvested before season week 3; week 1's demand is out of season
    _, result = solve(salad(), demand({"salade": {1: 15, 3: 40}}))
    short = result.shortfalls
    assert len(short) == 1
    assert short["first_week"].item() == 1
    assert short["short_kg"].item() == pytest.approx(15)
    assert short["reason"].item().startswith("out of season")
    assert beds(result) == 2


def test_shelf_life_lets_stock_serve_later_weeks_only_within_it():
    # a product that keeps 10 days (one week of storage): one planting serves weeks 3 and 4
    terr = dataclasses.replace(salad(), products=pd.DataFrame([product("salade", shelf_days=10)]))
    _, result = solve(terr, demand({"salade": {3: 20, 4: 20, 5: 20}}))
    cov = result.coverage.set_index("week_start")
    # 60 kg wanted; week 5 is two weeks after the harvest and cannot be served
    assert cov["short_kg"].sum() == pytest.approx(20)
    weeks = pd.to_datetime(["2026-03-16", "2026-03-23", "2026-03-30"])
    assert cov.loc[weeks, "served_kg"].tolist() == pytest.approx([20, 20, 0])
    assert beds(result) == 2


def test_resilience_caps_one_farms_share():
    # two farms, the nearer one is cheaper (transport); alone it would grow all 5 beds
    terr = territory(
        products=[product("salade")],
        crops=[crop("salade_c", "salade")],
        yields={"salade_c": {2: 2.0}},
        farms=[farm("A"), farm("B", km_east=40.0)],
        grows=[("A", "salade_c"), ("B", "salade_c")],
    )
    hub = demand({"salade": {3: 100}})
    _, capped = solve(terr, hub, resilience_share=0.6)
    assert capped.plan.groupby("producer_id")["beds"].sum().to_dict() == {"A": 3, "B": 2}
    assert capped.objective_terms["excess"] == pytest.approx(0.0, abs=1e-6)
    _, free = solve(terr, hub, resilience_share=1.0)
    assert free.plan.groupby("producer_id")["beds"].sum().to_dict() == {"A": 5}


def test_rotation_limits_a_family_on_a_farm():
    # 100 m² of field, two crops of one family held 3 weeks each (30 m²·weeks per 10 m² bed):
    # share 0.1 of 100 m² × 8 weeks = 80 m²·weeks, i.e. 2 beds in all (out of 5 wanted)
    terr = territory(
        products=[product("salade"), product("chicoree")],
        crops=[crop("salade_c", "salade"), crop("chicoree_c", "chicoree")],
        yields={"salade_c": {2: 2.0}, "chicoree_c": {2: 2.0}},
        farms=[farm("A", open_field_m2=100.0)],
        grows=[("A", "salade_c"), ("A", "chicoree_c")],
    )
    _, result = solve(terr, demand({"salade": {3: 60}, "chicoree": {3: 40}}), rotation_share=0.1)
    assert beds(result) == 2
    assert set(result.shortfalls["reason"].str.split(":").str[0]) == {"rotation"}


def _random_case(seed: int, *, weeks: int = 52):
    rng = np.random.default_rng(seed)
    products = [
        product(f"p{i}", price=float(rng.uniform(1, 5)), shelf_days=int(rng.choice([3, 10, 30])))
        for i in range(3)
    ]
    crops = [
        crop(
            f"c{i}",
            f"p{i % 3}",
            family=["a", "b"][i % 2],
            land_type=["open_field", "greenhouse"][i % 2],
            bed_m2=float(rng.choice([10, 30])),
            min_beds=int(rng.integers(1, 3)),
            window=(int(rng.integers(1, 30)), int(rng.integers(30, 52))),
            labour_h_per_m2=float(rng.uniform(0, 0.5)),
        )
        for i in range(4)
    ]
    yields = {
        f"c{i}": {
            int(k): float(rng.uniform(0.2, 1))
            for k in range(int(rng.integers(3, 8)), int(rng.integers(9, 14)))
        }
        for i in range(4)
    }
    farms = [
        farm(
            f"F{j}",
            open_field_m2=float(rng.integers(100, 600)),
            greenhouse_m2=float(rng.integers(60, 300)),
            labour_h_per_week=float(rng.integers(10, 40)),
            min_revenue_eur=float(rng.integers(0, 3000)),
            km_east=float(rng.uniform(0, 60)),
        )
        for j in range(3)
    ]
    grows = [(f"F{j}", f"c{i}") for j in range(3) for i in range(4) if rng.random() < 0.7]
    weekly = {
        f"p{i}": {w: float(rng.uniform(0, 60)) for w in range(1, weeks + 1)} for i in range(3)
    }
    return territory(
        products=products, crops=crops, yields=yields, farms=farms, grows=grows
    ), demand(weekly, weeks=weeks)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_year_plans_keep_land_labour_balance_and_integrality(seed):
    # lumpy harvests make even this small year hard to prove optimal: a few seconds give a
    # plan (status feasible) whose invariants are what this test checks
    terr, hub = _random_case(seed)
    _problem, result = solve(terr, hub, work=0.01)
    assert result.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)
    plan = result.plan
    # integral beds, minimum sizes respected
    assert (plan["beds"] == plan["beds"].round()).all()
    min_beds = terr.crops.set_index("crop_id")["min_beds"]
    assert (plan["beds"] >= plan["crop_id"].map(min_beds)).all()
    # land never exceeded in any week (52 weeks wrap around)
    held = occupancy(plan, terr.crops, terr.crop_yields, 52, cyclic=True)
    land = terr.producers.set_index("producer_id")
    for (pid, land_type), m2 in held.items():
        assert m2.max() <= land.at[pid, f"{land_type}_m2"] + 1e-6
    # demand balance per product: harvest = served + wasted (the stock wraps around)
    cov = result.coverage.groupby("product_id")[
        ["harvest_kg", "served_kg", "waste_kg", "demand_kg", "short_kg"]
    ].sum()
    assert np.allclose(cov["harvest_kg"], cov["served_kg"] + cov["waste_kg"], atol=1e-3)
    assert np.allclose(cov["demand_kg"], cov["served_kg"] + cov["short_kg"], atol=1e-3)
    assert (result.coverage["served_kg"] <= result.coverage["demand_kg"] + 1e-6).all()
    # harvest table = coverage harvest, and revenue = fair price × kg
    assert result.harvest["kg"].sum() == pytest.approx(cov["harvest_kg"].sum(), rel=1e-6)
    # floors: met or reported with a reason
    farms = result.farms
    unmet = farms["revenue_eur"] + 1.0 < farms["min_revenue_eur"]
    assert (farms.loc[unmet, "floor_reason"] != "").all()
    assert np.allclose(
        farms["floor_gap_eur"],
        np.maximum(farms["min_revenue_eur"] - farms["revenue_eur"], 0),
        atol=1.0,
    )


def test_cbc_and_highs_agree_on_a_short_season():
    terr, hub = _random_case(4, weeks=12)
    _, highs = solve(terr, hub, solver="highs", gap=0.0)
    _, cbc = solve(terr, hub, solver="cbc", gap=0.0)
    assert highs.status is PlanStatus.OPTIMAL and cbc.status is PlanStatus.OPTIMAL
    assert cbc.objective == pytest.approx(highs.objective, rel=1e-4)


@pytest.mark.slow
def test_a_tiny_work_budget_on_a_real_size_model_reports_honestly():
    # a tiny work budget on a real-size model: stopped by its count (never the clock), never
    # claims optimality it has not proved, and always returns a plan
    from core.territory import SAMPLE_DIR, load_territory
    from planner.budget import StoppedBy

    terr = load_territory(SAMPLE_DIR, activity=False)
    starts = pd.date_range("2026-01-05", periods=52, freq="7D")
    products = sorted(set(terr.crops["product_id"]))
    hub = pd.DataFrame(
        [{"week_start": s, "product_id": p, "kg": 400.0} for s in starts for p in products]
    )
    _, result = solve(terr, hub, work=0.01)
    assert result.stopped_by in (StoppedBy.WORK_BUDGET, StoppedBy.GAP)
    assert result.best_bound is not None and result.best_bound <= result.objective + 1e-6
    if result.stopped_by is StoppedBy.GAP:
        assert result.status is PlanStatus.OPTIMAL and result.gap <= 0.001 + 1e-9
    else:
        assert result.status is PlanStatus.FEASIBLE and result.gap > 0.001
    assert not result.plan.empty  # 400 kg a week of every product: the search plants
    assert result.coverage["short_kg"].sum() < result.coverage["demand_kg"].sum()


@pytest.mark.slow
def test_heuristic_search_on_a_real_size_model_reports_a_consistent_gap():
    # the sample's farms and crops (3,300 integer beds: LP bound, RENS, LNS, then B&C)
    from core.territory import SAMPLE_DIR, load_territory

    terr = load_territory(SAMPLE_DIR, activity=False)
    starts = pd.date_range("2026-01-05", periods=52, freq="7D")
    products = sorted(set(terr.crops["product_id"]))
    hub = pd.DataFrame(
        [{"week_start": s, "product_id": p, "kg": 300.0} for s in starts for p in products]
    )
    problem, result = solve(terr, hub, work=0.2)
    assert problem.model.num_int > planner.search.SMALL_MODEL_INT_VARS
    assert result.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)
    assert result.best_bound <= result.objective + 1e-6
    assert result.gap == pytest.approx(
        (result.objective - result.best_bound) / result.objective, abs=1e-9
    )
    assert float(problem.model.cost @ result.values) == pytest.approx(result.objective, rel=1e-6)
    held = occupancy(result.plan, terr.crops, terr.crop_yields, 52, cyclic=True)
    land = terr.producers.set_index("producer_id")
    for (pid, land_type), m2 in held.items():
        assert m2.max() <= land.at[pid, f"{land_type}_m2"] + 1e-6


def test_warm_start_from_a_base_plan_is_re_solved_not_trusted():
    base_problem, base = solve(salad(), demand({"salade": {3: 50}}))
    assert beds(base) == 3
    # doubled demand: the base's 3 beds fit; the optimum is 5
    params = PlanParams(horizon_weeks=8)
    more = planner.build_plan_problem(salad(), demand({"salade": {3: 100}}), params=params)
    assert more.model.num_cols == base_problem.model.num_cols
    result = planner.solve_plan(more, params, warm_start=base.values)
    assert beds(result) == 5 and result.status is PlanStatus.OPTIMAL
    # a budget the base plan breaks: its beds are dropped, not returned
    tight = dataclasses.replace(params, budget_eur=80.0)
    capped = planner.build_plan_problem(salad(), demand({"salade": {3: 50}}), params=tight)
    result = planner.solve_plan(capped, tight, warm_start=base.values)
    assert beds(result) == 2
    assert result.plan["revenue_eur"].sum() <= 80.0 + 1e-6


def test_rens_lets_small_values_of_semi_integer_beds_reach_their_minimum():
    """Two "0 or at least 2 beds" options at 0.5 each in the LP, their total at least 1: the
    plain rounding sends both to 0 (infeasible); the retry lets one reach 2 beds."""
    from types import SimpleNamespace

    from planner.arrays import SEMI_INTEGER, Builder
    from planner.budget import SolveBudget, StopRule
    from planner.steps import Search, rens

    b = Builder()
    beds = b.add_cols("beds", (2,), lower=2.0, upper=10.0, cost=[1.0, 1.5], kind=SEMI_INTEGER)
    total = b.add_rows("total", (), lower=1.0)
    b.add_entries([total.start, total.start], beds.index([0, 1]), 1.0)
    problem = SimpleNamespace(model=b.build())
    search = Search(cost=problem.model.cost, lp_values=np.array([0.5, 0.5]))
    rens(problem, PlanParams(), search, SolveBudget(rule=StopRule.WORK, limit_s=60), seconds=5)
    assert search.values is not None
    np.testing.assert_allclose(search.values, [2.0, 0.0])
