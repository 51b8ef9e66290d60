"""Logistics pages: orders upload (errors per cell, nothing stored), the week's routes job
with its progress, the map data, stop lists and the print-all page."""

from __future__ import annotations

import json
import re

import pytest
from web_helpers import BAD_ORDERS, csrf_of

from api import jobs
from api.store import territories as store_t

GOOD_ORDERS = (
    "date,site_id,product_id,quantity,unit,unit_price_eur\n2025-02-03,S1,carotte,4,kg,2.5\n"
)


def _upload(c, territory: str, text: str, csrf: str, mode: str = "append"):
    return c.post(
        f"/t/{territory}/commandes",
        data={"csrf": csrf, "mode": mode},
        files={"file": ("commandes.csv", text.encode(), "text/csv")},
    )


def test_a_bad_orders_file_lists_each_bad_cell_and_stores_nothing(as_role, web_store):
    c = as_role("logistics")
    form = c.get("/t/other/commandes")
    assert form.status_code == 404  # another territory
    form = c.get("/t/tiny/commandes")
    before = store_t.territory_row(web_store, "tiny").version
    r = _upload(c, "tiny", BAD_ORDERS, csrf_of(form.text))
    assert r.status_code == 422
    rows = re.findall(r"<tr><td class=\"n\">(\d+)</td><td>([^<]*)</td>", r.text)
    cells = {(int(row), column) for row, column in rows}
    assert {(2, "quantity"), (3, "site_id")} <= cells, cells
    assert any(row == 4 for row, _ in cells)  # the bad date or the bad price of line 4
    assert "rien n&#39;a été enregistré" in r.text or "rien n'a été enregistré" in r.text
    assert store_t.territory_row(web_store, "tiny").version == before


def test_orders_upload_needs_the_csrf_token(as_role, web_store):
    c = as_role("logistics")
    before = store_t.territory_row(web_store, "tiny").version
    assert _upload(c, "tiny", GOOD_ORDERS, "").status_code == 403
    assert _upload(c, "tiny", GOOD_ORDERS, "a" * 64).status_code == 403
    assert store_t.territory_row(web_store, "tiny").version == before


def test_a_good_orders_file_is_stored(as_role, web_store):
    before = store_t.territory_row(web_store, "other").version
    c = as_role("other_territory")
    r = _upload(c, "other", GOOD_ORDERS, csrf_of(c.get("/t/other/commandes").text))
    assert r.status_code == 200 and "1 ligne enregistrée" in r.text
    assert store_t.territory_row(web_store, "other").version == before + 1


def test_running_the_week_shows_progress_then_the_map(as_role, web_store):
    c = as_role("logistics")
    page = c.get("/t/other/tournees")
    assert page.status_code == 404
    page = c.get("/t/tiny/tournees")
    # weeks by their Monday: the tiny orders end on 2025-02-05, so week 1 starts on 10 Feb
    assert '<option value="1"' in page.text and "S1 — du lun. 10 févr. 2025" in page.text
    assert "S48 — du lun. 5 janv. 2026" in page.text  # = the solved week's start
    bad = c.post("/t/tiny/tournees", data={"csrf": csrf_of(page.text), "week": "99"})
    assert bad.status_code == 422 and "entre 1 et 53" in bad.text
    assert c.post("/t/tiny/tournees", data={"week": "48"}).status_code == 403
    r = c.post(
        "/t/tiny/tournees", data={"csrf": csrf_of(page.text), "week": "48"}, follow_redirects=False
    )
    assert r.status_code == 303
    url = r.headers["location"]
    job_id = url.rsplit("/", 1)[1]
    assert url == f"/t/tiny/travaux/{job_id}"
    running = c.get(url)
    assert "<progress" in running.text and "progress.js" in running.text
    state = c.get(f"/t/tiny/travaux/{job_id}/etat").json()
    assert state["status"] == "queued" and state["done"] is False
    assert jobs.claim_next(web_store, "test:0") == job_id
    assert jobs.execute(web_store, job_id) == "succeeded"
    state = c.get(f"/t/tiny/travaux/{job_id}/etat").json()
    assert state["done"] and state["progress"] == 1.0
    week = c.get(url)
    assert 'id="map"' in week.text and "leaflet.js" in week.text
    assert "Tout imprimer" in week.text


def test_the_week_page_lists_each_days_stops_and_serves_map_data(as_role, solved):
    c = as_role("planner")
    job = solved["routes"]
    page = c.get(f"/t/tiny/tournees/{job}?jour=tue")
    assert page.status_code == 200
    assert "mardi" in page.text and "Les Jardins de Vue" in page.text  # P2's pickup is on tuesday
    assert c.get(f"/t/tiny/tournees/{job}?jour=sun").status_code == 404
    geo = c.get(f"/t/tiny/tournees/{job}/carte.geojson").json()
    assert {f["properties"]["day"] for f in geo["features"]} >= {"mon", "tue"}
    base = c.get("/t/tiny/fond.geojson").json()
    layers = {f["properties"]["layer"] for f in base["features"]}
    assert {"site", "commune"} <= layers
    assert c.get(f"/t/other/tournees/{job}/carte.geojson").status_code == 404


def test_print_all_has_one_sheet_per_vehicle_day_and_per_farm(as_role, solved, web_store):
    c = as_role("logistics")
    job = solved["routes"]
    page = c.get(f"/t/tiny/tournees/{job}/imprimer")
    assert page.status_code == 200
    kpis = json.loads(jobs.artifact(web_store, job, "kpis.json")[0])
    pickups = json.loads(jobs.artifact(web_store, job, "pickups_by_producer.json")[0])
    assert page.text.count('data-sheet="route"') == kpis["vehicle_days"]
    assert page.text.count('data-sheet="pickups"') == sum(1 for p in pickups.values() if p)
    assert "Ferme du Pellerin" in page.text  # a farm's pickup list by name


def test_the_producer_sees_its_contract_and_pickups(as_role, web_store):
    c = as_role("producer")
    page = c.get("/t/tiny/producteurs/P1/engagements")
    assert page.status_code == 200
    assert "Contrat de la saison" in page.text and "Plantations" in page.text
    assert "\u00a0€" in page.text and "Revenu plancher" in page.text
    assert re.search(r"(lun|mar|mer|jeu|ven|sam|dim)\. \d{1,2} ", page.text)  # French dates
    assert "Passages du camion" in page.text and "camion V1" in page.text


def test_the_basemap_draws_roads_and_communes_from_the_basemap_folder(
    web_store, tokens, shared_dir, tmp_path, monkeypatch
):
    import shutil

    from web_helpers import make_client, sign_in

    from api.http import create_app

    osm = shared_dir / "osm" / "saint_barthelemy.osm.pbf"
    if not osm.exists():
        pytest.skip("../shared/osm is not here")
    shutil.copy(osm, tmp_path / "tiny.osm.pbf")
    communes = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "44143", "nom": "Rezé"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[-1.6, 47.17], [-1.53, 47.17], [-1.53, 47.2], [-1.6, 47.17]]],
                },
            }
        ],
    }
    (tmp_path / "tiny.communes.geojson").write_text(json.dumps(communes), encoding="utf-8")
    monkeypatch.setenv("VIVRES_BASEMAP_DIR", str(tmp_path))
    with make_client(create_app(web_store, rate_limit=(0, 0))) as c:
        sign_in(c, tokens["logistics"])
        base = c.get("/t/tiny/fond.geojson").json()
    layers = [f["properties"]["layer"] for f in base["features"]]
    assert layers.count("road") > 500  # the island's drive network, one line per segment
    assert [
        f["properties"]["name"] for f in base["features"] if f["properties"]["layer"] == "commune"
    ] == ["Rezé"]
    assert layers.count("site") == 7  # every site of the tiny territory


def test_print_all_downloads_as_a_pdf_made_from_the_same_page(as_role, solved, web_store):
    from api.web.pdf import chromium

    if chromium() is None:
        pytest.skip("no chromium (apt-get install chromium)")
    r = as_role("logistics").get(f"/t/tiny/tournees/{solved['routes']}/imprimer.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert 'filename="feuilles_semaine_48.pdf"' in r.headers["content-disposition"]
    kpis = json.loads(jobs.artifact(web_store, solved["routes"], "kpis.json")[0])
    pickups = json.loads(jobs.artifact(web_store, solved["routes"], "pickups_by_producer.json")[0])
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", r.content))
    assert pages == kpis["vehicle_days"] + sum(1 for p in pickups.values() if p)


def test_without_chromium_the_pdf_link_says_how_to_print(as_role, solved, monkeypatch):
    from api.web import pdf

    monkeypatch.setattr(pdf, "chromium", lambda: None)
    r = as_role("logistics").get(f"/t/tiny/tournees/{solved['routes']}/imprimer.pdf")
    assert r.status_code == 503 and "Enregistrer au format PDF" in r.text


def test_a_failed_job_shows_its_error_and_is_not_followed(as_role, web_store):
    job = jobs.submit(web_store, "tiny", "routes", {"week": 48, "pins": ["NOPE=V1"]})
    assert jobs.claim_next(web_store, "test:0") == job.job_id
    assert jobs.execute(web_store, job.job_id) == "failed"
    page = as_role("logistics").get(f"/t/tiny/travaux/{job.job_id}")
    assert page.status_code == 200 and 'data-status="failed"' in page.text
    assert "NOPE" in page.text and 'role="alert"' in page.text  # the job's error, shown
    # progress.js follows only queued and running jobs: no reload loop on a failed one
    from api.web import STATIC

    script = (STATIC / "js" / "progress.js").read_text()
    assert 'initial !== "queued" && initial !== "running"' in script


def test_a_queued_job_is_cancelled_from_its_page(as_role, web_store):
    job = jobs.submit(web_store, "tiny", "routes", {"week": 47})
    c = as_role("logistics")
    page = c.get(f"/t/tiny/travaux/{job.job_id}")
    assert "Annuler ce calcul" in page.text
    url = f"/t/tiny/travaux/{job.job_id}/annuler"
    assert c.post(url, data={}).status_code == 403  # no CSRF token
    assert jobs.get_job(web_store, job.job_id).status == "queued"
    r = c.post(url, data={"csrf": csrf_of(page.text)})
    assert r.status_code == 200 and 'data-status="cancelled"' in r.text
    assert jobs.get_job(web_store, job.job_id).status == "cancelled"
    plan = jobs.submit(web_store, "tiny", "plan", {"work": 0.05})
    assert (
        c.post(
            f"/t/tiny/travaux/{plan.job_id}/annuler", data={"csrf": csrf_of(page.text)}
        ).status_code
        == 404
    )
    assert jobs.cancel(web_store, plan.job_id).status == "cancelled"  # leave the queue empty


def test_a_week_job_of_the_real_week_is_shown_like_a_routes_job(as_role, web_store, solved):
    """Issue 13's week job stores the routing outputs under routes/: the same pages read it
    (made here by copying the routes job's files, as that job kind is not on this branch)."""
    import uuid

    from api.store.models import Artifact, Job

    source = jobs.get_job(web_store, solved["routes"])
    week_id = str(uuid.uuid4())
    with web_store.session() as session:
        session.add(
            Job(
                job_id=week_id,
                kind="week",
                territory_id="tiny",
                territory_version=source.territory_version,
                params=dict(source.params),
                status="succeeded",
                progress=1.0,
                summary=source.summary,
                created_at=source.created_at,
                finished_at=source.finished_at,
            )
        )
        session.flush()  # the job before its files (foreign key)
        for name in jobs.artifact_names(web_store, solved["routes"]):
            content, media = jobs.artifact(web_store, solved["routes"], name)
            session.add(
                Artifact(job_id=week_id, name=f"routes/{name}", media_type=media, content=content)
            )
    c = as_role("logistics")
    page = c.get(f"/t/tiny/tournees/{week_id}?jour=tue")
    assert page.status_code == 200 and "Les Jardins de Vue" in page.text
    assert c.get(f"/t/tiny/tournees/{week_id}/carte.geojson").json()["features"]
    printed = c.get(f"/t/tiny/tournees/{week_id}/imprimer").text
    assert printed.count('data-sheet="route"') == source.summary["vehicle_days"]
    assert c.get(f"/t/tiny/tournees/{week_id}/chauffeur/tue/V1").status_code == 200
    assert f"/t/tiny/semaine/{week_id}" in c.get("/t/tiny/tournees").text  # its allocation
    token = csrf_of(page.text)
    r = c.post(
        f"/t/tiny/tournees/{week_id}/verifier",
        json={"day": "tue", "routes": {"V2": ["S1"]}},
        headers={"X-CSRF-Token": token},
    )
    assert {w["kind"] for w in r.json()["warnings"]} == {"froid"}  # schedule.csv read too
    producer = as_role("producer").get("/t/tiny/producteurs/P1/engagements").text
    assert "camion V1" in producer
