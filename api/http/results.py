"""Results of finished jobs, served from the store (never recomputed on read).

Plans and routes are readable by planners and logistics; a producer key reads only its own
contract, planned volumes (harvest) and pickup times.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from api import jobs
from api.http.deps import (
    READ_RESULTS,
    Caller,
    Rows,
    get_store,
    require,
    require_producer_access,
)
from api.http.frames import frame_of, page
from api.http.problems import conflict, responses
from api.http.schemas import JobOut, PickupsOut, RowsPage
from api.store.models import Job
from api.store.territories import NotFound

router = APIRouter(prefix="/v1", tags=["results"])

JobId = Annotated[str, Path(min_length=1, max_length=36, description="id of a finished job")]
Id = Annotated[str, Path(min_length=1, max_length=64)]
Filter = Annotated[str | None, Query(max_length=64)]
Format = Annotated[Literal["csv", "html"], Query(description="csv or printable html")]
R = responses(401, 403, 404, 409, 422)


def _content(*media: str) -> dict:
    def schema(m: str) -> dict:
        return {"type": "object"} if m.endswith("json") else {"type": "string"}

    return {
        **R,
        200: {
            "description": "the stored file",
            "content": {m: {"schema": schema(m)} for m in media},
        },
    }


def finished(request: Request, job_id: str, kind: str) -> Job:
    """A succeeded job of ``kind`` (cached: finished jobs never change); 404 / 409 otherwise."""
    cache = request.app.state.results
    job = cache.get(("job", job_id))
    if job is not None:
        if job.kind != kind:
            raise NotFound(f"job {job_id} is a {job.kind} job, not a {kind} job")
        return job
    job = jobs.get_job(get_store(request), job_id)
    if job.kind != kind:
        raise NotFound(f"job {job_id} is a {job.kind} job, not a {kind} job")
    if job.status != "succeeded":
        why = f": {job.error}" if job.error else ""
        raise conflict(
            f"job {job_id} is {job.status}{why}; results exist only for succeeded "
            "jobs"
            + (
                " (re-run it: POST /v1/jobs/{id}/rerun)"
                if job.status in ("interrupted", "failed", "cancelled")
                else ""
            )
        )
    cache.put(("job", job_id), job, 4096)
    return job


def stored(request: Request, job_id: str, name: str) -> tuple[bytes, str]:
    """A job's stored output (bytes, media type), from memory when hot."""
    cache = request.app.state.results
    hit = cache.get(("art", job_id, name))
    if hit is None:
        hit = jobs.artifact(get_store(request), job_id, name)
        cache.put(("art", job_id, name), hit, len(hit[0]))
    return hit


def raw(request: Request, job_id: str, name: str) -> Response:
    content, media = stored(request, job_id, name)
    return Response(content, media_type=media)


def _summary(request: Request, job: Job) -> Response:
    cache = request.app.state.results
    body = cache.get(("summary", job.job_id))
    if body is None:
        body = JobOut.model_validate(job).model_dump_json().encode()
        cache.put(("summary", job.job_id), body, len(body))
    return Response(body, media_type="application/json")


def _files(request: Request, job_id: str) -> list[str]:
    cache = request.app.state.results
    names = cache.get(("names", job_id))
    if names is None:
        names = jobs.artifact_names(get_store(request), job_id)
        cache.put(("names", job_id), names, 64 * len(names))
    return names


# ----------------------------------------------------------------------------- demand


DemandTable = Literal["weekly", "forecast", "hub_forecast", "rejects", "caisse_ledger"]


@router.get("/demand/{job_id}", response_model=JobOut, responses=R, tags=["demand"])
async def demand_result(request: Request, caller: Caller, job_id: JobId) -> Response:
    """A finished demand job: history and forecast sizes, season kg (planner, logistics)."""
    require(caller, *READ_RESULTS)
    return _summary(request, finished(request, job_id, "demand"))


@router.get("/demand/{job_id}/{table}", response_model=RowsPage, responses=R, tags=["demand"])
def demand_table(
    request: Request,
    caller: Caller,
    job_id: JobId,
    table: DemandTable,
    rows: Rows,
    site_id: Filter = None,
    product_id: Filter = None,
    week_start: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
) -> dict:
    """A page of weekly demand, forecast, hub forecast, rejects or the caisse ledger."""
    require(caller, *READ_RESULTS)
    finished(request, job_id, "demand")
    content, _ = stored(request, job_id, f"{table}.csv")
    frame = frame_of(request.app.state.results, (job_id, table), content)
    if week_start is not None and "week_start" in frame.columns:
        frame = frame.loc[frame["week_start"].str[:10] == week_start]
    return page(frame, {"site_id": site_id, "product_id": product_id}, rows)


# ----------------------------------------------------------------------------- plans


@router.get("/plans/{job_id}", response_model=JobOut, responses=R, tags=["plans"])
async def plan_result(request: Request, caller: Caller, job_id: JobId) -> Response:
    """A solved plan: status, objective, bound, gap, KPIs, what is short and why."""
    require(caller, *READ_RESULTS)
    return _summary(request, finished(request, job_id, "plan"))


FILE_TYPES = (
    "text/csv",
    "text/html",
    "text/markdown",
    "application/json",
    "application/geo+json",
    "application/octet-stream",
)


def file_routes(router: APIRouter, kind: str, prefix: str, tag: str, what: str) -> None:
    """``GET /v1/{prefix}/{job_id}/files`` (names) and ``…/files/{name}`` (one file) of a
    finished ``kind`` job, readable by planners and logistics."""

    async def names(request: Request, caller: Caller, job_id: JobId) -> list[str]:
        require(caller, *READ_RESULTS)
        finished(request, job_id, kind)
        return _files(request, job_id)

    async def one(
        request: Request,
        caller: Caller,
        job_id: JobId,
        name: Annotated[str, Path(min_length=1, max_length=300)],
    ) -> Response:
        require(caller, *READ_RESULTS)
        finished(request, job_id, kind)
        return raw(request, job_id, name)

    singular = prefix.removesuffix("s")
    router.add_api_route(
        f"/{prefix}/{{job_id}}/files",
        names,
        methods=["GET"],
        name=f"{singular}_files",
        description=f"Names of the {what}'s stored files (planner, logistics).",
        response_model=list[str],
        responses=R,
        tags=[tag],
    )
    router.add_api_route(
        f"/{prefix}/{{job_id}}/files/{{name:path}}",
        one,
        methods=["GET"],
        name=f"{singular}_file",
        description=f"One stored file of the {what} (planner, logistics).",
        response_class=Response,
        responses=_content(*FILE_TYPES),
        tags=[tag],
    )


file_routes(router, "plan", "plans", "plans", "plan")


def _contract_files(request: Request, job_id: str) -> dict[str, dict[str, str]]:
    """producer_id → {"csv": name, "html": name} from the plan's contracts/ folder."""
    cache = request.app.state.results
    found = cache.get(("contracts", job_id))
    if found is None:
        found = {}
        for name in _files(request, job_id):
            if not name.startswith("contracts/"):
                continue
            stem, _, ext = name.removeprefix("contracts/").rpartition(".")
            if ext in ("csv", "html"):
                producer = stem.removeprefix("contract_")
                found.setdefault(producer, {})[ext] = name
        cache.put(("contracts", job_id), found, 256 * max(len(found), 1))
    return found


@router.get("/plans/{job_id}/contracts", response_model=list[str], responses=R, tags=["plans"])
async def plan_contracts(request: Request, caller: Caller, job_id: JobId) -> list[str]:
    """Producers with a contract in this plan (planner, logistics)."""
    require(caller, *READ_RESULTS)
    finished(request, job_id, "plan")
    return sorted(_contract_files(request, job_id))


@router.get(
    "/plans/{job_id}/contracts/{producer_id}",
    response_class=Response,
    responses=_content("text/csv", "text/html"),
    tags=["plans"],
)
async def plan_contract(
    request: Request, caller: Caller, job_id: JobId, producer_id: Id, format: Format = "csv"
) -> Response:
    """One producer's contract: planned volumes per week at the fair price (CSV or HTML).

    A producer key reads only its own contract.
    """
    require_producer_access(caller, producer_id)
    finished(request, job_id, "plan")
    files = _contract_files(request, job_id).get(producer_id)
    if not files or format not in files:
        raise NotFound(f"plan {job_id} has no contract for producer {producer_id!r}")
    return raw(request, job_id, files[format])


@router.get("/plans/{job_id}/harvest", response_model=RowsPage, responses=R, tags=["plans"])
def plan_harvest(
    request: Request,
    caller: Caller,
    job_id: JobId,
    rows: Rows,
    producer_id: Filter = None,
    site_id: Filter = None,
    product_id: Filter = None,
) -> dict:
    """Planned weekly volumes per farm and product; a producer key must filter on itself."""
    if caller.role == "producer":
        if producer_id is None:
            producer_id = caller.producer_id
        require_producer_access(caller, producer_id)
    finished(request, job_id, "plan")
    content, _ = stored(request, job_id, "harvest.csv")
    frame = frame_of(request.app.state.results, (job_id, "harvest"), content)
    if producer_id is not None and "producer_id" not in frame.columns:
        raise NotFound("this plan's harvest has no producer_id column")
    return page(
        frame, {"producer_id": producer_id, "site_id": site_id, "product_id": product_id}, rows
    )


# ----------------------------------------------------------------------------- routes


@router.get("/routes/{job_id}", response_model=JobOut, responses=R, tags=["routes"])
async def route_result(request: Request, caller: Caller, job_id: JobId) -> Response:
    """A solved week: km, hours, cost, CO2, load, unserved stops (planner, logistics)."""
    require(caller, *READ_RESULTS)
    return _summary(request, finished(request, job_id, "routes"))


@router.get(
    "/routes/{job_id}/geojson",
    response_class=Response,
    tags=["routes"],
    responses=_content("application/geo+json"),
)
async def route_geojson(request: Request, caller: Caller, job_id: JobId) -> Response:
    """The week's routes and stops as GeoJSON (planner, logistics)."""
    require(caller, *READ_RESULTS)
    finished(request, job_id, "routes")
    return raw(request, job_id, "routes.geojson")


file_routes(router, "routes", "routes", "routes", "week")


@router.get("/routes/{job_id}/sheets", response_model=list[str], responses=R, tags=["routes"])
async def route_sheets(request: Request, caller: Caller, job_id: JobId) -> list[str]:
    """The route sheets of the week as ``day/vehicle_id`` (planner, logistics)."""
    require(caller, *READ_RESULTS)
    finished(request, job_id, "routes")
    return [
        n.removeprefix("sheets/").removesuffix(".csv").replace("_", "/", 1)
        for n in _files(request, job_id)
        if n.startswith("sheets/") and n.endswith(".csv")
    ]


@router.get(
    "/routes/{job_id}/sheets/{day}/{vehicle_id}",
    response_class=Response,
    responses=_content("text/csv", "text/html"),
    tags=["routes"],
)
async def route_sheet(
    request: Request, caller: Caller, job_id: JobId, day: Id, vehicle_id: Id, format: Format = "csv"
) -> Response:
    """One vehicle's route sheet for one day: stops, times, loads (CSV or printable HTML)."""
    require(caller, *READ_RESULTS)
    finished(request, job_id, "routes")
    return raw(request, job_id, f"sheets/{day}_{vehicle_id}.{format}")


def _week_table(request: Request, caller, job_id: str, name: str):
    """The week's stored table ``<name>.csv`` as a frame (cached), for planners and logistics."""
    require(caller, *READ_RESULTS)
    finished(request, job_id, "routes")
    content, _ = stored(request, job_id, f"{name}.csv")
    return frame_of(request.app.state.results, (job_id, name), content)


@router.get("/routes/{job_id}/stops", response_model=RowsPage, responses=R, tags=["routes"])
def route_stops(
    request: Request,
    caller: Caller,
    job_id: JobId,
    rows: Rows,
    day: Filter = None,
    vehicle_id: Filter = None,
    site_id: Filter = None,
) -> dict:
    """A page of the week's stops, filtered by day, vehicle or site (planner, logistics)."""
    return page(
        _week_table(request, caller, job_id, "stops"),
        {"day": day, "vehicle_id": vehicle_id, "site_id": site_id},
        rows,
    )


@router.get("/routes/{job_id}/unserved", response_model=RowsPage, responses=R, tags=["routes"])
def route_unserved(
    request: Request,
    caller: Caller,
    job_id: JobId,
    rows: Rows,
    day: Filter = None,
    site_id: Filter = None,
) -> dict:
    """Stops that could not be served and why (planner, logistics)."""
    frame = _week_table(request, caller, job_id, "unserved")
    return page(frame, {"day": day, "site_id": site_id}, rows)


@router.get(
    "/routes/{job_id}/pickups/{producer_id}",
    response_model=PickupsOut,
    responses=R,
    tags=["routes"],
)
async def route_pickups(
    request: Request, caller: Caller, job_id: JobId, producer_id: Id
) -> PickupsOut:
    """When the trucks pick up at one producer's farm this week (a producer: only their own)."""
    require_producer_access(caller, producer_id)
    job = finished(request, job_id, "routes")
    content, _ = stored(request, job_id, "pickups_by_producer.json")
    cache = request.app.state.results
    table = cache.get(("pickups", job_id))
    if table is None:
        table = json.loads(content)
        cache.put(("pickups", job_id), table, len(content) * 2)
    if producer_id not in table:
        raise NotFound(f"producer {producer_id!r} is not in this territory")
    return PickupsOut(
        job_id=job_id,
        producer_id=producer_id,
        week=int(job.params["week"]),
        pickups=table[producer_id],
    )
