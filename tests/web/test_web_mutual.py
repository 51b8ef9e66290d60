"""Pooling pages: the mutualisation report run from a form, its result, printable page and
spreadsheets; the caisse commune's printable report; roles and territories kept apart."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import openpyxl
import pytest
from web_helpers import csrf_of, make_client, run, sign_in

from api import jobs
from api.store import territories as store_t
from api.store.db import Store
from api.store.keys import create_key


def _root_conftest():
    """The tests' root conftest by its path (``from conftest import`` would find this
    folder's): its builder of the tiny territory with organisations."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("vivres_tests_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_mutual_territory = _root_conftest()._mutual_territory


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    """A store with the tiny territory and three organisations (``tiny``), the tiny
    territory without organisations nor caisse (``plain``), an app and keys."""
    root = tmp_path_factory.mktemp("mutual-web")
    store = Store.open(f"sqlite:///{root / 'vivres.db'}")
    for territory_id, organisations in (("tiny", True), ("plain", False)):
        folder = _mutual_territory(root / territory_id, organisations=organisations)
        if not organisations:  # and no caisse either
            for name in ("households", "caisse_rule", "caisse_transactions"):
                (folder / f"{name}.csv").unlink()
        uploads = [
            store_t.Upload(table=p.stem, content=p.read_bytes(), format="csv")
            for p in sorted(folder.glob("*.csv"))
        ]
        store_t.put_territory(store, territory_id, uploads)
    from api.http import create_app

    app = create_app(store, max_body_mb=2, rate_limit=(0, 0))
    tokens = {
        "planner": create_key(store, "planner", territories=["tiny", "plain"])[0],
        "logistics": create_key(store, "logistics", territories=["tiny"])[0],
        "other": create_key(store, "planner", territories=["plain"])[0],
    }
    yield store, app, tokens
    store.engine.dispose()


def client_of(pooled, role: str):
    _, app, tokens = pooled
    client = make_client(app)
    client.__enter__()
    sign_in(client, tokens[role])
    return client


def submit(client, **fields):
    page = client.get("/t/tiny/mutualisation")
    return client.post(
        "/t/tiny/mutualisation",
        data={"csrf": csrf_of(page.text), **fields},
        follow_redirects=False,
    )


def test_form_lists_the_organisations_and_the_order_weeks(pooled):
    page = client_of(pooled, "planner").get("/t/tiny/mutualisation")
    assert page.status_code == 200
    assert "Réseau des épiceries" in page.text and "Chantier d&#39;insertion" in page.text
    assert 'value="2025-W10"' in page.text


def test_without_organisations_the_page_says_why_and_offers_no_form(pooled):
    page = client_of(pooled, "planner").get("/t/plain/mutualisation")
    assert page.status_code == 200
    assert "ne peut pas être évaluée" in page.text and "organisations.csv" in page.text
    assert 'action="/t/plain/mutualisation"' not in page.text


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"week": "2025-W20"}, "aucune commande dans la semaine 2025-W20"),
        ({"week": "2025-W10", "week2": "2025-W10"}, "weeks"),
        ({"week": "2025-W10", "vehicle_day_eur": "beaucoup"}, "n&#39;est pas un nombre"),
        ({"week": "2025-W10", "outsourced_eur_per_kg": "-1"}, "doit être entre"),
        ({"week": "2025-W10", "plan_job_id": "nope"}, "nope"),
    ],
)
def test_refused_forms_say_why_in_french_and_queue_nothing(pooled, fields, said):
    store = pooled[0]
    answer = submit(client_of(pooled, "planner"), **fields)
    assert answer.status_code == 422, answer.text[:300]
    assert said in answer.text
    assert jobs.claim_next(store, "test:0") is None


def test_logistics_and_other_territories_cannot_reach_the_pages(pooled):
    logistics = client_of(pooled, "logistics")
    assert logistics.get("/t/tiny/mutualisation").status_code == 403
    assert logistics.get("/t/tiny/caisse/rapport").status_code == 403
    other = client_of(pooled, "other")
    assert other.get("/t/tiny/mutualisation").status_code == 404
    assert other.get("/t/tiny/caisse/rapport").status_code == 404


def test_caisse_report_is_the_printable_page_of_the_cli(pooled):
    client = client_of(pooled, "planner")
    assert "/t/tiny/caisse/rapport" in client.get("/t/tiny/caisse").text
    page = client.get("/t/tiny/caisse/rapport")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Caisse" in page.text and "@page" in page.text  # its own A4 print rules
    no_caisse = client.get("/t/plain/caisse/rapport")
    assert no_caisse.status_code == 422
    assert "n&#39;a pas de caisse" in no_caisse.text


@pytest.mark.slow
def test_a_report_run_from_the_form_shows_the_split_and_its_files(pooled):
    store = pooled[0]
    client = client_of(pooled, "planner")
    answer = submit(client, week="2025-W10", vehicle_day_eur="45", outsourced_eur_per_kg="0,35")
    assert answer.status_code == 303, answer.text[:300]
    job_id = answer.headers["location"].rsplit("/", 1)[-1]
    job = jobs.get_job(store, job_id)
    assert job.params["outsourced_eur_per_kg"] == 0.35
    run(store, job_id)
    follow = client.get(f"/t/tiny/travaux/{job_id}", follow_redirects=False)
    assert follow.headers["location"] == f"/t/tiny/mutualisation/{job_id}"
    page = client.get(f"/t/tiny/mutualisation/{job_id}")
    assert page.status_code == 200
    summary = jobs.get_job(store, job_id).summary
    for name in ("Réseau des épiceries", "Fédération des groupements"):
        assert name in page.text
    from core.fmt import eur

    assert eur(summary["pooled_eur"]) in page.text
    assert eur(summary["standalone_eur"]) in page.text
    base = f"/t/tiny/mutualisation/{job_id}/fichiers"
    report = client.get(f"{base}/rapport.html")
    assert report.status_code == 200 and "économies" in report.text.lower()
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/split.xlsx").content))
    names = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert "Chantier d'insertion" in names
    assert client.get(f"{base}/../../../etc/passwd").status_code == 404
    assert client.get(f"{base}/mutualisation.json").status_code == 404  # not on the list
    assert client_of(pooled, "other").get(f"{base}/split.csv").status_code == 404
