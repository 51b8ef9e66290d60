"""Background solve jobs, in three parts.

- ``api.jobs.queue``: submission, reads, cancel and re-run, claiming, the interrupt sweep, and
  the ``JobStatus`` enum (the values the ``jobs.status`` column holds);
- ``api.jobs.runners``: what each kind of job runs (``api.params`` → ``api.pipeline``);
- ``api.jobs.worker``: the worker process (``python -m api.jobs``) that runs claimed jobs in
  child processes, heartbeats and honours cancel.

The names below are the package's public surface (the HTTP routers and the tests use them).
"""

from api.jobs.queue import (
    ACTIVE,
    FINISHED,
    KINDS,
    JobStatus,
    QuotaExceeded,
    artifact,
    artifact_names,
    cancel,
    claim_next,
    get_job,
    job_logs,
    list_jobs,
    mark_interrupted,
    max_active_jobs,
    queue_stats,
    rerun,
    submit,
)
from api.jobs.runners import RUNNERS
from api.jobs.worker import MEDIA_TYPES, Worker, execute, main

__all__ = [
    "ACTIVE",
    "FINISHED",
    "KINDS",
    "MEDIA_TYPES",
    "RUNNERS",
    "JobStatus",
    "QuotaExceeded",
    "Worker",
    "artifact",
    "artifact_names",
    "cancel",
    "claim_next",
    "execute",
    "get_job",
    "job_logs",
    "list_jobs",
    "main",
    "mark_interrupted",
    "max_active_jobs",
    "queue_stats",
    "rerun",
    "submit",
]
