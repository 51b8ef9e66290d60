"""Jobs seen from the web pages: recent jobs, one job's state (polled for live progress)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api import jobs
from api.store.models import Job
from api.store.territories import NotFound
from api.web.base import not_found, territory_user
from api.web.fmt import STATUS_FR

router = APIRouter(include_in_schema=False)


def recent_jobs(
    request: Request, territory_id: str, *, kind: str | None = None, limit: int = 20
) -> list[Job]:
    rows, _ = jobs.list_jobs(
        request.app.state.store,
        kind=kind,
        status=None,
        territory_id=territory_id,
        limit=limit,
        offset=0,
        within=None,
    )
    return rows


def territory_job(request: Request, territory_id: str, job_id: str, kind: str | None = None) -> Job:
    """A job of this territory (and kind), else the 404 page: a job id from another
    territory reads as one that does not exist."""
    if len(job_id) > 36:
        raise not_found()
    try:
        job = jobs.get_job(request.app.state.store, job_id)
    except NotFound:
        raise not_found("Ce calcul n'existe pas.") from None
    if job.territory_id != territory_id or (kind is not None and job.kind != kind):
        raise not_found("Ce calcul n'existe pas.")
    return job


def job_state(job: Job) -> dict:
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "status": job.status,
        "status_fr": STATUS_FR.get(job.status, job.status),
        "progress": round(float(job.progress or 0.0), 3),
        "message": job.message or "",
        "error": job.error,
        "done": job.status in ("succeeded", "failed", "cancelled", "interrupted"),
    }


@router.get("/t/{territory_id}/travaux/{job_id}/etat")
def job_status(request: Request, territory_id: str, job_id: str) -> JSONResponse:
    """A job's status and progress, polled by the pages while it runs."""
    territory_user(request, territory_id, "planner", "logistics")
    job = territory_job(request, territory_id, job_id)
    return JSONResponse(job_state(job), headers={"Cache-Control": "no-store"})
