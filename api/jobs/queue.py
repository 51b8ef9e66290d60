"""The job queue: submission, reads, cancel and re-run, claiming, and the interrupt sweep.

A job is a row in the ``jobs`` table. Workers claim the oldest queued job with an atomic
conditional update (so several workers never take the same job); a job whose worker died
(crash, ``kill -9``, machine restart) is marked ``interrupted`` by the next worker to start,
or by any worker once its heartbeat is stale; ``rerun`` queues a copy.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select, update

from api.settings import ENV_MAX_ACTIVE, settings
from api.store.db import Store
from api.store.models import Artifact, Job, JobLog, TerritoryRow, utcnow
from api.store.territories import get_or_not_found
from core.errors import InputError, VivresError

KINDS = ("demand", "plan", "routes", "week", "sweep", "mutualisation")


class JobStatus(StrEnum):
    """Where a job is; the values are what the ``jobs.status`` column holds."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


#: as plain strings: SQL parameters never carry the enum (psycopg would bind its name)
ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
FINISHED = tuple(s.value for s in JobStatus if s.value not in ACTIVE)
HEARTBEAT_S = 1.0
STALE_AFTER_S = 15.0
POLL_S = 0.5
QUOTA_RETRY_AFTER_S = 30


class QuotaExceeded(VivresError):
    """A territory already has as many queued or running jobs as it may (HTTP 429)."""

    retry_after_s = QUOTA_RETRY_AFTER_S


def max_active_jobs() -> int:
    """Queued + running jobs one territory may have (``VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY``,
    default 20): one hub cannot fill the shared worker's queue."""
    return settings().max_active_jobs_per_territory


def worker_name() -> str:
    """``host:pid`` of this process, as stored in ``jobs.worker``."""
    return f"{socket.gethostname()}:{os.getpid()}"


# ----------------------------------------------------------------------------- submission


def submit(
    store: Store,
    territory_id: str,
    kind: str,
    params: dict,
    *,
    scenario_id: str | None = None,
    rerun_of: str | None = None,
) -> Job:
    """Queue a job on the territory's current data; return its row."""
    if kind not in KINDS:
        raise InputError(f"unknown job kind {kind!r}; expected one of {', '.join(KINDS)}")
    with store.session() as session:
        territory = get_or_not_found(
            session, TerritoryRow, territory_id, f"no territory {territory_id!r}"
        )
        limit = max_active_jobs()
        active = session.scalar(
            select(func.count()).where(Job.territory_id == territory_id, Job.status.in_(ACTIVE))
        )
        if active >= limit:
            raise QuotaExceeded(
                f"territory {territory_id!r} already has {active} queued or "
                f"running jobs (limit {limit}, {ENV_MAX_ACTIVE}); wait for "
                "some to finish or cancel them"
            )
        job = Job(
            job_id=str(uuid.uuid4()),
            kind=kind,
            territory_id=territory_id,
            territory_version=territory.version,
            params=params,
            status=JobStatus.QUEUED.value,
            progress=0.0,
            message="queued",
            cancel_requested=False,
            scenario_id=scenario_id,
            rerun_of=rerun_of,
            created_at=utcnow(),
        )
        session.add(job)
    return job


def get_job(store: Store, job_id: str) -> Job:
    """The job's row; raise NotFound."""
    with store.sessions() as session:
        return get_or_not_found(session, Job, job_id, f"no job {job_id!r}")


def list_jobs(
    store: Store,
    *,
    kind: str | None = None,
    status: str | None = None,
    territory_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    within: frozenset[str] | None = None,
) -> tuple[list[Job], int]:
    """A page of jobs, newest first, and the total matching the filters (only territories
    ``within`` a key's scope when given)."""
    query = select(Job)
    if within is not None:
        query = query.where(Job.territory_id.in_(sorted(within)))
    if kind:
        query = query.where(Job.kind == kind)
    if status:
        query = query.where(Job.status == status)
    if territory_id:
        query = query.where(Job.territory_id == territory_id)
    with store.sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(
            session.scalars(
                query.order_by(Job.created_at.desc(), Job.job_id).limit(limit).offset(offset)
            )
        )
    return rows, int(total or 0)


def queue_stats(store: Store) -> tuple[int, float | None]:
    """Queued jobs: how many, and the age in seconds of the oldest (None when empty)."""
    with store.sessions() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(Job.created_at)).where(
                Job.status == JobStatus.QUEUED.value
            )
        ).one()
    age = None if oldest is None else (utcnow() - oldest).total_seconds()
    return int(count or 0), age


def job_logs(store: Store, job_id: str, *, after: int = 0, limit: int = 200) -> list[JobLog]:
    """Log lines of a job with id > ``after``, oldest first."""
    get_job(store, job_id)
    with store.sessions() as session:
        return list(
            session.scalars(
                select(JobLog)
                .where(JobLog.job_id == job_id, JobLog.log_id > after)
                .order_by(JobLog.log_id)
                .limit(limit)
            )
        )


def cancel(store: Store, job_id: str) -> Job:
    """Cancel a job: a queued one at once, a running one as soon as its worker sees the flag."""
    with store.session() as session:
        job = get_or_not_found(session, Job, job_id, f"no job {job_id!r}")
        if job.status == JobStatus.QUEUED:
            job.status, job.finished_at = JobStatus.CANCELLED.value, utcnow()
            job.message = "cancelled"
        elif job.status == JobStatus.RUNNING:
            job.cancel_requested = True
            job.message = "cancel requested"
    return get_job(store, job_id)


def rerun(store: Store, job_id: str) -> Job:
    """Queue a new job with the same kind, territory and parameters as a finished one."""
    job = get_job(store, job_id)
    if job.status in ACTIVE:
        raise InputError(f"job {job_id} is still {job.status}; cancel it before re-running")
    return submit(
        store,
        job.territory_id,
        job.kind,
        dict(job.params),
        scenario_id=job.scenario_id,
        rerun_of=job.job_id,
    )


def artifact(store: Store, job_id: str, name: str) -> tuple[bytes, str]:
    """One stored output of a job: (bytes, media type); raise NotFound."""
    with store.sessions() as session:
        row = get_or_not_found(
            session, Artifact, (job_id, name), f"job {job_id} has no result {name!r}"
        )
        return row.content, row.media_type


def artifact_names(store: Store, job_id: str) -> list[str]:
    """Names of a job's stored outputs."""
    with store.sessions() as session:
        return list(
            session.scalars(
                select(Artifact.name).where(Artifact.job_id == job_id).order_by(Artifact.name)
            )
        )


# ----------------------------------------------------------------------------- claiming


def claim_next(store: Store, worker: str) -> str | None:
    """Atomically take the oldest queued job; return its id, or None."""
    for _ in range(5):
        with store.session() as session:
            job_id = session.scalar(
                select(Job.job_id)
                .where(Job.status == JobStatus.QUEUED.value)
                .order_by(Job.created_at, Job.job_id)
                .limit(1)
            )
            if job_id is None:
                return None
            now = utcnow()
            taken = session.execute(
                update(Job)
                .where(Job.job_id == job_id, Job.status == JobStatus.QUEUED.value)
                .values(
                    status=JobStatus.RUNNING.value,
                    worker=worker,
                    started_at=now,
                    heartbeat_at=now,
                    progress=0.0,
                    message="started",
                )
            )
            if taken.rowcount == 1:
                return job_id
    return None  # lost every race: another worker is busy taking jobs


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_interrupted(
    store: Store, *, stale_after_s: float = STALE_AFTER_S, reason: str = ""
) -> list[str]:
    """Mark running jobs whose worker is gone as ``interrupted``; return their ids.

    A worker is gone when its heartbeat is older than ``stale_after_s``, or when it ran on this
    host and its process no longer exists.
    """
    host = socket.gethostname()
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_s)
    gone = []
    with store.session() as session:
        for job in session.scalars(select(Job).where(Job.status == JobStatus.RUNNING.value)):
            name, _, pid = (job.worker or "").rpartition(":")
            dead_here = name == host and pid.isdigit() and not _pid_alive(int(pid))
            if dead_here or job.heartbeat_at is None or job.heartbeat_at < stale:
                job.status, job.finished_at = JobStatus.INTERRUPTED.value, now
                job.message = reason or (
                    "interrupted: the worker stopped during the job (crash or restart); re-run it"
                )
                gone.append(job.job_id)
    for job_id in gone:
        log_line(store, job_id, "WARNING", "job interrupted: its worker is gone")
    return gone


# ----------------------------------------------------------------------------- progress


def log_line(store: Store, job_id: str, level: str, message: str) -> None:
    """Add one line to the job's log."""
    with store.session() as session:
        session.add(JobLog(job_id=job_id, at=utcnow(), level=level, message=message[:20000]))


def set_progress(store: Store, job_id: str, fraction: float, message: str) -> None:
    """Record how far the job is (0–1) and log the step."""
    with store.session() as session:
        session.execute(
            update(Job).where(Job.job_id == job_id).values(progress=fraction, message=message)
        )
    log_line(store, job_id, "INFO", message)


def heartbeat(store: Store, job_id: str) -> bool:
    """Record that the job's worker is alive; return whether a cancel was requested."""
    with store.session() as session:
        session.execute(
            update(Job)
            .where(Job.job_id == job_id, Job.status == JobStatus.RUNNING.value)
            .values(heartbeat_at=utcnow())
        )
        return bool(session.scalar(select(Job.cancel_requested).where(Job.job_id == job_id)))


def end_running(store: Store, job_id: str, status: JobStatus, message: str) -> None:
    """Close a job that is still running (cancelled, interrupted or its process died)."""
    with store.session() as session:
        session.execute(
            update(Job)
            .where(Job.job_id == job_id, Job.status == JobStatus.RUNNING.value)
            .values(status=status.value, message=message, finished_at=utcnow())
        )
    log_line(store, job_id, "WARNING", message)
