"""Territories: load or replace their tables, upload orders and caisse payments, submit jobs."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import jobs
from api import params as door
from api.http.access import territories_of
from api.http.bodies import TABLE_BODY, TERRITORY_BODY, read_table_upload, read_territory_upload
from api.http.deps import Caller, Limit, Offset, Paging, get_store, require
from api.http.frames import frame_of, page
from api.http.problems import responses
from api.http.schemas import (
    DemandRequest,
    FreezeRequest,
    JobKind,
    JobOut,
    LatestOut,
    PlanRequest,
    RouteRequest,
    RowsPage,
    TableName,
    TerritoryOut,
    TerritoryPage,
    UploadOut,
)
from api.store import territories as store_t
from core.csvio import read_csv_any

router = APIRouter(prefix="/v1/territories", tags=["territories"])

TerritoryId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="territory id (a slug)",
    ),
]
KeepValid = Annotated[
    bool,
    Query(
        description="store the valid rows and report the rejected "
        "ones, instead of rejecting the whole upload"
    ),
]
R = responses(401, 403, 404, 422)


def _out(store, territory_id: str) -> TerritoryOut:
    row = store_t.territory_row(store, territory_id)
    return TerritoryOut(
        territory_id=row.territory_id,
        name=row.name,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tables=store_t.table_stats(store, territory_id),
    )


def _report(report: store_t.UploadReport) -> UploadOut:
    return UploadOut(
        territory_id=report.territory_id,
        version=report.version,
        applied=report.applied,
        tables=report.tables,
        received_rows=report.received_rows,
        accepted_rows=report.accepted_rows,
        num_rejected=report.num_rejected,
        rejects=report.rejects,
    )


@router.get("", response_model=TerritoryPage, responses=responses(401, 403, 422))
def list_territories(
    request: Request, caller: Caller, limit: Limit = 50, offset: Offset = 0
) -> TerritoryPage:
    """List territories (planner, logistics)."""
    require(caller, "planner", "logistics")
    store = get_store(request)
    rows, total = store_t.list_territories(
        store, limit=limit, offset=offset, within=territories_of(caller)
    )
    return TerritoryPage(
        items=[_out(store, r.territory_id) for r in rows], total=total, limit=limit, offset=offset
    )


@router.put(
    "/{territory_id}",
    response_model=UploadOut,
    openapi_extra=TERRITORY_BODY,
    responses=responses(401, 403, 413, 415, 422),
)
async def put_territory(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    keep_valid: KeepValid = False,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> UploadOut:
    """Create or replace a whole territory (planner).

    Send every table as a multipart field named by the table (``sites``, ``products``, …), or
    the territory folder as a zip. The whole territory is validated as ``vivres check`` does;
    on any bad row nothing is stored (422 naming file, row and column) unless ``keep_valid``.
    """
    require(caller, "planner")
    uploads = await read_territory_upload(request)
    report = await run_in_threadpool(
        store_t.put_territory,
        get_store(request),
        territory_id,
        uploads,
        name=name,
        keep_valid=keep_valid,
    )
    request.app.state.results.clear()  # a replaced territory's old results are not served
    return _report(report)


@router.get("/{territory_id}", response_model=TerritoryOut, responses=R)
def get_territory(request: Request, caller: Caller, territory_id: TerritoryId) -> TerritoryOut:
    """A territory's tables, their row counts and version (planner, logistics)."""
    require(caller, "planner", "logistics")
    return _out(get_store(request), territory_id)


@router.delete("/{territory_id}", status_code=204, responses=R)
def delete_territory(request: Request, caller: Caller, territory_id: TerritoryId) -> Response:
    """Delete a territory with its jobs, results and scenarios (planner)."""
    require(caller, "planner")
    store_t.delete_territory(get_store(request), territory_id)
    request.app.state.results.clear()  # nothing of a deleted territory is served any more
    return Response(status_code=204)


@router.get(
    "/{territory_id}/tables/{table}",
    responses={
        **R,
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "the stored table as CSV",
        },
    },
    response_class=Response,
)
def get_table(
    request: Request, caller: Caller, territory_id: TerritoryId, table: TableName
) -> Response:
    """One stored table as CSV (planner, logistics)."""
    require(caller, "planner", "logistics")
    content = store_t.table_content(get_store(request), territory_id, table)
    return Response(content, media_type="text/csv; charset=utf-8")


@router.get("/{territory_id}/tables/{table}/rows", response_model=RowsPage, responses=R)
def get_table_rows(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    table: TableName,
    limit: Limit = 50,
    offset: Offset = 0,
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    product_id: Annotated[str | None, Query(max_length=64)] = None,
    producer_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    """A page of one table's rows as objects, filtered by id columns (planner, logistics)."""
    require(caller, "planner", "logistics")
    store = get_store(request)
    content = store_t.table_content(store, territory_id, table)
    digest = hashlib.sha256(content).hexdigest()
    frame = frame_of(request.app.state.results, ("table", territory_id, table, digest), content)
    return page(
        frame,
        {"site_id": site_id, "product_id": product_id, "producer_id": producer_id},
        Paging(limit=limit, offset=offset),
    )


@router.put(
    "/{territory_id}/tables/{table}",
    response_model=UploadOut,
    openapi_extra=TABLE_BODY,
    responses=responses(401, 403, 404, 413, 415, 422),
)
async def put_table(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    table: TableName,
    keep_valid: KeepValid = False,
) -> UploadOut:
    """Replace one table; the territory is re-validated with it in place (planner)."""
    require(caller, "planner")
    upload = await read_table_upload(request, table)
    report = await run_in_threadpool(
        store_t.put_table, get_store(request), territory_id, upload, keep_valid=keep_valid
    )
    return _report(report)


Mode = Annotated[
    Literal["append", "replace"],
    Query(description="append the rows to the stored ones, or replace them"),
]


def _activity_route(path: str, table: str, name: str, doc: str, roles: tuple[str, ...]) -> None:
    """``POST /v1/territories/{id}/<path>``: append (or replace) rows of an activity table."""

    async def upload(
        request: Request,
        caller: Caller,
        territory_id: TerritoryId,
        mode: Mode = "append",
        keep_valid: KeepValid = False,
    ) -> UploadOut:
        require(caller, *roles)
        found = await read_table_upload(request, table)
        report = await run_in_threadpool(
            store_t.put_table,
            get_store(request),
            territory_id,
            found,
            keep_valid=keep_valid,
            append=mode == "append",
        )
        return _report(report)

    router.add_api_route(
        f"/{{territory_id}}/{path}",
        upload,
        methods=["POST"],
        name=name,
        description=doc,
        response_model=UploadOut,
        openapi_extra=TABLE_BODY,
        responses=responses(401, 403, 404, 413, 415, 422),
    )


_activity_route(
    "orders",
    "orders",
    "upload_orders",
    "Upload grocery orders (planner, logistics: the week's orders as the web page takes "
    "them).\n\nRows are checked as the command line does; with a rejected row nothing is "
    "stored (422, one entry per bad cell) unless ``keep_valid``, which stores the valid rows "
    "and returns the rejects report.",
    ("planner", "logistics"),
)
_activity_route(
    "caisse-transactions",
    "caisse_transactions",
    "upload_transactions",
    "Upload caisse payments (planner); same checks and report as orders.",
    ("planner",),
)


@router.get("/{territory_id}/caisse-ledger", response_model=RowsPage, responses=R)
def caisse_ledger(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    rule: Annotated[
        str | None, Query(max_length=200, description="allocation rule name or 'FIRST+EXTRA' euros")
    ] = None,
    extra_households: Annotated[int, Query(ge=0, le=100000)] = 0,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict:
    """The caisse ledger per month, optionally under a what-if (planner)."""
    import pandas as pd

    from api import pipeline

    require(caller, "planner")
    store = get_store(request)
    row = store_t.territory_row(store, territory_id)
    # (created_at, version) names one stored state, even across a delete and re-create
    key = ("ledger", territory_id, row.created_at, row.version, rule, extra_households)
    cache = request.app.state.results
    ledger = cache.get(key)
    if ledger is None:  # a stored territory version never changes: compute once per what-if
        with store_t.checked_out(store, territory_id) as (folder, _):
            territory = pipeline.load(folder, strict=False)
            ledger = pipeline.caisse_ledger(territory, rule=rule, extra_households=extra_households)
        ledger = ledger.astype(
            {c: str for c in ledger.columns if not pd.api.types.is_numeric_dtype(ledger[c])}
        ).astype(str)
        cache.put(key, ledger, 64 * ledger.size + 1024)
    return page(ledger, {}, Paging(limit=limit, offset=offset))


@router.get("/{territory_id}/latest", response_model=LatestOut, responses=R)
def latest_job(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    kind: Annotated[JobKind, Query(description="plan, routes or demand")] = "plan",
    week: Annotated[int | None, Query(ge=1, le=53, description="routes of this week only")] = None,
) -> LatestOut:
    """The newest succeeded job of a kind (any key: producers find their contract with it)."""
    from sqlalchemy import select

    from api.store.models import Job

    query = select(Job).where(
        Job.territory_id == territory_id, Job.kind == kind, Job.status == "succeeded"
    )
    with get_store(request).sessions() as session:
        candidates = session.scalars(query.order_by(Job.finished_at.desc()).limit(500))
        for job in candidates:
            if week is None or int(job.params.get("week", 0)) == week:
                return LatestOut.model_validate(job)
    store_t.territory_row(get_store(request), territory_id)
    raise store_t.NotFound(
        f"territory {territory_id!r} has no succeeded {kind} job"
        + (f" for week {week}" if week else "")
    )


def _submit(
    request: Request, territory_id: str, kind: str, params: dict, scenario_id: str | None = None
) -> JobOut:
    job = jobs.submit(get_store(request), territory_id, kind, params, scenario_id=scenario_id)
    return JobOut.model_validate(job)


@router.post("/{territory_id}/demand", response_model=JobOut, status_code=202, responses=R)
def solve_demand(
    request: Request, caller: Caller, territory_id: TerritoryId, body: DemandRequest | None = None
) -> JobOut:
    """Queue a demand build and season forecast (planner); returns the job at once."""
    require(caller, "planner")
    params = (body or DemandRequest()).model_dump()
    checked(door.demand_settings_of, params)
    return _submit(request, territory_id, "demand", params)


@router.post("/{territory_id}/plans", response_model=JobOut, status_code=202, responses=R)
def solve_plan(
    request: Request, caller: Caller, territory_id: TerritoryId, body: PlanRequest | None = None
) -> JobOut:
    """Queue a season plan solve (planner); returns the job at once."""
    require(caller, "planner")
    params = (body or PlanRequest()).model_dump(exclude_none=True)
    checked(door.plan_params_of, params)
    check_source(request, territory_id, params.get("demand_job_id"), "demand")
    check_source(request, territory_id, params.get("base_job_id"), "plan")
    return _submit(request, territory_id, "plan", params)


@router.post("/{territory_id}/routes", response_model=JobOut, status_code=202, responses=R)
def solve_routes(
    request: Request, caller: Caller, territory_id: TerritoryId, body: RouteRequest
) -> JobOut:
    """Queue the routes of one week (planner, logistics); returns the job at once."""
    require(caller, "planner", "logistics")
    params = body.model_dump(exclude_none=True)
    checked(door.route_params_of, params)
    check_source(request, territory_id, params.get("plan_job_id"), "plan")
    return _submit(request, territory_id, "routes", params)


def checked(build, params: dict) -> None:
    """Build a job's settings from its request now, so a bad value (an unknown pin's day, a
    route knob of the wrong type) is a 422 at submission, not a failed job later."""
    from core.errors import InputError, RowError

    try:
        build(params)
    except InputError as exc:
        raise InputError(
            [
                RowError(file="body", row=e.row, column=e.column, message=e.message, value=e.value)
                for e in exc.errors
            ]
        ) from None


def check_source(request: Request, territory_id: str, job_id: str | None, kind: str) -> None:
    """A job used as input must be a finished job of the right kind, of the same territory
    (another territory's job reads as one that does not exist)."""
    if job_id is None:
        return
    from core.errors import InputError, RowError

    try:
        job = jobs.get_job(get_store(request), job_id)
    except store_t.NotFound:
        job = None
    if job is not None and job.territory_id != territory_id:
        job = None
    if job is None or job.kind != kind or job.status != "succeeded":
        state = "does not exist" if job is None else f"is a {job.status} {job.kind} job"
        raise InputError(
            [
                RowError(
                    file="body",
                    row=None,
                    column=f"{kind}_job_id",
                    message=f"must name a succeeded {kind} job; {job_id} {state}",
                )
            ]
        )


def _stored_contracts(store, territory_id: str):
    """The territory's contracts table as stored (validated when it was), or None."""
    import io

    import pandas as pd

    store_t.territory_row(store, territory_id)  # an unknown territory: 404
    try:
        content = store_t.table_content(store, territory_id, "contracts")
    except store_t.NotFound:
        return None
    ids = {name: str for name in ("contract_id", "producer_id", "scope", "crop_id")}
    return pd.read_csv(
        io.BytesIO(content), dtype=ids, parse_dates=["frozen_on", "until", "plant_date"]
    )


@router.post(
    "/{territory_id}/contracts", response_model=UploadOut, responses=responses(401, 403, 404, 422)
)
def freeze_contract(
    request: Request, caller: Caller, territory_id: TerritoryId, body: FreezeRequest
) -> UploadOut:
    """Freeze a producer's lines of a plan job as a new version of its contract (planner): the
    territory's ``contracts`` table gets the rows (a new territory version); every later plan
    and what-if keeps them bed for bed."""

    import planner

    require(caller, "planner")
    check_source(request, territory_id, body.plan_job_id, "plan")
    store = get_store(request)
    content, _ = jobs.artifact(store, body.plan_job_id, "plan.csv")
    plan = read_csv_any(content, dtype={"producer_id": str, "crop_id": str})
    contracts = _stored_contracts(store, territory_id)
    rows = planner.freeze(
        plan,
        contracts,
        producer_id=body.producer_id,
        contract_id=body.contract_id,
        crops=tuple(body.crops),
        until=body.until,
    )
    table = planner.commitments.with_version(contracts, rows)
    upload = store_t.Upload(table="contracts", content=table.to_csv(index=False).encode("utf-8"))
    return _report(store_t.put_table(store, territory_id, upload))


@router.get("/{territory_id}/contracts/{contract_id}/diff", response_model=RowsPage, responses=R)
def contract_diff(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    contract_id: Annotated[str, Path(max_length=64)],
    old: Annotated[int | None, Query(alias="from", ge=1)] = None,
    new: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> RowsPage:
    """Two versions of a contract line by line (default: the last two), with the change in
    beds (planner; a producer, its own contracts)."""
    import planner
    from api.http.access import producer_visible

    require(caller, "planner", "producer")
    contracts = _stored_contracts(get_store(request), territory_id)
    mine = None if contracts is None else contracts.loc[contracts["contract_id"] == contract_id]
    if mine is None or mine.empty or not producer_visible(caller, mine["producer_id"].iat[0]):
        raise store_t.NotFound(f"contract {contract_id!r} not found")
    table = planner.contract_diff(contracts, contract_id, old, new)
    table["plant_date"] = [d.isoformat() for d in table["plant_date"]]
    items = table.to_dict(orient="records")
    return RowsPage(items=items, total=len(items), limit=len(items), offset=0)
