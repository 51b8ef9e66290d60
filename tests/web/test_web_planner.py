"""Planner pages: demand, season plan calendar, caisse, and a what-if run and compared."""

from __future__ import annotations

import re

from web_helpers import csrf_of, run

from api import jobs


def test_demand_page_offers_to_compute_then_shows_forecast_band_and_shops(as_role, web_store):
    c = as_role("planner")
    page = c.get("/t/tiny/demande")
    assert page.status_code == 200 and "pas encore été calculée" in page.text
    r = c.post("/t/tiny/calculer/demand", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[1]
    run(web_store, job_id)
    page = c.get(r.headers["location"])  # finished: redirected to the demand page
    assert page.url.path == "/t/tiny/demande"
    assert "<svg" in page.text and "bande 80" in page.text and "<polygon" in page.text
    assert "Prévision de la saison par épicerie" in page.text
    assert "Épicerie solidaire Bellevue" in page.text  # shops by name
    assert c.get("/t/tiny/demande?produit=nope").status_code == 404
    assert as_role("logistics").get("/t/tiny/demande").status_code == 403


def test_plan_page_has_the_calendar_coverage_and_shortfalls(as_role, solved):
    c = as_role("planner")
    page = c.get("/t/tiny/plan")
    assert page.status_code == 200
    assert page.text.count('class="on"') >= 1 and 'class="harvest"' in page.text
    assert "Couverture de la demande" in page.text and "Qui manque" in page.text
    assert "hors saison" in page.text and "out of season" not in page.text  # reason, in French
    assert c.get(f"/t/tiny/plan?job={solved['routes']}").status_code == 404  # not a plan


def test_caisse_page_lists_the_ledger(as_role):
    page = as_role("planner").get("/t/tiny/caisse")
    assert page.status_code == 200 and "2025-01" in page.text and "\u00a0€" in page.text


def test_a_what_if_is_built_run_and_compared_side_by_side(as_role, web_store, solved):
    c = as_role("planner")
    form = c.get("/t/tiny/scenarios")
    token = csrf_of(form.text)
    bad = c.post(
        "/t/tiny/scenarios",
        data={"csrf": token, "base_job_id": solved["plan"], "demand_factor": "abc"},
    )
    assert bad.status_code == 422 and "n&#39;est pas un nombre" in bad.text
    empty = c.post("/t/tiny/scenarios", data={"csrf": token, "base_job_id": solved["plan"]})
    assert empty.status_code == 422 and "ne change rien" in empty.text
    assert c.post("/t/tiny/scenarios", data={"base_job_id": solved["plan"]}).status_code == 403
    r = c.post(
        "/t/tiny/scenarios",
        data={
            "csrf": token,
            "name": "sans P2",
            "base_job_id": solved["plan"],
            "drop_farm": "P2",
            "demand_factor": "1,2",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    job = jobs.get_job(web_store, job_id)
    assert job.scenario_id and job.params["base_job_id"] == solved["plan"]
    run(web_store, job_id)
    page = c.get(r.headers["location"])
    assert page.url.path == f"/t/tiny/scenarios/{job_id}"
    assert "sans P2" in page.text and "Indicateurs côte à côte" in page.text
    assert page.text.count("<svg") == 2
    rows = re.findall(r'<th scope="row">([^<]+)</th>', page.text)
    assert "Couverture de la demande" in rows and "Fermes qui livrent" in rows
    assert "CO₂ de la collecte estimée" in rows
    assert c.get(f"/t/tiny/scenarios/{solved['plan']}").status_code == 404  # not a scenario


def test_the_plans_explanation_is_french_on_the_plan_page(as_role, solved):
    page = as_role("planner").get(f"/t/tiny/plan?job={solved['plan']}")
    assert page.status_code == 200
    assert "Demande en produits cultivés" in page.text
    assert "Crop demand" not in page.text and "Short because" not in page.text
    assert "floor —" not in page.text and "Every partner farm" not in page.text
