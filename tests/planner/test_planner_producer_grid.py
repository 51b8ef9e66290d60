"""The producer grid in the plan: eligibility and an optional preference (issue 15, item 5)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from planner_helpers import crop, demand, farm, product, territory
from test_planner_model import solve

from core.csvio import read_csv_any
from planner import Weights
from planner.eligibility import producer_scores

CRITERIA = pd.DataFrame(
    {
        "criterion_id": ["qualite", "local", "accessible"],
        "label": ["Qualité", "Localité", "Accessibilité"],
        "weight": [2.0, 1.0, 1.0],
        "max_points": [4, 4, 4],
        "eliminatory": [True, False, False],
        "min_points": [1, 0, 0],
    }
)


def _graded(points_a, points_b):
    terr = territory(
        products=[product("salade")],
        crops=[crop("salade_c", "salade")],
        yields={"salade_c": {2: 2.0}},
        farms=[farm("A"), farm("B", km_east=40.0)],
        grows=[("A", "salade_c"), ("B", "salade_c")],
    )
    marks = pd.DataFrame(
        [
            (p, c, pts)
            for p, points in (("A", points_a), ("B", points_b))
            for c, pts in zip(CRITERIA["criterion_id"], points, strict=True)
        ],
        columns=["producer_id", "criterion_id", "points"],
    )
    return dataclasses.replace(terr, producer_criteria=CRITERIA, producer_assessments=marks)


def test_scores_follow_the_grid():
    terr = _graded([0, 4, 4], [4, 2, 2])
    scores = producer_scores(terr).set_index("producer_id")
    # A: (2·0 + 4/4 + 4/4) / 4 = 50 %, short of the eliminatory quality; B: (2 + 0.5 + 0.5)/4
    assert scores.loc["A", "score_pct"] == 50.0 and scores.loc["A", "eliminated"] == "Qualité"
    assert scores.loc["B", "score_pct"] == 75.0 and scores.loc["B", "eliminated"] == ""


def test_a_farm_below_the_threshold_gets_no_contract_and_the_report_says_so():
    terr = _graded([4, 4, 0], [4, 2, 2])  # A 75 %, B 75 %: both above 60 %
    _, both = solve(terr, demand({"salade": {3: 100}}), resilience_share=1.0)
    assert set(both.plan["producer_id"]) == {"A"}  # A is nearer: cheaper
    _, graded = solve(
        terr, demand({"salade": {3: 100}}), resilience_share=1.0, min_producer_score_pct=80.0
    )
    assert graded.plan.empty  # both below 80 %
    terr = _graded([0, 4, 4], [4, 2, 2])  # A short of the eliminatory quality criterion
    _, graded = solve(
        terr, demand({"salade": {3: 100}}), resilience_share=1.0, min_producer_score_pct=60.0
    )
    assert set(graded.plan["producer_id"]) == {"B"}
    assert any(
        "1 farm(s) below 60 %" in line and "A (50 %; Qualité)" in line
        for line in graded.explanation
    )


def test_the_preference_weight_moves_supply_to_the_better_scored_farm():
    terr = _graded([1, 1, 1], [4, 4, 4])  # A near and 25 %, B 40 km away and 100 %
    hub = demand({"salade": {3: 100}})
    _, plain = solve(terr, hub, resilience_share=1.0)
    assert set(plain.plan["producer_id"]) == {"A"}
    # transport is 0.002 € per kg·km: 40 km cost B 0.08 €/kg more; a 0.2 €/kg preference
    # (× 0.75 of score difference = 0.15 €/kg) outweighs it
    _, preferred = solve(
        terr, hub, resilience_share=1.0, weights=Weights(producer_score_eur_per_kg=0.2)
    )
    assert set(preferred.plan["producer_id"]) == {"B"}
    assert any("as a preference" in line for line in preferred.explanation)


def test_vivres_plan_reads_the_territory_grid(tmp_path, capsys):
    import shutil
    from pathlib import Path

    from api.cli import main

    folder = tmp_path / "terr"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "tiny", folder)
    CRITERIA.to_csv(folder / "producer_criteria.csv", index=False)
    (folder / "producer_assessments.csv").write_text(
        "producer_id,criterion_id,points,assessor,assessed_on\n"
        "P1,qualite,0,GAB,2025-01-10\nP1,local,4,GAB,2025-01-10\n"
        "P2,qualite,4,GAB,2025-01-10\nP2,local,4,GAB,2025-01-10\nP2,accessible,2,GAB,2025-01-10\n",
        encoding="utf-8",
    )
    argv = ["plan", "--data", str(folder), "--no-forecast", "--work", "0.05"]
    code = main([*argv, "--out", str(tmp_path / "p"), "--min-producer-score", "50"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Grille des producteurs : 1 ferme(s) sous 50 %" in " ".join(out.split())  # French
    plan = read_csv_any(tmp_path / "p" / "plan.csv")
    assert "P1" not in set(plan["producer_id"])
    path = folder / "producer_assessments.csv"
    path.write_text(path.read_text() + "P9,local,1,GAB,2025-01-10\n", encoding="utf-8")
    assert main(["check", "--data", str(folder)]) == 2
    assert "producer_assessments.csv, ligne 7, champ « producer_id »" in capsys.readouterr().err


def test_the_fair_price_gap_is_what_accessible_shelf_prices_leave_to_finance():
    from planner.outputs import fair_price_gap, kpis

    salade = {**product("salade"), "retail_price_eur_per_unit": 1.5}  # fair 2 €/kg, shelf 1.5
    terr = territory(
        products=[salade],
        crops=[crop("salade_c", "salade")],
        yields={"salade_c": {2: 2.0}},
        farms=[farm("A")],
        grows=[("A", "salade_c")],
    )
    problem, result = solve(terr, demand({"salade": {3: 100}}))
    gap = fair_price_gap(result, problem)
    served = result.coverage["served_kg"].sum()
    assert served > 0
    assert gap["gap_eur"].sum() == pytest.approx(0.5 * served)
    assert kpis(result, problem)["fair_price_gap_eur"] == pytest.approx(0.5 * served)
    # a shelf price above the fair price leaves nothing to finance
    dear = dataclasses.replace(terr, products=terr.products.assign(retail_price_eur_per_unit=2.8))
    problem, result = solve(dear, demand({"salade": {3: 100}}))
    assert fair_price_gap(result, problem)["gap_eur"].sum() == 0
