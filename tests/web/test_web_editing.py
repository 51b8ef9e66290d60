"""Moving stops: warnings at once (capacity, refrigeration, working day, opening hours,
shift), lock and re-optimise as a new routes job with pins; the driver's phone page."""

from __future__ import annotations

import json

import pytest
from web_helpers import csrf_of, run

from api import jobs
from api.web import editing


@pytest.fixture
def verify(as_role, solved):
    c = as_role("logistics")
    token = csrf_of(c.get(f"/t/tiny/tournees/{solved['routes']}?jour=tue").text)

    def post(day: str, routes: dict, csrf: str | None = token):
        headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
        return c.post(
            f"/t/tiny/tournees/{solved['routes']}/verifier",
            json={"day": day, "routes": routes},
            headers=headers,
        )

    return post


def _kinds(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {w["kind"] for w in response.json()["warnings"]}


def test_the_solved_day_has_no_warning(verify):
    assert _kinds(verify("tue", {"V1": ["F2", "S1"]})) == set()


def test_checks_need_the_csrf_header(verify):
    assert verify("tue", {"V1": ["F2"]}, csrf=None).status_code == 403
    assert verify("tue", {"V1": ["F2"]}, csrf="0" * 64).status_code == 403


def test_cold_goods_on_a_van_without_cold_and_a_vehicle_off_that_day(verify):
    warnings = verify("tue", {"V1": ["F2"], "V2": ["S1"]}).json()["warnings"]
    assert [(w["kind"], w["vehicle_id"], w["site_id"]) for w in warnings] == [("froid", "V2", "S1")]
    assert _kinds(verify("mon", {"V2": ["F1"]})) == {"jour"}  # V2 drives tue and thu only


def test_capacity_opening_hours_and_shift_warnings(verify, monkeypatch):
    real = editing.artifact_frame_table

    def small_van(request, territory_id, table):
        frame = real(request, territory_id, table)
        if table == "vehicles":
            frame.loc[frame["vehicle_id"] == "V1", ["capacity_kg", "shift_start", "shift_end"]] = [
                "20",
                "18:00",
                "19:00",
            ]
        return frame

    monkeypatch.setattr(editing, "artifact_frame_table", small_van)
    warnings = verify("tue", {"V1": ["F2", "S1"]}).json()["warnings"]
    kinds = {w["kind"] for w in warnings}
    assert {"capacité", "horaires", "service"} <= kinds, warnings
    texts = " ".join(w["message"] for w in warnings)
    # S1 closes at 18:30 on tuesdays; a van leaving at 18:00 reaches it after F2 too late
    assert "25 kg à livrer pour 20 kg" in texts and "après la fermeture (18:30)" in texts


def test_lock_and_reoptimise_pins_the_locked_routes_and_moved_stops(as_role, solved, web_store):
    c = as_role("logistics")
    page = c.get(f"/t/tiny/tournees/{solved['routes']}?jour=tue")
    assert 'data-site="F2"' in page.text and "Verrouiller V1" in page.text
    url = f"/t/tiny/tournees/{solved['routes']}/reoptimiser"
    form = {"day": "tue", "locked": "V1", "arrangement": json.dumps({"V1": ["F2", "S1"]})}
    assert c.post(url, data=form).status_code == 403  # no CSRF token
    r = c.post(url, data={**form, "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[1]
    job = jobs.get_job(web_store, job_id)
    assert job.params["pins"] == ["F2=V1@tue", "S1=V1@tue"]
    assert job.params["week"] == 48
    run(web_store, job_id)
    stops = jobs.artifact(web_store, job_id, "stops.csv")[0].decode()
    assert "tue,2026-01-06,V1" in stops and "Les Jardins de Vue" in stops


def test_the_drivers_phone_page(as_role, solved):
    c = as_role("logistics")
    page = c.get(f"/t/tiny/tournees/{solved['routes']}/chauffeur/tue/V1")
    assert page.status_code == 200
    assert 'href="geo:47.2,-1.88' in page.text  # opens the phone's map app at F2
    assert "Boulevard Alfred Nobel" in page.text and 'href="tel:0240000000"' in page.text
    assert c.get(f"/t/tiny/tournees/{solved['routes']}/chauffeur/tue/V9").status_code == 404
    assert (
        as_role("producer").get(f"/t/tiny/tournees/{solved['routes']}/chauffeur/tue/V1").status_code
        == 403
    )


def test_a_stop_moved_to_another_day_is_checked_against_that_days_opening_and_delivery_days(
    verify,
):
    assert _kinds(verify("tue", {"V1": ["F2"], "@thu": ["S1"]})) == set()  # S1 opens on thu
    warnings = verify("tue", {"V1": ["F2"], "@mon": ["S1"]}).json()["warnings"]
    assert [(w["kind"], w["site_id"]) for w in warnings] == [("horaires", "S1")]
    assert "fermé le lundi" in warnings[0]["message"]
    assert _kinds(verify("tue", {"V1": ["S1"], "@mon": ["F2"]})) == {"horaires"}  # F2: tue


def test_a_shop_with_fixed_delivery_days_moved_off_them_is_warned():
    import pandas as pd

    sites = pd.DataFrame({"site_id": ["S2"], "delivery_days": ["thu"]}).set_index("site_id")
    hours = pd.DataFrame({"site_id": ["S2"], "weekday": ["thu"], "open": ["16:00"]})
    found = []
    editing._other_day(
        lambda *a: found.append(a), "tue", [{"site_id": "S2", "name": "G"}], sites, hours
    )
    assert [(kind, message) for _, _, kind, message in found] == [
        ("horaires", "G est fermé le mardi"),
        ("jour", "G est livré le jeudi, pas le mardi"),
    ]


def test_reoptimise_pins_a_stop_moved_to_another_day(as_role, solved, web_store):
    c = as_role("logistics")
    page = c.get(f"/t/tiny/tournees/{solved['routes']}?jour=tue")
    assert 'value="@thu"' in page.text and 'data-to-day="thu"' in page.text
    r = c.post(
        f"/t/tiny/tournees/{solved['routes']}/reoptimiser",
        data={
            "csrf": csrf_of(page.text),
            "day": "tue",
            "arrangement": json.dumps({"V1": ["F2"], "@thu": ["S1"]}),
        },
        follow_redirects=False,
    )
    job = jobs.get_job(web_store, r.headers["location"].rsplit("/", 1)[1])
    assert job.params["pins"] == ["S1=@thu"]
