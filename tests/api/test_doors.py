"""One pipeline: ``vivres plan`` + ``vivres routes`` and the HTTP jobs give the same plan and
the same routes for the same inputs, options and seed (issue 12, item 1).

Both doors build their settings with ``api.params`` and call ``api.pipeline``; this runs them
side by side on the tiny territory, with the options the HTTP door gained (pins, route knobs,
budget, solver, horizon), and compares the plan hash and every route file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from api import jobs
from api.cli import main

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"
WORK, SEED, ROUTE_SEED, WEEK = 0.05, 3, 2, 48
PIN = "S1=V1@thu"  # a shop the week delivers, on a day it is delivered
KNOBS = {"drop_penalty_eur": 4000.0, "hub_handling_min": 25.0}  # longer stops at the hub
HORIZON = 40  # not the default: a door that dropped it would plan another season


def _run(store, job_id: str) -> None:
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error


def _compared(name: str) -> bool:
    """Every route output but the KPIs (they carry the run time) and the folium tile maps
    (folium names its map elements with random ids)."""
    return name != "kpis.json" and not name.endswith("_tiles.html")


def _route_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and _compared(p.name) and ".cache" not in p.parts
    }


# None: neither door says (French); English, the same comparison again: the slow lane
@pytest.mark.parametrize("lang", [None, pytest.param("en", marks=pytest.mark.slow)])
def test_cli_and_http_jobs_give_the_same_plan_and_routes(
    client, keys, tiny, store, tmp_path, capsys, lang
):
    cli_lang = ["--lang", lang] if lang else []
    http_lang = {"lang": lang} if lang else {}
    plan_dir, routes_dir = tmp_path / "plan", tmp_path / "routes"
    (tmp_path / "knobs.toml").write_text("\n".join(f"{k} = {v}" for k, v in KNOBS.items()))
    assert (
        main(
            [
                "plan",
                "--data",
                str(TINY),
                "--out",
                str(plan_dir),
                "--work",
                str(WORK),
                "--seed",
                str(SEED),
                "--horizon-weeks",
                str(HORIZON),
                "--budget",
                "1000000",
                "--solver",
                "highs",
                *cli_lang,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "routes",
                "--data",
                str(TINY),
                "--week",
                str(WEEK),
                "--plan",
                str(plan_dir),
                "--seed",
                str(ROUTE_SEED),
                "--pin",
                PIN,
                "--params",
                str(tmp_path / "knobs.toml"),
                "--out",
                str(routes_dir),
                *cli_lang,
            ]
        )
        == 0
    )
    capsys.readouterr()

    h = keys["planner"]
    plan = client.post(
        "/v1/territories/tiny/plans",
        headers=h,
        json={
            "work": WORK,
            "seed": SEED,
            "horizon_weeks": HORIZON,
            "budget_eur": 1000000,
            "solver": "highs",
            **http_lang,
        },
    ).json()
    _run(store, plan["job_id"])
    routes = client.post(
        "/v1/territories/tiny/routes",
        headers=h,
        json={
            "week": WEEK,
            "seed": ROUTE_SEED,
            "plan_job_id": plan["job_id"],
            "pins": [PIN],
            "knobs": KNOBS,
            **http_lang,
        },
    ).json()
    _run(store, routes["job_id"])

    cli_report = json.loads((plan_dir / "report.json").read_text())
    http_report = json.loads(jobs.artifact(store, plan["job_id"], "report.json")[0])
    assert cli_report["plan_sha256"] == http_report["plan_sha256"]
    assert (plan_dir / "harvest.csv").read_bytes() == jobs.artifact(
        store, plan["job_id"], "harvest.csv"
    )[0]
    said = "Crop demand" if lang == "en" else "Demande en produits cultivés"
    assert said in jobs.artifact(store, plan["job_id"], "report.md")[0].decode()
    assert said in (plan_dir / "report.md").read_text(encoding="utf-8")

    cli_kpis = json.loads((routes_dir / "kpis.json").read_text())
    assert set(cli_kpis["day_status"].values()) == {"local_optimum"}  # repeatable routes
    cli_files = _route_files(routes_dir)
    http_files = {
        name: jobs.artifact(store, routes["job_id"], name)[0]
        for name in jobs.artifact_names(store, routes["job_id"])
        if _compared(name) and name != "pickups_by_producer.json"
    }
    assert cli_files.keys() == http_files.keys()
    assert "routes.geojson" in cli_files and any(n.startswith("sheets/") for n in cli_files)
    assert cli_files == http_files
    sheet = next(n for n in cli_files if n.startswith("sheets/") and n.endswith(".csv"))
    head = cli_files[sheet].decode("utf-8-sig").splitlines()[0]
    assert head.startswith("No.,Time window,Arrival" if lang == "en" else "N°;Créneau;Arrivée")


@pytest.mark.parametrize(
    ("body", "column"),
    [
        ({"week": 48, "pins": ["F1=V1@someday"]}, None),
        ({"week": 48, "knobs": {"drop_penalty_eur": "lots"}}, None),
        ({"week": 48, "knobs": {"no_such_knob": 1}}, None),
    ],
)
def test_bad_route_options_are_refused_at_submission(client, keys, tiny, body, column):
    r = client.post("/v1/territories/tiny/routes", json=body, headers=keys["planner"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["file"] == "body"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("demand", {}),
        ("plans", {}),
        ("routes", {"week": 48}),
        ("weeks", {"week": "2025-W03"}),
    ],
)
@pytest.mark.parametrize("lang", ["de", "FR", "", 1, None])
def test_another_lang_is_a_422_naming_the_field(client, keys, tiny, path, body, lang):
    r = client.post(
        f"/v1/territories/tiny/{path}", json={**body, "lang": lang}, headers=keys["planner"]
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"].split(".")[-1] for e in r.json()["errors"]] == ["lang"], r.text


def test_the_lang_option_is_one_for_both_doors():
    from api.commands import _lang
    from api.params import lang_of, output_lang
    from core.errors import InputError

    assert output_lang(None) == "fr" and lang_of({}) == "fr"  # a job stored before lang
    assert lang_of({"lang": "en"}) == "en" == _lang("en")
    with pytest.raises(InputError, match="lang must be one of fr, en; got 'de'"):
        output_lang("de")


def test_plan_request_bounds_are_the_plan_params_bounds(client, keys, tiny):
    h = keys["planner"]
    assert (
        client.post("/v1/territories/tiny/plans", json={"horizon_weeks": 53}, headers=h).status_code
        == 422
    )  # PlanParams plans at most 52 weeks
    assert client.post("/v1/territories/tiny/plans", json={"gap": 1}, headers=h).status_code == 422
    assert (
        client.post("/v1/territories/tiny/plans", json={"solver": "gurobi"}, headers=h).status_code
        == 422
    )


def test_request_defaults_are_the_settings_types_defaults():
    from api.http.schemas import DemandRequest, PlanRequest, RouteRequest
    from api.params import DemandSettings
    from planner import PlanParams
    from routing import RouteParams

    plan, route = PlanParams(), RouteParams()
    assert RouteRequest(week=1).time_limit_s == route.time_limit_s
    assert RouteRequest(week=1).seed == route.seed
    assert (
        PlanRequest().work,
        PlanRequest().seed,
        PlanRequest().gap,
        PlanRequest().stop,
        PlanRequest().horizon_weeks,
    ) == (plan.work, plan.seed, plan.gap, plan.stop, plan.horizon_weeks)
    assert DemandRequest().horizon_weeks == DemandSettings().horizon_weeks


def test_the_same_history_is_forecast_once_per_process(monkeypatch):
    """A second demand stage on the same history (a what-if, a second plan) reuses the
    forecast; another history or horizon forecasts again."""
    import demand
    from api import pipeline
    from api.params import DemandSettings

    calls = []
    real = demand.forecast_demand

    def counted(*args, **kwargs):
        calls.append(kwargs.get("horizon_weeks"))
        return real(*args, **kwargs)

    monkeypatch.setattr(demand, "forecast_demand", counted)
    monkeypatch.setattr(pipeline, "_FORECASTS", {})
    territory = pipeline.load(TINY)
    first = pipeline.run_demand(territory, DemandSettings(horizon_weeks=8))
    again = pipeline.run_demand(pipeline.load(TINY), DemandSettings(horizon_weeks=8))
    pd.testing.assert_frame_equal(first.forecast, again.forecast)
    assert calls == [8]
    first.forecast.loc[:, "kg"] = -1.0  # a caller changing its copy changes nobody else's
    assert (
        pipeline.run_demand(territory, DemandSettings(horizon_weeks=8)).forecast["kg"] >= 0
    ).all()
    pipeline.run_demand(territory, DemandSettings(horizon_weeks=9))
    assert calls == [8, 9]
