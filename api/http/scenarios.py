"""What-if scenarios: store one, run it as a plan job, compare two plans' KPIs."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import func, select

from api import jobs
from api import params as door
from api.http.access import ensure_job
from api.http.deps import Caller, Limit, Offset, get_store, require
from api.http.problems import responses
from api.http.results import finished
from api.http.schemas import (
    CompareOut,
    CompareRow,
    JobOut,
    PlanRequest,
    ScenarioOut,
    ScenarioPage,
    ScenarioRequest,
)
from api.http.territories import TerritoryId, check_source, checked
from api.store.models import Scenario, TerritoryRow, utcnow
from api.store.territories import NotFound, get_or_not_found

router = APIRouter(prefix="/v1", tags=["scenarios"])
ScenarioId = Annotated[str, Path(min_length=1, max_length=36)]
R = responses(401, 403, 404, 409, 422)


def _validate(name: str, body: str) -> None:
    """Check the scenario's structure as the planner reads it (ids are checked on run)."""
    import planner

    with tempfile.TemporaryDirectory() as tmp:
        path = FsPath(tmp) / "scenario.yaml"
        path.write_text(body, encoding="utf-8")
        planner.load_scenario(path)


@router.post(
    "/territories/{territory_id}/scenarios",
    response_model=ScenarioOut,
    status_code=201,
    responses=R,
)
def create_scenario(
    request: Request, caller: Caller, territory_id: TerritoryId, body: ScenarioRequest
) -> ScenarioOut:
    """Store a what-if scenario (the planner's YAML: demand factors, farm drop-out, yield
    shocks, prices, caisse households, budget) for a territory (planner)."""
    require(caller, "planner")
    _validate(body.name, body.body)
    store = get_store(request)
    with store.session() as session:
        if session.get(TerritoryRow, territory_id) is None:
            raise NotFound(f"no territory {territory_id!r}")
        row = Scenario(
            scenario_id=str(uuid.uuid4()),
            territory_id=territory_id,
            name=body.name,
            body=body.body,
            created_at=utcnow(),
        )
        session.add(row)
    return ScenarioOut.model_validate(row)


@router.get("/territories/{territory_id}/scenarios", response_model=ScenarioPage, responses=R)
def list_scenarios(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    limit: Limit = 50,
    offset: Offset = 0,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> ScenarioPage:
    """A territory's scenarios, newest first, filtered by name (planner)."""
    require(caller, "planner")
    query = select(Scenario).where(Scenario.territory_id == territory_id)
    if name is not None:
        query = query.where(Scenario.name == name)
    with get_store(request).sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(Scenario.created_at.desc(), Scenario.scenario_id)
            .limit(limit)
            .offset(offset)
        )
        items = [ScenarioOut.model_validate(r) for r in rows]
    return ScenarioPage(items=items, total=int(total or 0), limit=limit, offset=offset)


def _scenario(request: Request, scenario_id: str) -> Scenario:
    with get_store(request).sessions() as session:
        return get_or_not_found(session, Scenario, scenario_id, f"no scenario {scenario_id!r}")


@router.get("/scenarios/{scenario_id}", response_model=ScenarioOut, responses=R)
def get_scenario(request: Request, caller: Caller, scenario_id: ScenarioId) -> ScenarioOut:
    """One scenario (planner)."""
    require(caller, "planner")
    return ScenarioOut.model_validate(_scenario(request, scenario_id))


@router.post("/scenarios/{scenario_id}/run", response_model=JobOut, status_code=202, responses=R)
def run_scenario(
    request: Request, caller: Caller, scenario_id: ScenarioId, body: PlanRequest | None = None
) -> JobOut:
    """Queue a plan solve with the scenario applied (planner); returns the job at once."""
    require(caller, "planner")
    scenario = _scenario(request, scenario_id)
    params = (body or PlanRequest()).model_dump(exclude_none=True)
    checked(door.plan_params_of, params)
    # the forecast of another territory's job must not reach this one's plan
    check_source(request, scenario.territory_id, params.get("demand_job_id"), "demand")
    check_source(request, scenario.territory_id, params.get("base_job_id"), "plan")
    job = jobs.submit(
        get_store(request), scenario.territory_id, "plan", params, scenario_id=scenario_id
    )
    return JobOut.model_validate(job)


@router.get("/plans/compare", response_model=CompareOut, responses=R, tags=["plans"])
def compare_plans(
    request: Request,
    caller: Caller,
    a: Annotated[str, Query(min_length=1, max_length=36, description="plan job")],
    b: Annotated[str, Query(min_length=1, max_length=36, description="plan job")],
) -> CompareOut:
    """Two finished plans' KPIs side by side with the change b − a (planner, logistics)."""
    require(caller, "planner", "logistics")
    for job_id in (a, b):
        ensure_job(request, caller, job_id)
    job_a, job_b = finished(request, a, "plan"), finished(request, b, "plan")
    kpis_a = (job_a.summary or {}).get("kpis", {})
    kpis_b = (job_b.summary or {}).get("kpis", {})
    rows = []
    for key in list(dict.fromkeys([*kpis_a, *kpis_b])):
        va, vb = kpis_a.get(key), kpis_b.get(key)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (va, vb))
        rows.append(CompareRow(kpi=key, a=va, b=vb, change=(vb - va) if numbers else None))
    return CompareOut(
        a=a, b=b, scenario_a=job_a.scenario_id, scenario_b=job_b.scenario_id, kpis=rows
    )
