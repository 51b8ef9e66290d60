"""Jobs: status, progress, logs, cancel and re-run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api import jobs
from api.http.access import territories_of
from api.http.deps import Caller, Limit, Offset, get_store, require
from api.http.problems import responses
from api.http.schemas import JobKind, JobOut, JobPage, JobStatus, LogLine

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

JobId = Annotated[str, Path(min_length=1, max_length=36, description="job id")]
R = responses(401, 403, 404, 422)


@router.get("", response_model=JobPage, responses=responses(401, 403, 422))
def list_jobs(
    request: Request,
    caller: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    kind: JobKind | None = None,
    status: JobStatus | None = None,
    territory_id: Annotated[str | None, Query(max_length=64)] = None,
) -> JobPage:
    """Jobs, newest first, filtered by kind, status and territory (planner, logistics)."""
    require(caller, "planner", "logistics")
    rows, total = jobs.list_jobs(
        get_store(request),
        kind=kind,
        status=status,
        territory_id=territory_id,
        limit=limit,
        offset=offset,
        within=territories_of(caller),
    )
    return JobPage(
        items=[JobOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{job_id}", response_model=JobOut, responses=R)
def get_job(request: Request, caller: Caller, job_id: JobId) -> JobOut:
    """A job's status, progress and summary (planner, logistics)."""
    require(caller, "planner", "logistics")
    return JobOut.model_validate(jobs.get_job(get_store(request), job_id))


@router.get("/{job_id}/logs", response_model=list[LogLine], responses=R)
def get_logs(
    request: Request,
    caller: Caller,
    job_id: JobId,
    after: Annotated[
        int,
        Query(
            ge=0, le=2**62, description="only lines with a larger log_id (to follow a running job)"
        ),
    ] = 0,
    limit: Limit = 200,
) -> list[LogLine]:
    """A job's log lines, oldest first (planner, logistics)."""
    require(caller, "planner", "logistics")
    return [
        LogLine.model_validate(r)
        for r in jobs.job_logs(get_store(request), job_id, after=after, limit=limit)
    ]


def _manage(request: Request, caller, job_id: str):
    require(caller, "planner", "logistics")
    job = jobs.get_job(get_store(request), job_id)
    if caller.role == "logistics" and job.kind not in ("routes", "week"):
        require(caller, "planner")
    return job


@router.post("/{job_id}/cancel", response_model=JobOut, responses=R)
def cancel_job(request: Request, caller: Caller, job_id: JobId) -> JobOut:
    """Cancel a queued or running job (planner; logistics for route and week jobs)."""
    _manage(request, caller, job_id)
    return JobOut.model_validate(jobs.cancel(get_store(request), job_id))


@router.post("/{job_id}/rerun", response_model=JobOut, status_code=202, responses=R)
def rerun_job(request: Request, caller: Caller, job_id: JobId) -> JobOut:
    """Queue a copy of a finished (e.g. interrupted) job (planner; logistics for routes and
    weeks)."""
    _manage(request, caller, job_id)
    return JobOut.model_validate(jobs.rerun(get_store(request), job_id))
