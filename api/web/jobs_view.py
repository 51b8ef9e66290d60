"""Jobs seen from the web pages: recent jobs, one job's state (polled for live progress)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from api import jobs
from api.store.models import Job
from api.store.territories import NotFound
from api.web.base import not_found, render, territory_user
from api.web.fmt import STATUS_FR
from api.web.messages import job_error_fr, text_fr
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import ROUTE_KINDS

router = APIRouter(include_in_schema=False)


def recent_jobs(
    request: Request,
    territory_id: str,
    *,
    kind: str | tuple[str, ...] | None = None,
    limit: int = 20,
) -> list[Job]:
    """The territory's newest jobs (of a kind, or of several), any status."""
    kinds = (kind,) if isinstance(kind, str) else kind or (None,)
    rows = []
    for one in kinds:
        found, _ = jobs.list_jobs(
            request.app.state.store,
            kind=one,
            status=None,
            territory_id=territory_id,
            limit=limit,
            offset=0,
            within=None,
        )
        rows += found
    return sorted(rows, key=lambda j: j.created_at, reverse=True)[:limit]


def territory_job(
    request: Request, territory_id: str, job_id: str, kind: str | tuple[str, ...] | None = None
) -> Job:
    """A job of this territory (and kind), else the 404 page: a job id from another
    territory reads as one that does not exist."""
    if len(job_id) > 36:
        raise not_found()
    try:
        job = jobs.get_job(request.app.state.store, job_id)
    except NotFound:
        raise not_found("Ce calcul n'existe pas.") from None
    kinds = (kind,) if isinstance(kind, str) else kind
    if job.territory_id != territory_id or (kinds is not None and job.kind not in kinds):
        raise not_found("Ce calcul n'existe pas.")
    return job


def job_state(job: Job) -> dict:
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "status": job.status,
        "status_fr": STATUS_FR.get(job.status, job.status),
        "progress": round(float(job.progress or 0.0), 3),
        "message": "" if job.status == "failed" else text_fr(job.message or ""),
        "error": job_error_fr(job.error),
        "done": job.status in ("succeeded", "failed", "cancelled", "interrupted"),
    }


@router.get("/t/{territory_id}/travaux/{job_id}/etat")
def job_status(request: Request, territory_id: str, job_id: str) -> JSONResponse:
    """A job's status and progress, polled by the pages while it runs."""
    territory_user(request, territory_id, "planner", "logistics")
    job = territory_job(request, territory_id, job_id)
    return JSONResponse(job_state(job), headers={"Cache-Control": "no-store"})


def result_url(territory_id: str, job: Job) -> str:
    """Where a finished job's results are shown."""
    base = f"/t/{territory_id}"
    if job.kind == "week":
        return f"{base}/semaine/{job.job_id}"
    if job.kind in ROUTE_KINDS:
        return f"{base}/tournees/{job.job_id}"
    if job.kind == "sweep":
        return f"{base}/sensibilite/{job.job_id}"
    if job.kind == "mutualisation":
        return f"{base}/mutualisation/{job.job_id}"
    if job.kind == "plan":
        return (
            f"{base}/scenarios/{job.job_id}" if job.scenario_id else f"{base}/plan?job={job.job_id}"
        )
    return f"{base}/demande"


@router.get("/t/{territory_id}/travaux/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, territory_id: str, job_id: str):
    """A job's live progress (``static/js/progress.js`` polls its state); once it succeeded,
    its results' page."""
    user = territory_user(request, territory_id, "planner", "logistics")
    job = territory_job(request, territory_id, job_id)
    if user.role == "logistics" and job.kind not in ROUTE_KINDS:
        raise not_found("Ce calcul n'existe pas.")
    if job.status == "succeeded":
        return RedirectResponse(result_url(territory_id, job), status_code=303)
    return render(request, "job.html", user=user, territory_id=territory_id, job=job)


@router.post("/t/{territory_id}/travaux/{job_id}/annuler")
async def job_cancel(request: Request, territory_id: str, job_id: str):
    """Cancel a queued or running job (planners any job, logistics their route jobs), as the
    API's ``POST /v1/jobs/{id}/cancel``."""
    user = territory_user(request, territory_id, "planner", "logistics")
    async with request.form(max_files=0, max_fields=5) as form:
        check_csrf(user, form.get(CSRF_FIELD))
    job = territory_job(request, territory_id, job_id)
    if user.role == "logistics" and job.kind not in ROUTE_KINDS:
        raise not_found("Ce calcul n'existe pas.")
    jobs.cancel(request.app.state.store, job_id)
    return RedirectResponse(f"/t/{territory_id}/travaux/{job_id}", status_code=303)
