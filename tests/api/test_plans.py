"""Plan jobs: results, one producer's contract (and no other's), scenarios and comparison."""

from __future__ import annotations

import pytest
from api_helpers import solved_job_fixtures

from api import jobs
from core.csvio import read_csv_any

#: under -n, on one worker: the module-scoped template is built once
pytestmark = pytest.mark.xdist_group("test_plans")

PLAN = {"time_limit_s": 5, "horizon_weeks": 52}
DROP_P2 = "name: without-p2\nchanges:\n  - drop_farm: P2\n"


def _run(store, job_id: str) -> None:
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error


def _solve_plan(client, store, keys) -> dict[str, str]:
    r = client.post("/v1/territories/tiny/plans", json=PLAN, headers=keys["planner"])
    assert r.status_code == 202, r.text
    _run(store, r.json()["job_id"])
    return {"plan": r.json()["job_id"]}


plan_template, sqlite_template, plan_job = solved_job_fixtures("plan", _solve_plan)


def test_plan_results_contracts_and_routes_from_it(client, keys, plan_job, store):
    h = keys["logistics"]  # logistics read plans
    body = client.get(f"/v1/plans/{plan_job}", headers=h).json()
    summary = body["summary"]
    assert summary["status"] in ("optimal", "feasible")
    assert summary["explanation"] and summary["kpis"]["farms_supplying"] >= 1
    files = client.get(f"/v1/plans/{plan_job}/files", headers=h).json()
    assert {"plan.csv", "harvest.csv", "report.json"} <= set(files)
    report = client.get(f"/v1/plans/{plan_job}/files/report.json", headers=h).json()
    assert report["status"] == summary["status"]
    harvest = client.get(f"/v1/plans/{plan_job}/harvest?producer_id=P1&limit=3", headers=h).json()
    assert harvest["total"] > 0 and {r["producer_id"] for r in harvest["items"]} == {"P1"}

    # one solved plan serves the producer checks too (solves are the slow part)
    assert client.get(f"/v1/plans/{plan_job}/contracts", headers=keys["planner"]).json() == [
        "P1",
        "P2",
    ]
    own = client.get(f"/v1/plans/{plan_job}/contracts/P1", headers=keys["producer"])
    assert own.status_code == 200 and own.headers["content-type"].startswith("text/csv")
    page = client.get(f"/v1/plans/{plan_job}/contracts/P1?format=html", headers=keys["producer"])
    assert page.headers["content-type"].startswith("text/html")
    assert (
        client.get(f"/v1/plans/{plan_job}/contracts/P2", headers=keys["producer"]).status_code
        == 404
    )
    assert (
        client.get(f"/v1/plans/{plan_job}/contracts/P1", headers=keys["other_producer"]).status_code
        == 404
    )
    # planned volumes: the producer's own rows, whatever filter it asks for
    mine = client.get(f"/v1/plans/{plan_job}/harvest", headers=keys["producer"]).json()
    assert mine["total"] > 0 and {r["producer_id"] for r in mine["items"]} == {"P1"}
    assert (
        client.get(
            f"/v1/plans/{plan_job}/harvest?producer_id=P2", headers=keys["producer"]
        ).status_code
        == 404
    )
    assert client.get(f"/v1/plans/{plan_job}", headers=keys["producer"]).status_code == 403

    # warm reads are answered by the fast path (api/http/fastpath.py): same rules
    contract = f"/v1/plans/{plan_job}/contracts/P1"
    first = client.get(contract, headers=keys["producer"])
    again = client.get(contract, headers=keys["producer"])
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert again.headers["content-type"] == first.headers["content-type"]
    for _ in range(2):
        assert client.get(contract, headers=keys["other_producer"]).status_code == 404
        assert client.get(f"/v1/plans/{plan_job}", headers=keys["producer"]).status_code == 403
        assert client.get(contract, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get(contract + "?format=pdf", headers=keys["producer"]).status_code == 422
    summary = [client.get(f"/v1/plans/{plan_job}", headers=keys["logistics"]) for _ in "ab"]
    assert summary[0].json() == summary[1].json()
    assert summary[1].headers["content-type"] == "application/json"

    # routes of a week whose pickups come from this plan's harvest
    r = client.post(
        "/v1/territories/tiny/routes",
        headers=keys["logistics"],
        json={"week": 20, "time_limit_s": 1, "plan_job_id": plan_job},
    )
    assert r.status_code == 202, r.text
    _run(store, r.json()["job_id"])
    assert (
        client.get(f"/v1/routes/{r.json()['job_id']}", headers=keys["planner"]).json()["status"]
        == "succeeded"
    )


def test_scenario_run_and_compare(client, keys, plan_job, store):
    h = keys["planner"]
    bad = client.post(
        "/v1/territories/tiny/scenarios",
        headers=h,
        json={"name": "x", "body": "changes: [{nonsense: 1}]"},
    )
    assert bad.status_code == 422 and bad.json()["errors"]
    made = client.post(
        "/v1/territories/tiny/scenarios", headers=h, json={"name": "without-p2", "body": DROP_P2}
    )
    assert made.status_code == 201, made.text
    listed = client.get("/v1/territories/tiny/scenarios?name=without-p2", headers=h).json()
    assert listed["total"] == 1
    job = client.post(f"/v1/scenarios/{made.json()['scenario_id']}/run", json=PLAN, headers=h)
    assert job.status_code == 202 and job.json()["scenario_id"] == made.json()["scenario_id"]
    _run(store, job.json()["job_id"])
    compared = client.get(
        f"/v1/plans/compare?a={plan_job}&b={job.json()['job_id']}", headers=h
    ).json()
    rows = {r["kpi"]: r for r in compared["kpis"]}
    assert rows["farms_supplying"]["a"] == 2
    assert rows["farms_supplying"]["b"] == 1 and rows["farms_supplying"]["change"] == -1
    contracts = client.get(f"/v1/plans/{job.json()['job_id']}/contracts", headers=h).json()
    assert "P2" not in contracts


def test_a_frozen_contract_is_kept_by_the_next_plan_job(client, keys, plan_job, store):
    import io

    import pandas as pd

    def lines(job_id: str) -> pd.DataFrame:
        csv = client.get(f"/v1/plans/{job_id}/files/plan.csv", headers=keys["planner"]).content
        plan = read_csv_any(io.BytesIO(csv))
        mine = plan.loc[plan["producer_id"] == "P1", ["crop_id", "plant_date", "beds"]]
        return mine.sort_values(["crop_id", "plant_date"]).reset_index(drop=True)

    url = "/v1/territories/tiny/contracts"
    body = {"plan_job_id": plan_job, "producer_id": "P1"}
    assert client.post(url, json=body, headers=keys["producer"]).status_code == 403
    bad = client.post(url, json={**body, "plan_job_id": "nope"}, headers=keys["planner"])
    assert bad.status_code == 422 and "plan_job_id" in bad.text
    frozen = client.post(url, json=body, headers=keys["planner"])
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["tables"]["contracts"] == len(lines(plan_job))
    again = client.post(url, json=body, headers=keys["planner"])
    assert again.status_code == 200 and again.json()["version"] > frozen.json()["version"]

    # the next plan (another seed) keeps P1's lines bed for bed
    r = client.post("/v1/territories/tiny/plans", json={**PLAN, "seed": 4}, headers=keys["planner"])
    _run(store, r.json()["job_id"])
    pd.testing.assert_frame_equal(lines(r.json()["job_id"]), lines(plan_job))

    diff = client.get("/v1/territories/tiny/contracts/P1/diff", headers=keys["producer"])
    assert diff.status_code == 200, diff.text
    assert diff.json()["total"] == len(lines(plan_job))
    assert all(row["change"] == 0 for row in diff.json()["items"])
    assert (
        client.get(
            "/v1/territories/tiny/contracts/P1/diff", headers=keys["other_producer"]
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/v1/territories/tiny/contracts/P1/diff?from=9", headers=keys["planner"]
        ).status_code
        == 422
    )


def test_a_what_if_from_a_base_plan_job_keeps_its_beds(client, keys, plan_job, store):
    import io

    import pandas as pd

    import planner

    h = keys["planner"]
    made = client.post(
        "/v1/territories/tiny/scenarios",
        headers=h,
        json={"name": "more", "body": "name: more\nchanges:\n  - demand: {factor: 1.05}\n"},
    )
    url = f"/v1/scenarios/{made.json()['scenario_id']}/run"
    assert client.post(url, json={**PLAN, "base_job_id": "nope"}, headers=h).status_code == 422
    runs = {}
    for stability in (0.0, 1e4):
        r = client.post(
            url,
            json={**PLAN, "base_job_id": plan_job, "seed": 3, "stability_eur_per_bed": stability},
            headers=h,
        )
        assert r.status_code == 202, r.text
        _run(store, r.json()["job_id"])
        runs[stability] = r.json()["job_id"]

    def plan(job_id: str) -> pd.DataFrame:
        csv = client.get(f"/v1/plans/{job_id}/files/plan.csv", headers=h).content
        return read_csv_any(io.BytesIO(csv), dtype={"producer_id": str})

    held = planner.beds_kept(plan(plan_job), plan(runs[1e4]))
    assert (held["kept_pct"] >= 95).all()
    free = planner.beds_kept(plan(plan_job), plan(runs[0.0]))
    assert free["kept"].sum() <= held["kept"].sum()
