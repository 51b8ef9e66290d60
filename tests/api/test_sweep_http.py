"""Scenario sweeps over HTTP (issue 17): a sweep job gives the same runs as ``vivres sweep``."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from api_helpers import TINY, tiny_files

from api import jobs
from api.cli import main

PLAN = {"work": 0.05, "horizon_weeks": 16}
DEMAND_UP = "name: demand-up\nchanges:\n  - demand: {factor: 1.2}\n"


def _run(store, job_id: str) -> None:
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error


@pytest.fixture
def scenario(client, keys, tiny) -> str:
    r = client.post(
        "/v1/territories/tiny/scenarios",
        json={"name": "demand-up", "body": DEMAND_UP},
        headers=keys["planner"],
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["scenario_id"]


@pytest.mark.slow
def test_a_sweep_job_gives_the_runs_of_vivres_sweep(client, keys, store, scenario, tmp_path):
    body = {"scenarios": ["base", scenario], "seeds": [0, 1], "plan": PLAN}
    r = client.post("/v1/territories/tiny/sweeps", json=body, headers=keys["planner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    _run(store, job_id)
    summary = client.get(f"/v1/sweeps/{job_id}", headers=keys["planner"]).json()["summary"]
    assert summary["runs"] == 4 and summary["errors"] == 0
    rows = client.get(f"/v1/sweeps/{job_id}/runs", headers=keys["logistics"]).json()
    assert rows["total"] == 4
    assert {r["territory"] for r in rows["items"]} == {"tiny"}
    files = client.get(f"/v1/sweeps/{job_id}/files", headers=keys["planner"]).json()
    assert {"runs.parquet", "runs.csv", "summary.csv", "summary.html"} <= set(files)
    parquet = client.get(f"/v1/sweeps/{job_id}/files/runs.parquet", headers=keys["planner"])
    table = pd.read_parquet(io.BytesIO(parquet.content))
    # the same runs from the command line: same plans (hash of the plan table) per seed
    (tmp_path / "up.yaml").write_text(DEMAND_UP)
    (tmp_path / "sweep.yaml").write_text(
        f"name: cli\nterritories: [{TINY}]\nscenarios: [base, up.yaml]\nseeds: [0, 1]\n"
        "plan: {work: 0.05, horizon_weeks: 16}\n"
    )
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(tmp_path / "out")]) == 0
    cli = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    by_run = ["scenario_kind", "seed"]
    for frame in (table, cli):
        frame["scenario_kind"] = frame["scenario"].ne("base")
    mine = table.sort_values(by_run)[["plan_sha256", "coverage_pct"]].reset_index(drop=True)
    theirs = cli.sort_values(by_run)[["plan_sha256", "coverage_pct"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scenarios": ["nosuch"]}, "scenarios[0]"),
        ({"grid": {"temperature": [1.0]}}, "grid"),
        ({"plan": {"stop": "never"}}, "plan"),
        (
            {"seeds": list(range(50)), "grid": {"demand_factor": [0.5, 0.8, 1.0, 1.2, 1.5, 2]}},
            "seeds",
        ),
    ],
)
def test_a_bad_sweep_is_a_422_naming_the_field(client, keys, tiny, body, field):
    r = client.post("/v1/territories/tiny/sweeps", json=body, headers=keys["planner"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.text


def test_another_territorys_scenario_is_not_found_and_logistics_cannot_sweep(
    client, keys, scenario
):

    r = client.put("/v1/territories/other", files=tiny_files(), headers=keys["planner"])
    assert r.status_code == 200, r.text
    body = {"scenarios": [scenario]}
    r = client.post("/v1/territories/other/sweeps", json=body, headers=keys["planner"])
    assert r.status_code == 422 and "scenarios[0]" in r.text
    r = client.post("/v1/territories/tiny/sweeps", json={}, headers=keys["logistics"])
    assert r.status_code == 403
