"""The ``mutualisation`` job over HTTP: the same report as ``vivres mutualisation``, 422
naming the JSON field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api import jobs
from api.cli import main

KNOBS = {"day_solution_limit": 200}


@pytest.fixture
def tiny_mutual(client, keys, mutual_territory, tmp_path) -> Path:
    """The tiny territory with three organisations, uploaded as ``tiny``."""
    folder = mutual_territory(tmp_path / "tiny")
    files = {
        path.stem: (path.name, path.read_bytes(), "text/csv")
        for path in sorted(folder.glob("*.csv"))
    }
    r = client.put("/v1/territories/tiny", files=files, headers=keys["planner"])
    assert r.status_code == 200, r.text
    return folder


@pytest.mark.slow
def test_cli_and_http_give_the_same_report(client, keys, store, tiny_mutual, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["mutualisation", "--week", "2025-W10", "--data", str(tiny_mutual), "--out", str(out)]
    assert main([*argv, "--solution-limit", "200", "--time-limit", "120"]) == 0
    capsys.readouterr()
    body = {"weeks": ["2025-W10"], "knobs": KNOBS, "time_limit_s": 120}
    r = client.post("/v1/territories/tiny/mutualisations", json=body, headers=keys["planner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error
    got = client.get(f"/v1/mutualisations/{job_id}", headers=keys["planner"]).json()["summary"]
    cli = json.loads((out / "mutualisation.json").read_text())
    for key in ("pooled_eur", "standalone_eur", "shapley", "in_core", "core_empty"):
        assert got[key] == cli[key], key
    names = client.get(f"/v1/mutualisations/{job_id}/files", headers=keys["planner"]).json()
    assert {"coalitions.csv", "split.csv", "rapport.html", "split.xlsx"} <= set(names)
    for name in ("coalitions.csv", "split.csv", "rapport.html"):
        r = client.get(f"/v1/mutualisations/{job_id}/files/{name}", headers=keys["planner"])
        assert r.status_code == 200
        assert r.content == (out / name).read_bytes(), name


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weeks": []}, "weeks"),
        ({"weeks": ["2025-W99"]}, "weeks[0]"),
        ({"weeks": ["2025-W10", "2025-03-05"]}, "weeks"),
        ({"weeks": ["2025-W20"]}, "weeks[0]"),
        ({"weeks": ["2025-W10"], "vehicle_day_eur": -1}, "vehicle_day_eur"),
        ({"weeks": ["2025-W10"], "knobs": {"nope": 1}}, "knobs"),
        ({"weeks": ["2025-W10"], "num_orders": 1}, "num_orders"),
    ],
)
def test_bad_requests_are_422_naming_the_field(client, keys, store, tiny_mutual, body, field):
    r = client.post("/v1/territories/tiny/mutualisations", json=body, headers=keys["planner"])
    assert r.status_code == 422, r.text
    assert field in r.text
    assert jobs.claim_next(store, "test:0") is None  # nothing queued


def test_logistics_keys_cannot_queue_the_report(client, keys, tiny_mutual):
    body = {"weeks": ["2025-W10"]}
    r = client.post("/v1/territories/tiny/mutualisations", json=body, headers=keys["logistics"])
    assert r.status_code == 403
