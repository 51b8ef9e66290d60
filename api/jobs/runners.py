"""What each kind of job runs: its stored options → ``api.params`` → ``api.pipeline``.

A runner reads the job's inputs (an earlier job's stored forecast or harvest, a stored
scenario), builds its settings with the same ``api.params`` functions as the command line,
calls the same pipeline functions, and returns the job's summary. The worker
(``api.jobs.worker``) stores every file the runner wrote under ``out`` with that summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from api import params as door
from api import pipeline
from api.jobs.queue import artifact
from api.store.db import Store
from api.store.models import Job, Scenario
from core.csvio import read_csv_any
from core.errors import InputError
from core.safety import safe_path
from core.territory import Territory

Step = Callable[[float, str], None]


def _stored_csv(store: Store, job_id: str, name: str, **read) -> pd.DataFrame:
    content, _ = artifact(store, job_id, name)
    return read_csv_any(content, **read)  # user CSVs of a job: French or English dialect


def run_demand(store: Store, job: Job, territory: Territory, out: Path, step: Step) -> dict:
    """Weekly demand, the season forecast and the caisse ledger."""
    settings = door.demand_settings_of(job.params)
    step(0.2, "demand: weekly history, season forecast and caisse ledger")
    stage = pipeline.run_demand(territory, settings)
    pipeline.write_demand(stage, out, lang=door.lang_of(job.params))
    return pipeline.demand_summary(stage)


def _scenario_path(store: Store, job: Job, out: Path) -> Path | None:
    if not job.scenario_id:
        return None
    with store.sessions() as session:
        scenario = session.get(Scenario, job.scenario_id)
    if scenario is None:
        raise InputError(f"scenario {job.scenario_id} no longer exists")
    path = out.parent / "scenario.yaml"
    path.write_text(scenario.body, encoding="utf-8")
    return path


def run_plan(store: Store, job: Job, territory: Territory, out: Path, step: Step) -> dict:
    """The season plan (against a stored or a new forecast, or the order history)."""
    options = job.params
    params = door.plan_params_of(options)
    if options.get("demand_job_id"):
        hub = _stored_csv(
            store, options["demand_job_id"], "hub_forecast.csv", parse_dates=["week_start"]
        )
    else:
        step(0.1, "demand: season forecast for the plan")
        hub = pipeline.plan_demand(territory, params, forecast=options.get("forecast", True))
    scenario = _scenario_path(store, job, out)
    step(0.4, "planner: solving the season plan (MILP)")
    base = None
    if options.get("base_job_id"):  # a what-if from a base plan (the stability term)
        base = _stored_csv(
            store, options["base_job_id"], "plan.csv", dtype={"producer_id": str, "crop_id": str}
        )
    stage = pipeline.run_plan(territory, hub, params, scenario=scenario, base_plan=base)
    step(0.9, "planner: writing the plan and the producer contracts")
    pipeline.write_plan(stage, out, lang=door.lang_of(options))
    result = stage.result
    return {
        "status": result.status,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap": result.gap,
        "runtime_s": result.runtime_s,
        "explanation": result.explanation,
        "kpis": stage.kpis,
    }


def _transfers(rows: list[dict] | None) -> pd.DataFrame | None:
    if not rows:
        return None
    return pd.DataFrame(rows, columns=["from_site_id", "to_site_id", "storage_class", "kg"])


def run_routes(store: Store, job: Job, territory: Territory, out: Path, step: Step) -> dict:
    """The routes of one season week (farm pickups from a stored plan's harvest, or from the
    land able to grow the week's demand)."""
    options = job.params
    params = door.route_params_of(options)
    harvest = None
    if options.get("plan_job_id"):
        harvest = _stored_csv(store, options["plan_job_id"], "harvest.csv")
    week = int(options["week"])
    step(0.2, f"routing: solving week {week}")
    stage = pipeline.run_routes(
        territory, week, params, harvest=harvest, transfers=_transfers(options.get("transfers"))
    )
    step(0.9, "routing: writing sheets, GeoJSON and maps")
    pipeline.write_routes(stage, out, lang=door.lang_of(options))
    (out / "pickups_by_producer.json").write_text(
        json.dumps(pipeline.producer_pickups(territory, stage), ensure_ascii=False)
    )
    return {"week": week, **stage.result.kpis, "engine": stage.result.engine}


def run_week(store: Store, job: Job, territory: Territory, out: Path, step: Step) -> dict:
    """A delivery week from its orders (as ``vivres week``): sharing, routes, sheets."""
    from api import week as wk
    from api.week_outputs import write_week
    from api.week_whatif import supply_change, write_what_if

    options = job.params
    orders_file = None
    if options.get("orders"):  # the week's orders sent with the request
        orders_file = out.parent / "week_orders.csv"
        pd.DataFrame(options["orders"]).to_csv(orders_file, index=False)
    harvest = past = None
    if options.get("plan_job_id"):
        harvest = _stored_csv(store, options["plan_job_id"], "harvest.csv")
    if options.get("carry_job_id"):
        past = _stored_csv(
            store, options["carry_job_id"], "fill_history.csv", dtype={"site_id": str}
        )
    week_start = pd.Timestamp(options["week_start"])
    step(0.2, f"week {wk.week_label(week_start)}: sharing and routes")
    common = {
        "orders_file": orders_file,
        "harvest": harvest,
        "share_params": door.share_params(method=options.get("sharing")),
        "past": past,
    }
    params = door.route_params_of(options)
    stage = wk.run_week(territory, week_start, params, **common)
    step(0.9, "week: writing the allocation, routes and sheets")
    write_week(stage, territory, out, lang=door.lang_of(options))
    if stage.routes is not None:  # the producers' pages show when the truck comes
        (out / "routes" / "pickups_by_producer.json").write_text(
            json.dumps(pipeline.producer_pickups(territory, stage.routes), ensure_ascii=False)
        )
    what_if = options.get("what_if")
    if not what_if:
        return stage.summary
    step(0.92, "week: the what-if")
    change = supply_change(
        territory, farms=what_if.get("farms", ()), products=what_if.get("products", {}).items()
    )
    other = wk.run_week(territory, week_start, params, supply_change=change, **common)
    _, figures = write_what_if(stage, other, territory, out, lang=door.lang_of(options))
    return {**stage.summary, "what_if": figures}


def run_sweep(store: Store, job: Job, territory: Territory, out: Path, step: Step) -> dict:
    """Every plan of a sweep (the territory × its stored scenarios × seeds, as ``vivres
    sweep``): on Dask with ``workers`` ≥ 2, else in this worker; the runs' table and its
    summary."""
    import shutil

    from api import sweep as sw

    options = job.params
    here = out.parent / "sweep"
    here.mkdir(parents=True, exist_ok=True)
    scenarios = []
    for scenario_id in options.get("scenarios") or [sw.BASE]:
        if scenario_id == sw.BASE:
            scenarios.append(sw.BASE)
            continue
        with store.sessions() as session:
            scenario = session.get(Scenario, scenario_id)
        if scenario is None or scenario.territory_id != job.territory_id:
            raise InputError(f"scenario {scenario_id} no longer exists")
        safe_path(here, str(scenario_id), suffix=".yaml").write_text(scenario.body, "utf-8")
        scenarios.append(f"{scenario_id}.yaml")
    raw = {
        "territories": [str(Path(territory.folder).resolve())],
        "scenarios": scenarios,
        "seeds": options.get("seeds") or [0],
        "grid": options.get("grid") or {},
        "plan": options.get("plan") or {},
    }
    spec = sw.sweep_of(raw, here, name=job.job_id, file="sweep", label=job.territory_id)
    total, done = len(spec.runs), 0

    def on_done(row: dict) -> None:
        nonlocal done
        done += 1
        step(0.05 + 0.9 * done / total, f"sweep: {done} of {total} runs")

    step(0.05, f"sweep: {total} runs")
    workers = int(options.get("workers") or 1)
    if workers >= 2:
        table = sw.run_sweep(spec, out, workers=workers, on_done=on_done)
    else:
        table = sw.run_here(spec, out, on_done=on_done)
    sw.summarise(table, out)
    table.to_csv(out / "runs.csv", index=False)  # the table as rows for the API (machine CSV)
    shutil.rmtree(out / "runs", ignore_errors=True)  # one file per run: gathered above
    errors = table.loc[table["status"] == "error"]
    return {
        "runs": total,
        "errors": len(errors),
        "scenarios": sorted(set(table["scenario"])),
        "seeds": sorted(int(s) for s in set(table["seed"])),
        "workers": workers,
        "first_errors": [str(e) for e in errors["error"].head(5)],
    }


def run_mutualisation(store: Store, job: Job, territory: Territory, out: Path, step: Step) -> dict:
    """Every coalition's week and the split of the pooled cost (as ``vivres
    mutualisation``)."""
    from api import pipeline
    from api.mutual import ROUTING_CAP_S

    options = job.params
    harvest = None
    if options.get("plan_job_id"):
        harvest = _stored_csv(store, options["plan_job_id"], "harvest.csv")
    params = door.mutual_params(
        vehicle_day_eur=options.get("vehicle_day_eur"),
        outsourced_eur_per_kg=options.get("outsourced_eur_per_kg"),
        num_orders=options.get("num_orders"),
        seed=options.get("seed"),
    )
    weeks = [pd.Timestamp(w) for w in options["week_starts"]]
    step(0.1, f"mutualisation: every coalition's week ({len(weeks)} week(s))")
    capped = {**options, "time_limit_s": options.get("time_limit_s") or ROUTING_CAP_S}
    stage = pipeline.run_mutual(
        territory, weeks, door.route_params_of(capped), params, harvest=harvest
    )
    step(0.9, "mutualisation: writing the report")
    pipeline.write_mutual(stage, out)
    return {"assessable": stage.assessable, "reason": stage.reason, **stage.summary}


RUNNERS: dict[str, Callable[[Store, Job, Territory, Path, Step], dict[str, Any]]] = {
    "demand": run_demand,
    "plan": run_plan,
    "routes": run_routes,
    "week": run_week,
    "sweep": run_sweep,
    "mutualisation": run_mutualisation,
}
