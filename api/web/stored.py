"""What the pages read from the store: a territory's tables, jobs' stored results."""

from __future__ import annotations

import io
import json

import pandas as pd
from fastapi import Request
from sqlalchemy import select

from api import jobs
from api.store import territories as store_t
from api.store.models import Job
from api.store.territories import NotFound
from core.csvio import read_csv_any

#: job kinds whose results hold a week's routes, and the folder they are stored under (the
#: real week's job of issue 13 writes ``api.pipeline.write_routes`` into ``routes/``)
ROUTE_KINDS = {"routes": "", "week": "routes/"}


def route_file(job: Job, name: str) -> str:
    """The stored name of a routes output (``stops.csv``…) in a routes or week job."""
    return ROUTE_KINDS.get(job.kind, "") + name


def latest_jobs(
    request: Request, territory_id: str, kind: str | tuple[str, ...], *, limit: int = 200
) -> list[Job]:
    """Succeeded jobs of a kind (or of several), newest first."""
    kinds = (kind,) if isinstance(kind, str) else kind
    query = (
        select(Job)
        .where(Job.territory_id == territory_id, Job.kind.in_(kinds), Job.status == "succeeded")
        .order_by(Job.finished_at.desc())
        .limit(limit)
    )
    with request.app.state.store.sessions() as session:
        return list(session.scalars(query))


def artifact_frame(request: Request, job_id: str, name: str) -> pd.DataFrame | None:
    """A stored CSV of a job as a frame (None when the job has no such file)."""
    try:
        content, _ = jobs.artifact(request.app.state.store, job_id, name)
    except NotFound:
        return None
    return read_csv_any(content, dtype={"producer_id": str, "site_id": str})


def artifact_json(request: Request, job_id: str, name: str):
    try:
        content, _ = jobs.artifact(request.app.state.store, job_id, name)
    except NotFound:
        return None
    return json.loads(content)


def artifact_frame_table(request: Request, territory_id: str, table: str):
    """A stored table of the territory as a frame."""
    content = store_t.table_content(request.app.state.store, territory_id, table)
    return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)


def job_file(request: Request, job: Job, name: str, files: dict[str, str], prefix: str):
    """One of a finished job's files listed in ``files`` (name → media type): an HTML page
    shown as it is, a table downloaded as ``{prefix}_{name}``; 404 for any other name."""
    from fastapi.responses import Response

    from api.web.base import not_found

    if name not in files or job.status != "succeeded":
        raise not_found()
    try:
        content, _ = jobs.artifact(request.app.state.store, job.job_id, name)
    except NotFound:
        raise not_found() from None
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if not name.endswith(".html"):
        headers["Content-Disposition"] = f'attachment; filename="{prefix}_{name}"'
    return Response(content, media_type=files[name], headers=headers)
