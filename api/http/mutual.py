"""Mutualisation over HTTP: a ``mutualisation`` job (as ``vivres mutualisation``) and its
files (the report's CSV, .xlsx twins, JSON and printable page).

``POST /v1/territories/{territory_id}/mutualisations`` checks the request (weeks, cost rates,
routing knobs, a week without orders: 422 naming the JSON field) and queues the job; the
runner (``api.jobs.runners.run_mutualisation``) calls the pipeline as the command line does.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from api import params as door
from api.http.deps import READ_RESULTS, Caller, get_store, require
from api.http.problems import responses
from api.http.results import file_routes
from api.http.schemas import JobOut, Strict
from api.http.week import _body_error, _stored
from api.store import territories as store_t
from core.errors import InputError

router = APIRouter(prefix="/v1", tags=["mutualisation"])
R = responses(401, 403, 404, 409, 422)
TerritoryId = Annotated[str, Path(min_length=1, max_length=64)]
JobId = Annotated[str, Path(min_length=1, max_length=36, description="id of a finished job")]


class MutualRequest(Strict):
    """Each organisation alone vs pooled, and the split of the pooled cost."""

    weeks: list[Annotated[str, Field(min_length=7, max_length=10)]] = Field(
        ..., min_length=1, max_length=8, description="ISO weeks (2025-W50) or dates in them"
    )
    plan_job_id: str | None = Field(
        None, max_length=36, description="supply of unconfirmed products from this plan's harvest"
    )
    vehicle_day_eur: float | None = Field(None, ge=0, le=10_000, description="€ per vehicle-day")
    outsourced_eur_per_kg: float | None = Field(
        None, ge=0, le=100, description="carrier's €/kg for what a coalition cannot carry"
    )
    num_orders: int | None = Field(
        None, ge=2, le=5000, strict=True, description="sampled Shapley (beyond 10 organisations)"
    )
    time_limit_s: float | None = Field(None, ge=0.5, le=3600, description="routing cap (s)")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, strict=True)
    knobs: dict[str, Any] = Field(
        default_factory=dict, max_length=64, description="routing.RouteParams fields"
    )


def check_mutual(store, territory_id: str, body: MutualRequest) -> dict:
    """The job's options, once every field is known to be usable (422 otherwise)."""
    from api import week as wk

    store_t.territory_row(store, territory_id)  # unknown territory: 404
    params = body.model_dump(exclude_none=True)
    try:
        door.route_params_of(params)
    except InputError as exc:
        raise _body_error("knobs", str(exc)) from None
    dates = _stored(store, territory_id, "orders", usecols=["date"])
    day = pd.to_datetime(dates["date"], errors="coerce") if dates is not None else None
    mondays = []
    for i, text in enumerate(body.weeks):
        try:
            monday = wk.parse_week(text, field_name=f"weeks[{i}]")
        except InputError:
            raise _body_error(
                f"weeks[{i}]", "expected an ISO week (2025-W50) or a date", text
            ) from None
        end = monday + pd.Timedelta(days=7)
        if day is None or not ((day >= monday) & (day < end)).any():
            raise _body_error(f"weeks[{i}]", f"no order in week {wk.week_label(monday)}", text)
        mondays.append(str(monday.date()))
    if len(set(mondays)) < len(mondays):
        raise _body_error("weeks", "the same week twice", body.weeks)
    params["week_starts"] = mondays
    return params


@router.post(
    "/territories/{territory_id}/mutualisations",
    response_model=JobOut,
    status_code=202,
    responses=R,
)
def solve_mutual(
    request: Request, caller: Caller, territory_id: TerritoryId, body: MutualRequest
) -> JobOut:
    """Queue the mutualisation report: every coalition's week, Shapley, core, keys
    (planner); returns the job at once."""
    from api import jobs
    from api.http.territories import check_source

    require(caller, "planner")
    store = get_store(request)
    params = check_mutual(store, territory_id, body)
    check_source(request, territory_id, params.get("plan_job_id"), "plan")
    job = jobs.submit(store, territory_id, "mutualisation", params)
    return JobOut.model_validate(job)


@router.get("/mutualisations/{job_id}", response_model=JobOut, responses=R)
async def mutual_result(request: Request, caller: Caller, job_id: JobId) -> Response:
    """A finished report: pooled vs stand-alone, the split, the core verdict."""
    from api.http.results import _summary, finished

    require(caller, *READ_RESULTS)
    return _summary(request, finished(request, job_id, "mutualisation"))


file_routes(router, "mutualisation", "mutualisations", "mutualisation", "mutualisation report")
