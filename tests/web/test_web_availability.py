"""The producer's « confirm or change this week's availability » form: its own rows of
availability.csv only, CSRF, French per-field errors with nothing stored, and the next week
job uses what it stored."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from web_helpers import AVAILABILITY, WEEK, csrf_of, put_availability, run

from api import jobs
from api.store import territories as store_t
from api.web.availability import default_monday, parse_kg

URL = "/t/tiny/producteurs/{}/disponibilites"


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


def test_a_confirmation_replaces_only_the_farms_rows_and_the_next_week_uses_it(
    as_role, web_store, fresh_availability
):
    c = as_role("producer")
    csrf = csrf_of(c.get(URL.format("P1")).text)
    r = c.post(
        URL.format("P1"),
        data={"csrf": csrf, "semaine": "2025-01-06", "kg_carotte": "8,5", "kg_laitue": ""},
    )
    assert r.status_code == 200 and "Enregistré : 1 produit confirmé" in r.text
    table = _stored(web_store)
    rows = {(w, s, p): kg for w, s, p, kg in table.itertuples(index=False)}
    assert rows == {  # F2's row is kept, F1's changed, lettuce left unconfirmed
        ("2025-01-06", "F1", "carotte"): 8.5,
        ("2025-01-06", "F2", "carotte"): 3.0,
    }
    # the next week job reads the stored table: 8.5 + 3 kg of carrots for 20 ordered
    job = jobs.submit(web_store, "tiny", "week", WEEK)
    run(web_store, job.job_id)
    supply = pd.read_csv(io.BytesIO(jobs.artifact(web_store, job.job_id, "supply.csv")[0]))
    carrots = supply.loc[supply["product_id"] == "carotte"].iloc[0]
    assert carrots["source"] == "availability" and carrots["available_kg"] == pytest.approx(11.5)
    lines = pd.read_csv(io.BytesIO(jobs.artifact(web_store, job.job_id, "allocation.csv")[0]))
    s1 = lines.loc[(lines["site_id"] == "S1") & (lines["product_id"] == "carotte")].iloc[0]
    assert s1["allocated_kg"] == pytest.approx(11.5)
    # staff may confirm for a producer too; emptying every field removes the farm's rows
    staff = as_role("logistics")
    csrf = csrf_of(staff.get(URL.format("P1")).text)
    r = staff.post(URL.format("P1"), data={"csrf": csrf, "semaine": "2025-01-06"})
    assert r.status_code == 200
    assert set(_stored(web_store)["site_id"]) == {"F2"}


def test_the_producer_sees_when_the_truck_comes_in_the_real_week(as_role, web_store, solved):
    import json

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
