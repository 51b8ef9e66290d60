"""The real week's pages: the form that runs a ``week`` job (same checks as the API, French
errors), the allocation page (fill rates per shop and product, storage use), the picking
lists in print-all, French job errors."""

from __future__ import annotations

import re

from web_helpers import csrf_of, run

from api import jobs
from api.web.stored import ROUTE_KINDS  # noqa: F401  (the week kind is one of them)


def _submit(c, csrf: str, **fields):
    return c.post("/t/tiny/semaine", data={"csrf": csrf, **fields}, follow_redirects=False)


def test_the_week_form_lists_the_weeks_with_orders_and_its_options(as_role):
    c = as_role("logistics")
    page = c.get("/t/tiny/semaine")
    assert page.status_code == 200
    # the tiny orders fall in three weeks, newest first, with their count of lines
    mondays = re.findall(r'<option value="(\d{4}-\d\d-\d\d)"', page.text)
    assert mondays == ["2025-02-03", "2025-01-13", "2025-01-06"]
    assert "du lun. 6 janv. 2025 (2025-W02) — 3 lignes de commande" in page.text
    assert 'value="proportional"' in page.text and "selon la récolte du plan" in page.text
    assert "Semaine réelle" in page.text  # in the menu
    assert c.get("/t/other/semaine").status_code == 404
    assert as_role("producer").get("/t/tiny/semaine").status_code == 403


def test_a_refused_week_says_why_in_french_and_queues_nothing(as_role, web_store):
    c = as_role("logistics")
    csrf = csrf_of(c.get("/t/tiny/semaine").text)
    queued = len(
        jobs.list_jobs(
            web_store,
            kind="week",
            status=None,
            territory_id="tiny",
            limit=100,
            offset=0,
            within=None,
        )[0]
    )
    assert _submit(c, "", week="2025-01-06").status_code == 403
    r = _submit(c, csrf, week="2025-03-03")
    assert r.status_code == 422
    assert "aucune commande dans la semaine 2025-W10" in r.text
    r = _submit(c, csrf, week="2025-01-06", sharing="au hasard")
    assert r.status_code == 422 and "doit être « maxmin » ou « proportional »" in r.text
    r = _submit(c, csrf, week="2025-01-06", plan_job_id="0" * 36)
    assert r.status_code == 422 and "doit désigner un calcul terminé (plan)" in r.text
    r = _submit(c, csrf, week="pasdate")
    assert r.status_code == 422 and "une semaine (2025-W50) ou une date" in r.text
    after = len(
        jobs.list_jobs(
            web_store,
            kind="week",
            status=None,
            territory_id="tiny",
            limit=100,
            offset=0,
            within=None,
        )[0]
    )
    assert after == queued


def test_running_the_week_queues_a_week_job_then_shows_its_allocation(as_role, web_store, solved):
    c = as_role("logistics")
    csrf = csrf_of(c.get("/t/tiny/semaine").text)
    r = _submit(
        c,
        csrf,
        week="2025-01-06",
        sharing="proportional",
        plan_job_id=solved["plan"],
        carry_job_id=solved["week"],
    )
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[1]
    assert r.headers["location"] == f"/t/tiny/travaux/{job_id}"
    job = jobs.get_job(web_store, job_id)
    assert job.kind == "week" and job.params["week_start"] == "2025-01-06"
    assert job.params["sharing"] == "proportional" and job.params["plan_job_id"] == solved["plan"]
    assert job.params["carry_job_id"] == solved["week"]
    progress = c.get(f"/t/tiny/travaux/{job_id}")
    assert "<progress" in progress.text and "progress.js" in progress.text
    run(web_store, job_id)
    state = c.get(f"/t/tiny/travaux/{job_id}/etat").json()
    assert state["done"] and state["message"] == "terminé"  # in French
    done = c.get(f"/t/tiny/travaux/{job_id}", follow_redirects=False)
    assert done.headers["location"] == f"/t/tiny/semaine/{job_id}"
    page = c.get(done.headers["location"])
    assert page.status_code == 200 and "au prorata des commandes" in page.text


def test_the_allocation_page_shows_fill_rates_per_shop_and_product(as_role, solved):
    c = as_role("logistics")
    page = c.get(f"/t/tiny/semaine/{solved['week']}")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    # carrots: 20 kg ordered by S1, 12 + 3 kg confirmed by the farms → all 15 to S1 (75 %)
    assert re.search(
        r"<th scope=\"row\">Carotte</th><td>confirmé par les fermes</td>"
        r"<td class=\"n\">20,0</td><td class=\"n\">15,0</td><td class=\"n\">15,0</td>"
        r"<td class=\"n short\">75,0 %</td>",  # (the no-break space made a space)
        text,
    ), text
    assert "Épicerie solidaire Bellevue" in text and "Groupement d&#39;achat Chantenay" in text
    assert "approvisionnement insuffisant" in text  # the carrots' gap, per line
    assert 'id="stockage"' in text and "réfrigéré" in text
    assert "data-print" in text and "@media print" not in text  # printed by app.css
    assert c.get(f"/t/tiny/semaine/{solved['routes']}").status_code == 404  # not a week job
    assert c.get(f"/t/other/semaine/{solved['week']}").status_code == 404
    # the map page of a week job links back here
    week_map = c.get(f"/t/tiny/tournees/{solved['week']}")
    assert f"/t/tiny/semaine/{solved['week']}" in week_map.text


def test_print_all_of_a_week_has_the_picking_lists_one_sheet_per_shop(as_role, solved, web_store):
    import io

    import pandas as pd

    c = as_role("logistics")
    page = c.get(f"/t/tiny/tournees/{solved['week']}/imprimer")
    assert page.status_code == 200
    picking = pd.read_csv(
        io.BytesIO(jobs.artifact(web_store, solved["week"], "feuilles/preparation.csv")[0])
    )
    farms = pd.read_csv(
        io.BytesIO(jobs.artifact(web_store, solved["week"], "feuilles/enlevements.csv")[0])
    )
    kpis = jobs.artifact(web_store, solved["week"], "routes/kpis.json")[0]
    import json

    assert page.text.count('data-sheet="picking"') == picking["Point_de_vente"].nunique() == 2
    assert page.text.count('data-sheet="farm"') == farms["Ferme"].nunique()
    assert page.text.count('data-sheet="route"') == json.loads(kpis)["vehicle_days"]
    assert "Préparation — Épicerie solidaire Bellevue" in page.text
    assert "30 litre" in page.text  # units beside the kilos


def test_a_failed_jobs_error_is_shown_in_french(as_role, web_store):
    # a week without orders queued behind the form's back: the runner refuses it
    job = jobs.submit(web_store, "tiny", "week", {"week": "2025-W20", "week_start": "2025-05-12"})
    assert jobs.claim_next(web_store, "test:0") == job.job_id
    assert jobs.execute(web_store, job.job_id) == "failed"
    c = as_role("logistics")
    page = c.get(f"/t/tiny/travaux/{job.job_id}")
    assert "Données refusées" in page.text, jobs.get_job(web_store, job.job_id).error
    state = c.get(f"/t/tiny/travaux/{job.job_id}/etat").json()
    assert state["error"].startswith("Données refusées")
