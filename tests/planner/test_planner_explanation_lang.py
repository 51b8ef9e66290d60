"""The plan's explanation is French by default, English with ``lang="en"`` — in report.md
and as ``vivres plan`` prints it — through the one translation the web uses (issue 20)."""

from __future__ import annotations

import pytest
from planner_helpers import crop, demand, farm, product, salad, territory
from test_planner_model import solve
from test_planner_producer_grid import _graded

import planner
from core.i18n import text
from planner import Weights


def _explanations():
    """Plans whose explanations say every kind of line: coverage, short because of land, a
    farm under its floor, no suitable farm, the producer grid (below, preference)."""
    lines = []
    _, r = solve(salad(min_revenue_eur=200.0, open_field_m2=20.0), demand({"salade": {3: 50}}))
    lines += r.explanation
    terr = territory(
        products=[product("salade"), product("radis")],
        crops=[crop("salade_c", "salade"), crop("radis_c", "radis")],
        yields={"salade_c": {2: 2.0}, "radis_c": {2: 1.0}},
        farms=[farm("A")],
        grows=[("A", "salade_c")],
    )
    lines += solve(terr, demand({"salade": {3: 40}, "radis": {3: 30}}))[1].explanation
    graded = _graded([0, 4, 4], [4, 2, 2])
    hub = demand({"salade": {3: 100}})
    lines += solve(graded, hub, resilience_share=1.0, min_producer_score_pct=60.0)[1].explanation
    lines += solve(
        graded, hub, resilience_share=1.0, weights=Weights(producer_score_eur_per_kg=0.2)
    )[1].explanation
    return lines


def test_every_explanation_line_has_its_french():
    lines = _explanations()
    kinds = {line.split(" ")[0] for line in lines}
    assert {"Crop", "Short", "Farm", "Producer"} <= kinds, lines
    for line in lines:
        french = text(line, "fr")
        assert french != line, f"no French for: {line}"
        assert text(line, "en") == line


@pytest.mark.parametrize(
    ("lang", "says", "not_says"),
    [("fr", "Demande en produits cultivés", "Crop demand"), ("en", "Crop demand", "Demande")],
)
def test_report_md_explains_in_its_language(tmp_path, lang, says, not_says):
    # 2 beds of land: 10 kg short for land, 80 € of a 200 € floor
    problem, result = solve(
        salad(min_revenue_eur=200.0, open_field_m2=20.0), demand({"salade": {3: 50}})
    )
    planner.write_plan_outputs(result, problem, tmp_path, lang=lang)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert says in report and not_says not in report
    if lang == "fr":
        assert "Manque à cause de la terre" in report and "La ferme" in report
        assert "terre : " in report  # the shortfall table's reason too
