"""Scenario sweeps over HTTP: a ``sweep`` job (as ``vivres sweep``) and its table of runs.

``POST /v1/territories/{territory_id}/sweeps`` runs the territory's plan for each of its stored
scenarios (and the base) × seeds (× a grid of generated scenarios); every run is one row of
``runs.parquet`` (also served as JSON rows) with its KPIs, gap, time and status, or its error.
The runner (``api.jobs.runners.run_sweep``) calls the same ``api.sweep`` functions as the
command line.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from api.http.deps import READ_RESULTS, Caller, Rows, get_store, require
from api.http.frames import frame_of, page
from api.http.problems import responses
from api.http.results import file_routes, finished, stored
from api.http.schemas import JobOut, RowsPage, Strict
from api.store.models import Scenario
from core.errors import InputError, RowError

router = APIRouter(prefix="/v1", tags=["sweeps"])
R = responses(401, 403, 404, 409, 422)
TerritoryId = Annotated[str, Path(min_length=1, max_length=64)]
JobId = Annotated[str, Path(min_length=1, max_length=36, description="id of a finished job")]
#: runs in one sweep job (a job is one worker's work: bigger sweeps go to ``vivres sweep``)
MAX_RUNS = 256


class SweepPlan(Strict):
    """The plan options of every run (``vivres sweep``'s ``plan:``)."""

    work: float | None = Field(None, gt=0, le=1000, description="scale of the work budget")
    time_limit_s: float | None = Field(None, ge=0.5, le=3600, description="safety cap, s")
    stop: str | None = Field(None, max_length=8, description="work (default) or time")
    gap: float | None = Field(None, ge=0, lt=1, description="relative MIP gap to stop at")
    horizon_weeks: int | None = Field(None, ge=1, le=52, strict=True)
    budget_eur: float | None = Field(None, ge=0, le=1e12)
    forecast: bool = Field(False, strict=True, description="plan against a new forecast")


class SweepRequest(Strict):
    """Plan the territory once per scenario × seed (× grid value)."""

    scenarios: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(
        default_factory=lambda: ["base"],
        min_length=1,
        max_length=50,
        description='"base" and/or ids of this territory\'s stored scenarios',
    )
    seeds: list[Annotated[int, Field(ge=0, le=2**31 - 1, strict=True)]] = Field(
        default_factory=lambda: [0], min_length=1, max_length=50
    )
    grid: dict[str, list[float]] = Field(
        default_factory=dict,
        max_length=4,
        description='generated scenarios, e.g. {"demand_factor": [0.9, 1.1]}',
    )
    plan: SweepPlan = Field(default_factory=SweepPlan)
    workers: int = Field(
        1, ge=1, le=8, strict=True, description="1: in the job's worker; 2+: a Dask LocalCluster"
    )


def _error(column: str, message: str, value: object = None) -> InputError:
    return InputError(
        [RowError(file="body", row=None, column=column, message=message, value=value)]
    )


def check_sweep(store, territory_id: str, body: SweepRequest) -> dict:
    """The job's options, checked now: scenarios of this territory, grid keys, plan options,
    the number of runs (422 naming the JSON field)."""
    from api import sweep as sw
    from api.params import plan_params

    with store.sessions() as session:
        for i, scenario_id in enumerate(body.scenarios):
            if scenario_id == sw.BASE:
                continue
            scenario = session.get(Scenario, scenario_id)
            if scenario is None or scenario.territory_id != territory_id:
                raise _error(f"scenarios[{i}]", "no such scenario in this territory", scenario_id)
    try:
        grid = sw.grid_scenarios(body.grid)
    except InputError as exc:
        raise _error("grid", exc.errors[0].message) from None
    plan = body.plan.model_dump(exclude_none=True)
    options = {k: v for k, v in plan.items() if k != "forecast"}
    try:
        plan_params(**options)
    except InputError as exc:
        first = exc.errors[0]
        raise _error(f"plan.{first.column or ''}".rstrip("."), first.message, first.value) from None
    runs = (len(set(body.scenarios)) + len(grid)) * len(set(body.seeds))
    if runs > MAX_RUNS:
        raise _error("seeds", f"{runs} runs: at most {MAX_RUNS} in one job (vivres sweep for more)")
    return {
        "scenarios": list(dict.fromkeys(body.scenarios)),
        "seeds": list(dict.fromkeys(body.seeds)),
        "grid": body.grid,
        "plan": plan,
        "workers": body.workers,
    }


@router.post(
    "/territories/{territory_id}/sweeps", response_model=JobOut, status_code=202, responses=R
)
def submit_sweep(
    request: Request, caller: Caller, territory_id: TerritoryId, body: SweepRequest
) -> JobOut:
    """Queue a sweep of plans: scenarios × seeds (planner); returns the job at once."""
    from api import jobs

    require(caller, "planner")
    store = get_store(request)
    params = check_sweep(store, territory_id, body)
    job = jobs.submit(store, territory_id, "sweep", params)
    return JobOut.model_validate(job)


@router.get("/sweeps/{job_id}", response_model=JobOut, responses=R)
async def sweep_result(request: Request, caller: Caller, job_id: JobId) -> Response:
    """A finished sweep: runs, errors, scenarios and seeds (planner, logistics)."""
    from api.http.results import _summary

    require(caller, *READ_RESULTS)
    return _summary(request, finished(request, job_id, "sweep"))


@router.get("/sweeps/{job_id}/runs", response_model=RowsPage, responses=R)
def sweep_runs(
    request: Request,
    caller: Caller,
    job_id: JobId,
    rows: Rows,
    scenario: Annotated[str | None, Query(max_length=300)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> dict:
    """A page of the sweep's runs: one row per plan (KPIs, gap, seconds, status, error)."""
    require(caller, *READ_RESULTS)
    finished(request, job_id, "sweep")
    content, _ = stored(request, job_id, "runs.csv")
    frame = frame_of(request.app.state.results, (job_id, "runs"), content)
    return page(frame, {"scenario": scenario, "status": status}, rows)


# names of the sweep's stored files (runs.parquet, runs.csv, summary.csv/.html) and one of them
file_routes(router, "sweep", "sweeps", "sweeps", "sweep")
