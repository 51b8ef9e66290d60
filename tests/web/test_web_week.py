"""The real week's pages: the form that runs a ``week`` job (same checks as the API, French
errors), the allocation page (fill rates per shop and product, storage use), the picking
lists in print-all, French job errors; the producer's « confirm or change this week's
availability » form (its own rows of availability.csv only, CSRF, French per-field errors
with nothing stored) and the next week job using what it stored."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pandas as pd
import pytest
from web_helpers import AVAILABILITY, WEEK, csrf_of, put_availability, run

from api import jobs
from api.store import territories as store_t
from api.web.availability import default_monday, parse_kg
from core.csvio import read_csv_any

URL = "/t/tiny/producteurs/{}/disponibilites"


def _submit(c, csrf: str, **fields):
    return c.post("/t/tiny/semaine", data={"csrf": csrf, **fields}, follow_redirects=False)


def test_the_week_form_lists_the_weeks_with_orders_and_its_options(as_role):
    c = as_role("logistics")
    page = c.get("/t/tiny/semaine")
    assert page.status_code == 200
    # the tiny orders fall in three weeks, newest first, with their count of lines
    mondays = re.findall(r'<option value="(\d{4}-\d\d-\d\d)"', page.text)
    assert mondays == ["2025-02-03", "2025-01-13", "2025-01-06"]
    assert (
        "du lun. 6 janv. 2025 (2025-W02) — 3 lignes de commande, 2 fermes confirmées" in page.text
    )
    assert "(2025-W03) — 1 ligne de commande, 0 ferme confirmée" in page.text
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
    r = _submit(c, csrf, week="2025-01-06", whatif_product="carotte", whatif_pct="beaucoup")
    assert r.status_code == 422 and "« beaucoup » n&#39;est pas un pourcentage" in r.text
    r = _submit(c, csrf, week="2025-01-06", whatif_pct="50")
    assert r.status_code == 422 and "choisissez le produit" in r.text
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
        whatif_farm="F1",
    )
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[1]
    assert r.headers["location"] == f"/t/tiny/travaux/{job_id}"
    job = jobs.get_job(web_store, job_id)
    assert job.kind == "week" and job.params["week_start"] == "2025-01-06"
    assert job.params["week"] == "2025-W02"  # as the API's callers name it
    assert job.params["sharing"] == "proportional" and job.params["plan_job_id"] == solved["plan"]
    assert job.params["carry_job_id"] == solved["week"]
    assert job.params["what_if"] == {"farms": ["F1"], "products": {}}
    progress = c.get(f"/t/tiny/travaux/{job_id}")
    assert "<progress" in progress.text and "progress.js" in progress.text
    run(web_store, job_id)
    state = c.get(f"/t/tiny/travaux/{job_id}/etat").json()
    assert state["done"] and state["message"] == "terminé"  # in French
    done = c.get(f"/t/tiny/travaux/{job_id}", follow_redirects=False)
    assert done.headers["location"] == f"/t/tiny/semaine/{job_id}"
    page = c.get(done.headers["location"])
    assert page.status_code == 200 and "au prorata des commandes" in page.text
    # the week as it is beside the week without F1's carrots
    assert 'id="et-si"' in page.text and "Ferme du Pellerin ne livre pas" in page.text
    assert re.search(
        r"Taux de service le plus bas</th><td class=\"n\">[\d,]+\u00a0%</td>", page.text
    )


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
    c = as_role("logistics")
    page = c.get(f"/t/tiny/tournees/{solved['week']}/imprimer")
    assert page.status_code == 200
    picking = read_csv_any(jobs.artifact(web_store, solved["week"], "feuilles/preparation.csv")[0])
    farms = read_csv_any(jobs.artifact(web_store, solved["week"], "feuilles/enlevements.csv")[0])
    kpis = jobs.artifact(web_store, solved["week"], "routes/kpis.json")[0]
    assert page.text.count('data-sheet="picking"') == picking["Point_de_vente"].nunique() == 2
    assert page.text.count('data-sheet="farm"') == farms["Ferme"].nunique()
    assert page.text.count('data-sheet="route"') == json.loads(kpis)["vehicle_days"]
    assert "Préparation — Épicerie solidaire Bellevue" in page.text
    assert "30 litre" in page.text  # units beside the kilos


@pytest.mark.slow  # the server's Chromium prints (≈ 2.3 s)
def test_the_real_weeks_pdf_has_one_page_per_sheet_and_list(as_role, solved, web_store):
    from api.web.pdf import chromium

    if chromium() is None:
        pytest.skip("no chromium (apt-get install chromium)")
    r = as_role("logistics").get(f"/t/tiny/tournees/{solved['week']}/imprimer.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert 'filename="feuilles_semaine_2025-W02.pdf"' in r.headers["content-disposition"]

    def frame(name: str) -> pd.DataFrame:
        return read_csv_any(jobs.artifact(web_store, solved["week"], name)[0])

    kpis = json.loads(jobs.artifact(web_store, solved["week"], "routes/kpis.json")[0])
    lists = frame("feuilles/preparation.csv")["Point_de_vente"].nunique()
    lists += frame("feuilles/enlevements.csv")["Ferme"].nunique()
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", r.content))
    assert pages == kpis["vehicle_days"] + lists


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


# ----------------------------------------------------------------------------- availability


def _stored(store) -> pd.DataFrame:
    content = store_t.table_content(store, "tiny", "availability")
    return pd.read_csv(io.BytesIO(content), dtype={"kg": float})


@pytest.fixture
def fresh_availability(web_store):
    """The module's availability rows again after the test (other tests read them)."""
    yield
    put_availability(web_store, AVAILABILITY)


def test_the_producer_sees_its_products_for_the_week_with_what_it_confirmed(as_role):
    c = as_role("producer")
    page = c.get(URL.format("P1") + "?semaine=2025-01-06")
    assert page.status_code == 200
    assert "semaine du lun. 6 janv. 2025" in page.text and "Ferme du Pellerin" in page.text
    # P1 grows carrots and lettuce (producer_crops); it confirmed 12 kg of carrots
    assert 'id="kg_carotte"' in page.text and 'id="kg_laitue"' in page.text
    assert 'id="kg_pomme"' not in page.text  # P2's apples
    assert 'value="12"' in page.text and "confirmé : 12,0 kg" in page.text
    assert 'inputmode="decimal"' in page.text  # the phone's number pad
    assert "Mes disponibilités" in page.text  # in the producer's menu
    assert c.get(URL.format("P1") + "?semaine=2025-01-07").status_code == 422  # a Tuesday
    assert c.get(URL.format("P1") + "?semaine=demain").status_code == 422


def test_another_producers_form_is_404_and_stores_nothing(as_role, web_store):
    c = as_role("producer")
    assert c.get(URL.format("P2")).status_code == 404
    before = store_t.territory_row(web_store, "tiny").version
    csrf = csrf_of(c.get(URL.format("P1")).text)
    r = c.post(URL.format("P2"), data={"csrf": csrf, "semaine": "2025-01-06", "kg_carotte": "99"})
    assert r.status_code == 404
    # its own form cannot write another farm's product either
    r = c.post(URL.format("P1"), data={"csrf": csrf, "semaine": "2025-01-06", "kg_pomme": "99"})
    assert r.status_code == 404
    assert c.get("/t/other/producteurs/P1/disponibilites").status_code == 404
    assert store_t.territory_row(web_store, "tiny").version == before


def test_bad_values_are_shown_per_field_in_french_and_nothing_is_stored(as_role, web_store):
    c = as_role("producer")
    csrf = csrf_of(c.get(URL.format("P1")).text)
    before = store_t.territory_row(web_store, "tiny").version
    form = {"semaine": "2025-01-06", "kg_carotte": "douze", "kg_laitue": "-3"}
    assert c.post(URL.format("P1"), data=form).status_code == 403  # no CSRF token
    r = c.post(URL.format("P1"), data={"csrf": csrf, **form})
    assert r.status_code == 422
    assert "Rien n&#39;a été enregistré" in r.text or "Rien n'a été enregistré" in r.text
    assert 'id="err_carotte"' in r.text and "« douze » n&#39;est pas un nombre" in r.text
    assert 'id="err_laitue"' in r.text and "« -3 » doit être positif ou nul" in r.text
    assert 'aria-invalid="true"' in r.text and 'value="douze"' in r.text  # the typed value kept
    assert store_t.territory_row(web_store, "tiny").version == before


def _confirm_carrots(c, kg: str):
    csrf = csrf_of(c.get(URL.format("P1")).text)
    return c.post(
        URL.format("P1"),
        data={"csrf": csrf, "semaine": "2025-01-06", "kg_carotte": kg, "kg_laitue": ""},
    )


def test_a_confirmation_replaces_only_the_farms_rows(as_role, web_store, fresh_availability):
    r = _confirm_carrots(as_role("producer"), "8,5")
    assert r.status_code == 200 and "Enregistré : 1 produit confirmé" in r.text
    table = _stored(web_store)
    rows = {(w, s, p): kg for w, s, p, kg in table.itertuples(index=False)}
    assert rows == {  # F2's row is kept, F1's changed, lettuce left unconfirmed
        ("2025-01-06", "F1", "carotte"): 8.5,
        ("2025-01-06", "F2", "carotte"): 3.0,
    }
    # staff may confirm for a producer too; emptying every field removes the farm's rows
    staff = as_role("logistics")
    csrf = csrf_of(staff.get(URL.format("P1")).text)
    r = staff.post(URL.format("P1"), data={"csrf": csrf, "semaine": "2025-01-06"})
    assert r.status_code == 200
    assert set(_stored(web_store)["site_id"]) == {"F2"}


def test_another_farms_confirmation_stored_meanwhile_is_kept(
    as_role, web_store, fresh_availability, monkeypatch
):
    """Two farms confirming at once (two server processes): the second write sees the table
    changed since it read it, reads it again and keeps the other farm's new row."""
    real = store_t.put_table
    calls = []

    def meanwhile(store, territory_id, upload, **options):
        if not calls:  # F2 stores its lettuce between our read and our write
            calls.append("F2")
            text = AVAILABILITY + "2025-01-06,F2,pomme,40\n"
            real(store, territory_id, store_t.Upload(table="availability", content=text.encode()))
        calls.append("F1")
        return real(store, territory_id, upload, **options)

    monkeypatch.setattr(store_t, "put_table", meanwhile)
    assert _confirm_carrots(as_role("producer"), "7").status_code == 200
    assert calls == ["F2", "F1", "F1"]  # refused once, then stored from the new table
    rows = {(s, p): kg for _, s, p, kg in _stored(web_store).itertuples(index=False)}
    assert rows == {("F1", "carotte"): 7.0, ("F2", "carotte"): 3.0, ("F2", "pomme"): 40.0}


@pytest.mark.slow  # a week job (≈ 2 s on a busy machine)
def test_the_next_week_job_uses_what_the_producer_confirmed(as_role, web_store, fresh_availability):
    assert _confirm_carrots(as_role("producer"), "8,5").status_code == 200
    job = jobs.submit(web_store, "tiny", "week", WEEK)
    run(web_store, job.job_id)
    # 8.5 kg from F1 (just confirmed) + 3 kg from F2 for the 20 kg of carrots ordered
    supply = pd.read_csv(io.BytesIO(jobs.artifact(web_store, job.job_id, "supply.csv")[0]))
    carrots = supply.loc[supply["product_id"] == "carotte"].iloc[0]
    assert carrots["source"] == "availability" and carrots["available_kg"] == pytest.approx(11.5)
    lines = pd.read_csv(io.BytesIO(jobs.artifact(web_store, job.job_id, "allocation.csv")[0]))
    s1 = lines.loc[(lines["site_id"] == "S1") & (lines["product_id"] == "carotte")].iloc[0]
    assert s1["allocated_kg"] == pytest.approx(11.5)


def test_the_producer_sees_when_the_truck_comes_in_the_real_week(as_role, web_store, solved):
    pickups = json.loads(
        jobs.artifact(web_store, solved["week"], "routes/pickups_by_producer.json")[0]
    )
    assert pickups["P1"], pickups  # the carrots confirmed by F1 are picked up
    page = as_role("producer").get("/t/tiny/producteurs/P1/engagements")
    assert "Semaine 2025-W02 (du lun. 6 janv.)" in page.text
    first = pickups["P1"][0]
    assert f"camion {first['vehicle_id']}" in page.text
    assert URL.format("P1") in page.text  # the way to confirm this week's kilos


def test_kilos_read_the_french_way_and_the_default_week():
    assert parse_kg("1 234,5") == 1234.5 and parse_kg(" 12 ") == 12.0 and parse_kg("") is None
    for bad in ("abc", "-1", "nan", "inf", "1e9"):
        with pytest.raises(ValueError):
            parse_kg(bad)
    assert default_monday(date(2026, 11, 25)) == date(2026, 11, 23)  # a Wednesday: this week
    assert default_monday(date(2026, 11, 29)) == date(2026, 11, 30)  # a Sunday: next week
