"""Background jobs: submit, run, results served from the store, cancel, interrupted, re-run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from api import jobs
from api.store.models import Job, utcnow

# season week 48 falls a year after the tiny territory's January orders: it has routes
ROUTES = {"week": 48, "time_limit_s": 1, "seed": 1}


def _run_next(store) -> str:
    """Claim the next job and run it in this process, as the worker's child does."""
    job_id = jobs.claim_next(store, "test:0")
    assert job_id is not None
    jobs.execute(store, job_id)
    return job_id


@pytest.fixture
def routes_job(client, keys, tiny, store) -> str:
    r = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=keys["logistics"])
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    job_id = _run_next(store)
    assert job_id == r.json()["job_id"]
    return job_id


@pytest.mark.both_databases
def test_route_job_results_are_stored_and_served(client, keys, store, routes_job):
    h = keys["logistics"]
    job = client.get(f"/v1/jobs/{routes_job}", headers=h).json()
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0 and job["summary"]["week"] == 48
    summary = client.get(f"/v1/routes/{routes_job}", headers=h).json()
    assert summary["summary"]["km"] == job["summary"]["km"]

    geo = client.get(f"/v1/routes/{routes_job}/geojson", headers=h)
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert geo.json()["type"] == "FeatureCollection"
    assert geo.content == jobs.artifact(store, routes_job, "routes.geojson")[0]

    sheets = client.get(f"/v1/routes/{routes_job}/sheets", headers=h).json()
    assert sheets, "the tiny week has at least one route"
    day, vehicle = sheets[0].split("/")
    csv = client.get(f"/v1/routes/{routes_job}/sheets/{day}/{vehicle}", headers=h)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("\ufeffN°;Créneau;Arrivée;")  # French Excel opens it as it is
    html = client.get(f"/v1/routes/{routes_job}/sheets/{day}/{vehicle}?format=html", headers=h)
    assert html.text.startswith("<!doctype html>") and f"Tournée {vehicle}" in html.text

    stops = client.get(
        f"/v1/routes/{routes_job}/stops?vehicle_id={vehicle}&day={day}&limit=2", headers=h
    ).json()
    assert len(stops["items"]) == min(2, stops["total"])
    assert {s["vehicle_id"] for s in stops["items"]} == {vehicle}
    logs = client.get(f"/v1/jobs/{routes_job}/logs", headers=h).json()
    assert any("solving week 48" in line["message"] for line in logs)


def test_results_of_unfinished_or_other_kind_jobs(client, keys, tiny, store):
    h = keys["planner"]
    job = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h).json()
    r = client.get(f"/v1/routes/{job['job_id']}/geojson", headers=h)
    assert r.status_code == 409 and "queued" in r.json()["detail"]
    assert client.get(f"/v1/plans/{job['job_id']}", headers=h).status_code == 404
    assert client.get("/v1/routes/nope/geojson", headers=h).status_code == 404


@pytest.mark.both_databases
def test_cancel_queued_job_and_list_filters(client, keys, tiny):
    h = keys["planner"]
    job = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h).json()
    r = client.post(f"/v1/jobs/{job['job_id']}/cancel", headers=h)
    assert r.json()["status"] == "cancelled"
    page = client.get("/v1/jobs?status=cancelled&kind=routes", headers=h).json()
    assert [j["job_id"] for j in page["items"]] == [job["job_id"]]
    assert client.get("/v1/jobs?status=running", headers=h).json()["total"] == 0


@pytest.mark.both_databases
def test_worker_kills_a_cancelled_running_job(client, keys, tiny, store, db_url):
    h = keys["planner"]
    job = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h).json()
    job_id = jobs.claim_next(store, "test:0")
    with store.session() as session:  # the cancel arrives before the worker's first beat
        session.execute(update(Job).where(Job.job_id == job_id).values(cancel_requested=True))
    status = jobs.Worker(store, db_url).run_one(job_id)
    assert status == "cancelled"
    assert client.get(f"/v1/jobs/{job['job_id']}", headers=h).json()["status"] == "cancelled"
    assert jobs.artifact_names(store, job_id) == []


@pytest.mark.both_databases
def test_worker_runs_a_job_in_a_child_process(client, keys, tiny, store, db_url):
    h = keys["planner"]
    client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h)
    job_id = jobs.claim_next(store, "test:0")
    assert jobs.Worker(store, db_url).run_one(job_id) == "succeeded"
    assert "routes.geojson" in jobs.artifact_names(store, job_id)


@pytest.mark.both_databases
def test_stale_running_job_is_interrupted_and_rerun_succeeds(client, keys, tiny, store):
    h = keys["planner"]
    job = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h).json()
    job_id = jobs.claim_next(store, "elsewhere:1")
    with store.session() as session:
        session.execute(
            update(Job)
            .where(Job.job_id == job_id)
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
    assert jobs.mark_interrupted(store) == [job_id]
    body = client.get(f"/v1/jobs/{job['job_id']}", headers=h).json()
    assert body["status"] == "interrupted" and "re-run" in body["message"]
    assert client.get(f"/v1/routes/{job_id}", headers=h).status_code == 409

    again = client.post(f"/v1/jobs/{job_id}/rerun", headers=h)
    assert again.status_code == 202 and again.json()["rerun_of"] == job_id
    assert _run_next(store) == again.json()["job_id"]
    done = client.get(f"/v1/routes/{again.json()['job_id']}", headers=h).json()
    assert done["status"] == "succeeded"


@pytest.mark.both_databases
def test_running_job_with_fresh_heartbeat_is_left_alone(client, keys, tiny, store):
    client.post("/v1/territories/tiny/routes", json=ROUTES, headers=keys["planner"])
    jobs.claim_next(store, "elsewhere:1")
    assert jobs.mark_interrupted(store) == []


def test_rerun_of_active_job_is_refused(client, keys, tiny):
    h = keys["planner"]
    job = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h).json()
    r = client.post(f"/v1/jobs/{job['job_id']}/rerun", headers=h)
    assert r.status_code == 422 and "still queued" in r.json()["detail"]


def test_failed_job_explains_why(client, keys, tiny, store):
    h = keys["planner"]
    r = client.post(
        "/v1/territories/tiny/orders?mode=replace",  # nothing to deliver
        content=b"date,site_id,product_id,quantity,unit\n",
        headers={**h, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["tables"] == {"orders": 0}
    job = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h).json()
    _run_next(store)
    body = client.get(f"/v1/jobs/{job['job_id']}", headers=h).json()
    assert body["status"] == "failed", body
    assert "no orders" in body["error"]


def test_demand_job_tables(client, keys, tiny, store):
    h = keys["planner"]
    job = client.post("/v1/territories/tiny/demand", json={"horizon_weeks": 4}, headers=h).json()
    _run_next(store)
    body = client.get(f"/v1/demand/{job['job_id']}", headers=h).json()
    assert body["status"] == "succeeded", body
    assert body["summary"]["forecast_weeks"] == 4
    fc = client.get(f"/v1/demand/{job['job_id']}/forecast?site_id=S1&limit=5", headers=h)
    assert fc.status_code == 200
    assert {row["site_id"] for row in fc.json()["items"]} == {"S1"}


def test_route_request_validation_names_the_field(client, keys, tiny):
    r = client.post("/v1/territories/tiny/routes", json={"week": 99}, headers=keys["planner"])
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.week"
    r = client.post(
        "/v1/territories/tiny/routes",
        json={"week": 1, "plan_job_id": "nope"},
        headers=keys["planner"],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "plan_job_id"


def test_unknown_query_parameter_is_an_error_not_ignored(client, keys):
    r = client.get("/v1/jobs?kind=routes&statuss=failed", headers=keys["planner"])
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "query.statuss", "message": "unknown parameter"}]
    r = client.get("/v1/jobs?kind=routes&kind=plan", headers=keys["planner"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.kind"
