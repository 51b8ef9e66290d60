"""Frozen contracts are kept bed for bed; a what-if stays near its base plan (issue 19, items
3 and 4)."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest
from planner_helpers import SEASON_START, demand, salad
from test_planner_model import _random_case, solve

import planner
from core.csvio import read_csv_any
from core.errors import InputError
from core.territory import SAMPLE_DIR, load_territory
from planner import PlanParams

KEY = ["crop_id", "plant_date", "beds"]


def _lines(plan: pd.DataFrame, producer: str) -> pd.DataFrame:
    mine = plan.loc[plan["producer_id"] == producer, KEY].astype(str)
    return mine.sort_values(KEY).reset_index(drop=True)


def _frozen(terr, rows: pd.DataFrame):
    return dataclasses.replace(terr, contracts=rows.assign(row=np.arange(2, len(rows) + 2)))


def _busiest(plan: pd.DataFrame) -> str:
    return str(plan.groupby("producer_id")["beds"].sum().sort_values(kind="stable").index[-1])


@pytest.fixture(scope="module")
def random_base():
    """``_random_case(2, weeks=16)`` and its plan (work 0.05), solved once for the tests that
    freeze lines of it (≈ 1 s a solve; the fast ones are in one ``xdist_group``, not the slow
    ones, which may then run side by side); they read the plan and never change it."""
    terr, hub = _random_case(2, weeks=16)
    _, base = solve(terr, hub, work=0.05)
    return terr, hub, base


@pytest.mark.slow
def test_a_frozen_farm_is_kept_line_for_line_under_a_demand_shock_and_another_seed(random_base):
    terr, hub, base = random_base
    who = _busiest(base.plan)
    rows = planner.freeze(base.plan, None, producer_id=who, today=date(2026, 3, 1))
    assert (rows["version"] == 1).all() and (rows["scope"] == "farm").all()
    shocked = hub.assign(kg=hub["kg"] * np.where(hub["product_id"] == "p0", 2.0, 0.5))
    _, other = solve(_frozen(terr, rows), shocked, work=0.05, seed=7)
    pd.testing.assert_frame_equal(_lines(other.plan, who), _lines(base.plan, who))
    assert any("frozen contracts kept as signed" in line for line in other.explanation)
    # the harvest says which kilos are signed: the week buys them as commitments
    assert base.harvest["committed_kg"].sum() == 0
    signed = other.harvest["producer_id"] == who
    np.testing.assert_allclose(
        other.harvest.loc[signed, "committed_kg"], other.harvest.loc[signed, "kg"]
    )
    assert other.harvest.loc[~signed, "committed_kg"].sum() == 0
    # the shock did change the rest of the plan (the freeze is not a no-op test)
    rest = other.plan.loc[other.plan["producer_id"] != who, "beds"].sum()
    assert rest != base.plan.loc[base.plan["producer_id"] != who, "beds"].sum()
    _, free = solve(terr, shocked, work=0.05, seed=7)
    assert not _lines(free.plan, who).equals(_lines(base.plan, who))


@pytest.mark.xdist_group("random_base")  # one solve of it under -n
def test_a_frozen_crop_until_a_date_fixes_only_those_plantings(random_base):
    terr, hub, base = random_base
    who = _busiest(base.plan)
    mine = base.plan.loc[base.plan["producer_id"] == who]
    crop = str(mine["crop_id"].iloc[0])
    until = pd.Timestamp(mine.loc[mine["crop_id"] == crop, "plant_date"].iloc[0]).date()
    rows = planner.freeze(base.plan, None, producer_id=who, crops=(crop,), until=until)
    assert len(rows) == 1 and rows["scope"].iloc[0] == "crop"
    problem = planner.build_plan_problem(
        _frozen(terr, rows), hub, params=PlanParams(horizon_weeks=16)
    )
    opts = problem.inputs.options
    fixed = problem.inputs.frozen.fixed
    dates = problem.inputs.week_start[opts["plant_t"].to_numpy(int)]
    expected = (
        (opts["producer_id"] == who) & (opts["crop_id"] == crop) & (dates <= pd.Timestamp(until))
    ).to_numpy()
    np.testing.assert_array_equal(fixed, expected)
    beds = problem.model.cols["beds"].slice()
    assert (problem.model.col_lower[beds][fixed] == problem.model.col_upper[beds][fixed]).all()


def test_a_contract_line_the_farm_cannot_plant_names_its_row():
    terr = salad()
    hub = demand({"salade": {3: 40.0}})
    rows = pd.DataFrame(
        [
            {
                "contract_id": "A",
                "version": 1,
                "frozen_on": date(2026, 1, 1),
                "producer_id": "A",
                "scope": "farm",
                "until": None,
                "crop_id": "salade_c",
                "plant_date": date(2026, 3, 9),
                "beds": 2,
            }
        ]
    )
    with pytest.raises(InputError) as caught:
        solve(_frozen(terr, rows), hub)
    text = str(caught.value)
    assert "contracts.csv row 2" in text and "plant_date" in text and "cannot plant" in text


def test_frozen_plantings_over_the_land_are_explained_not_just_infeasible():
    terr = salad(open_field_m2=50.0, crop_kw={"window": (10, 11)})
    hub = demand({"salade": {3: 40.0, 4: 40.0}})
    rows = pd.DataFrame(
        [
            {
                "contract_id": "A",
                "version": 1,
                "frozen_on": date(2026, 1, 1),
                "producer_id": "A",
                "scope": "farm",
                "until": None,
                "crop_id": "salade_c",
                "plant_date": d,
                "beds": 4,
            }
            for d in (SEASON_START.date(), (SEASON_START + pd.Timedelta(weeks=1)).date())
        ]
    )
    with pytest.raises(InputError) as caught:
        solve(_frozen(terr, rows), hub)
    assert "cannot all be kept" in str(caught.value)
    assert "80 m² of open_field" in str(caught.value) and "50 m²" in str(caught.value)


@pytest.mark.xdist_group("random_base")  # one solve of it under -n
def test_versions_and_their_diff(random_base):
    *_, base = random_base
    who = _busiest(base.plan)
    first = planner.freeze(base.plan, None, producer_id=who)
    changed = base.plan.copy()
    mine = changed.index[changed["producer_id"] == who][0]
    changed.loc[mine, "beds"] += 3
    second = planner.freeze(changed, first, producer_id=who)
    assert (second["version"] == 2).all()
    both = pd.concat([first, second], ignore_index=True)
    assert (planner.active_contracts(both)["version"] == 2).all()
    table = planner.contract_diff(both, who)
    assert list(table.columns[-3:]) == ["beds_v1", "beds_v2", "change"]
    assert table["change"].tolist().count(3) == 1 and (table["change"] != 0).sum() == 1
    with pytest.raises(InputError, match="no version 5"):
        planner.contract_diff(both, who, 1, 5)
    with pytest.raises(InputError, match="belongs to another producer"):
        other = str(next(p for p in base.plan["producer_id"] if p != who))
        planner.freeze(base.plan, first.assign(producer_id=other), producer_id=who, contract_id=who)


def test_the_contracts_file_is_validated_with_file_row_and_column(tmp_path):
    folder = tmp_path / "t"
    shutil.copytree(SAMPLE_DIR, folder)
    (folder / "contracts.csv").write_text(
        "contract_id,version,frozen_on,producer_id,scope,until,crop_id,plant_date,beds\n"
        "c1,1,2026-01-02,prod_001,farm,,echalote,2026-02-02,7\n"
        "c1,1,2026-01-02,prod_002,farm,,echalote,2026-02-09,7\n"
        "c2,1,2026-01-02,prod_001,line,,echalote,2026-02-04,7\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_territory(folder, activity=False)
    text = str(caught.value)
    assert "contracts.csv row 3, column 'producer_id'" in text
    assert "contracts.csv row 4, column 'plant_date'" in text and "Monday" in text


def test_the_stability_term_keeps_the_base_plan_where_nothing_requires_a_change():
    terr, hub = _random_case(3, weeks=16)
    params = PlanParams(work=0.05, horizon_weeks=16)
    base_problem = planner.build_plan_problem(terr, hub, params=params)
    base = planner.solve_plan(base_problem, params)
    # a small change of one product's demand, re-planned with and without the stability term
    changed = hub.assign(kg=hub["kg"] * np.where(hub["product_id"] == "p1", 1.15, 1.0))

    def what_if(stability: float):
        p = dataclasses.replace(
            params,
            seed=5,
            weights=dataclasses.replace(params.weights, stability_eur_per_bed=stability),
        )
        problem = planner.build_plan_problem(terr, changed, params=p, base_plan=base.plan)
        return problem, planner.solve_plan(problem, p)

    problem, held = what_if(1e3)
    kept = planner.beds_kept(base.plan, held.plan)
    assert (kept["kept_pct"] >= 95).all()
    # the objective is the plan's cost plus λ per base bed given up (a constant column)
    m = problem.model
    cost_without = (
        held.objective
        - float(m.cost[m.cols["kept"].slice()] @ held.values[m.cols["kept"].slice()])
        - float(m.cost[m.cols["kept_offset"].slice()].sum())
    )
    given_up = (kept["base_beds"] - kept["kept"]).sum()
    assert held.objective == pytest.approx(cost_without + 1e3 * given_up, rel=1e-9)
    _, free = what_if(0.0)
    free_kept = planner.beds_kept(base.plan, free.plan)
    assert free_kept["kept"].sum() <= kept["kept"].sum()


@pytest.mark.slow
def test_a_frozen_contract_holds_on_the_sample_under_a_demand_shock():
    from test_planner_stability import _sample_case

    terr, hub = _sample_case()
    params = PlanParams(work=0.1)
    base = planner.solve_plan(planner.build_plan_problem(terr, hub, params=params), params)
    who = _busiest(base.plan)
    rows = planner.freeze(base.plan, None, producer_id=who)
    products = sorted(hub["product_id"].unique())
    shocked = hub.assign(kg=hub["kg"] * np.where(hub["product_id"].isin(products[:5]), 1.5, 0.8))
    p = dataclasses.replace(params, seed=3)
    other = planner.solve_plan(
        planner.build_plan_problem(_frozen(terr, rows), shocked, params=p), p
    )
    pd.testing.assert_frame_equal(_lines(other.plan, who), _lines(base.plan, who))
    assert other.objective != base.objective


def test_contract_terms_set_the_smallest_line_and_print_on_the_contract(tmp_path):
    from planner.contracts import write_contracts

    terr = salad(crop_kw={"bed_m2": 30.0})
    terms = pd.DataFrame(
        [
            {
                "producer_id": "*",
                "vat_rate_pct": 5.5,
                "payment_days": 30,
                "volume_tolerance_pct": 10.0,
                "failure_share_pct": 50.0,
                "min_line_m2": 90.0,
                "min_weekly_kg": 0.0,
            },
            {
                "producer_id": "A",
                "vat_rate_pct": 20.0,
                "payment_days": 45,
                "volume_tolerance_pct": None,
                "failure_share_pct": 70.0,
                "min_line_m2": None,
                "min_weekly_kg": None,
            },
        ]
    ).assign(row=[2, 3])
    terr = dataclasses.replace(terr, contract_terms=terms)
    # 100 kg wanted = 1.7 beds of 30 m² (60 kg each): the farm signs for 90 m² lines, so 3
    # beds (cheaper than the shortfall) where 2 would do otherwise
    problem, result = solve(terr, demand({"salade": {3: 100.0}}))
    assert problem.inputs.options["min_beds"].tolist() == [3.0]
    assert result.plan["beds"].tolist() == [3]
    farm = problem.inputs.farms.set_index("producer_id").loc["A"]
    assert (
        farm["vat_rate_pct"],
        farm["payment_days"],
        farm["failure_share_pct"],
        farm["volume_tolerance_pct"],
        farm["min_line_m2"],
    ) == (20.0, 45, 70.0, 10.0, 90.0)
    files = write_contracts(
        result.plan,
        result.harvest,
        result.farms,
        tmp_path,
        season="2026",
        hub_name="Pôle",
        terms=problem.inputs.farms.set_index("producer_id"),
    )
    page = next(f for f in files if f.suffix == ".html").read_text(encoding="utf-8")
    revenue = result.plan["revenue_eur"].sum()
    assert f"{revenue * 1.2:,.0f} € TTC".replace(",", "\u202f") in page
    assert "à 45 jours" in page and "70 % de la valeur prévue" in page
    assert 'lang="fr"' in page and "Contrat de culture — " in page
    sheet = read_csv_any(next(f for f in files if f.suffix == ".csv"))
    planting = sheet.loc[sheet["section"] == "planting"].iloc[0]
    assert planting["price_eur_per_kg_ttc"] == pytest.approx(2.0 * 1.2)
    english = write_contracts(
        result.plan,
        result.harvest,
        result.farms,
        tmp_path / "en",
        season="2026",
        hub_name="Hub",
        terms=problem.inputs.farms.set_index("producer_id"),
        lang="en",
    )
    page = next(f for f in english if f.suffix == ".html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert f"{revenue * 1.2:,.0f} € incl. VAT" in page
    assert "Growing contract — " in page and "45 days after each delivery" in page
    assert "70 % of the expected value" in page and "The producer" in page
    for french in ("Contrat", "jours", "Livraisons", "Semaine", "producteur", "TTC"):
        assert french not in page, french


def test_small_weekly_deliveries_are_grouped_with_the_next_one():
    from planner.contracts import group_small_deliveries

    weeks = pd.date_range("2026-03-02", periods=5, freq="7D")
    weekly = pd.DataFrame(
        {"radis": [4.0, 4.0, 4.0, 30.0, 3.0], "ail": [0, 0, 12.0, 0, 0]}, index=weeks
    )
    grouped = group_small_deliveries(weekly, 10.0)
    assert grouped["radis"].tolist() == [0.0, 0.0, 12.0, 33.0, 0.0]
    assert grouped["ail"].tolist() == [0.0, 0.0, 12.0, 0.0, 0.0]
    assert grouped.sum().equals(weekly.sum())
    nonzero = grouped.to_numpy()[grouped.to_numpy() > 0]
    assert (nonzero >= 10.0).all()


@pytest.mark.slow
def test_frozen_lines_outside_a_short_plan_are_reported_not_dropped_silently(random_base):
    terr, hub, base = random_base
    rows = planner.freeze(base.plan, None, producer_id=_busiest(base.plan))
    later = rows.assign(plant_date=[d + pd.Timedelta(weeks=30) for d in rows["plant_date"]])
    problem, result = solve(_frozen(terr, later), hub, work=0.05)
    assert len(problem.inputs.frozen.outside) == len(rows)
    assert any(
        f"{len(rows)} frozen contract lines plant outside" in line for line in result.explanation
    )


def test_farms_the_change_cannot_reach_weigh_more_in_the_stability_term():
    terr, hub = _random_case(3, weeks=16)
    params = PlanParams(work=0.05, horizon_weeks=16)
    base = planner.solve_plan(planner.build_plan_problem(terr, hub, params=params), params)
    spared = _busiest(base.plan)
    problem = planner.build_plan_problem(
        terr, hub, params=params, base_plan=base.plan, spared_farms={spared}
    )
    m, w = problem.model, params.weights
    ob = np.flatnonzero(problem.base_beds > 0)
    owner = problem.inputs.options["producer_id"].to_numpy()[ob]
    cost = m.cost[m.cols["kept"].slice()]
    assert (cost[owner == spared] == -w.stability_eur_per_bed * w.stability_spared_factor).all()
    assert (cost[owner != spared] == -w.stability_eur_per_bed).all()
    # the constant column keeps the objective = plan cost + λ per base bed given up
    offset = m.cost[m.cols["kept_offset"].slice()].sum()
    assert offset == pytest.approx(-float(cost @ problem.base_beds[ob]))
