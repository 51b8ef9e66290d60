"""The sample week's four organisations: the issue's bars (slow: 15 routing solves)."""

from __future__ import annotations

import pytest
from markupsafe import escape

from api.mutual import MutualParams, run_mutual
from api.mutual_report import render, verdict
from api.params import route_params
from api.week import parse_week, run_week
from core.territory import load_territory


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")
def test_sample_week_pooled_costs_less_and_the_shares_add_up():
    territory = load_territory(strict=False)
    week = parse_week("2025-W51")
    params = route_params(time_limit_s=900)  # a safety cap: the days stop at local optima
    stage = run_mutual(territory, [week], params, MutualParams(workers=2))
    s = stage.summary
    assert s["organisations"] == 4 and s["coalitions"] == 15
    assert s["pooled_eur"] <= s["standalone_eur"]
    assert s["saving_eur"] == pytest.approx(s["standalone_eur"] - s["pooled_eur"], abs=0.011)
    parts = s["saving_parts"]
    assert parts["km"]["pooled"] <= parts["km"]["standalone"]
    # Shapley shares to the cent
    assert round(sum(s["shapley"].values()) * 100) == round(s["pooled_eur"] * 100)
    assert s["repeatable"]
    assert str(escape(verdict(s))) in render(stage)
    # pooled = the week as `vivres week` routes it: same problem, same routes
    week_stage = run_week(territory, week, params)
    pooled = stage.coalitions.set_index("coalition").loc["org_chantier+org_episol+org_gpa+org_pole"]
    assert pooled["km"] == pytest.approx(week_stage.summary["routes"]["km"], abs=0.1)
    assert pooled["route_eur"] == pytest.approx(week_stage.summary["routes"]["cost_eur"], abs=0.01)
