"""The job worker: runs claimed jobs in child processes, heartbeats, honours cancel.

``vivres serve`` starts one worker process beside the HTTP server (``python -m api.jobs``).
The worker claims the oldest queued job (``api.jobs.queue``), runs it in a child process it
can kill (cancel), heartbeats while it runs, and the child stores the results (every output
file, as bytes) and the final status in one transaction: a job has all its results or none.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import tempfile
import time
import traceback
from pathlib import Path

from api.jobs.queue import (
    HEARTBEAT_S,
    POLL_S,
    STALE_AFTER_S,
    JobStatus,
    claim_next,
    end_running,
    get_job,
    heartbeat,
    log_line,
    mark_interrupted,
    set_progress,
    worker_name,
)
from api.jobs.runners import RUNNERS
from api.store.db import Store
from api.store.models import Artifact, Job, utcnow
from api.store.territories import NotFound, checked_out
from core.errors import InputError, SolverError, VivresError

log = logging.getLogger(__name__)

SERVER_STOPPED = "interrupted: the server stopped during the job; re-run it"


class _DbLogHandler(logging.Handler):
    """Copies the job's log records (and warnings) into ``job_logs``."""

    def __init__(self, store: Store, job_id: str):
        super().__init__(level=logging.INFO)
        self.store, self.job_id = store, job_id

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("sqlalchemy", "alembic")):
            return
        try:
            log_line(self.store, self.job_id, record.levelname, self.format(record))
        except Exception:  # a log line must never break the job
            self.handleError(record)


MEDIA_TYPES = {
    ".geojson": "application/geo+json",
    ".csv": "text/csv; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
}


def _media_type(name: str) -> str:
    """The media type a stored file is served with (the API documents exactly these)."""
    return MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def _plain(value):
    import numpy as np
    import pandas as pd

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, int | float | str):
        return value.value  # enums
    return str(value)


def _jsonable(data):
    """Plain JSON values: numpy scalars unwrapped, NaN and infinities as null."""
    import math

    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    if isinstance(data, bool) or data is None or isinstance(data, int | str):
        return data
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    return _jsonable(_plain(data))


def execute(store: Store, job_id: str) -> JobStatus:
    """Run a claimed job in this process; store its results and final status; return it."""
    import warnings

    from core.territory import load_territory

    job = get_job(store, job_id)
    handler = _DbLogHandler(store, job_id)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    status, error, summary = JobStatus.FAILED, None, None
    try:
        with (
            checked_out(store, job.territory_id) as (folder, version),
            tempfile.TemporaryDirectory(prefix="vivres-job-") as tmp,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("default")
            if version != job.territory_version:
                log_line(
                    store,
                    job_id,
                    "INFO",
                    "territory changed since submission (version "
                    f"{job.territory_version} -> {version}); running on version {version}",
                )
            set_progress(store, job_id, 0.05, "loading the territory")
            territory = load_territory(folder, strict=False)
            out = Path(tmp) / "out"
            out.mkdir()
            summary = RUNNERS[job.kind](
                store, job, territory, out, lambda f, m: set_progress(store, job_id, f, m)
            )
            summary = _jsonable({"territory_version": version, **summary})
            _finish(store, job_id, JobStatus.SUCCEEDED, summary=summary, out=out)
            return JobStatus.SUCCEEDED
    except (InputError, SolverError, VivresError, NotFound) as exc:
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug: keep the traceback in the job's log
        error = f"internal error ({type(exc).__name__}: {exc})"
        log_line(store, job_id, "ERROR", traceback.format_exc())
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        logging.captureWarnings(False)
    _finish(store, job_id, status, error=error)
    return status


def _finish(
    store: Store,
    job_id: str,
    status: JobStatus,
    *,
    summary: dict | None = None,
    error: str | None = None,
    out: Path | None = None,
) -> None:
    """Store the outputs and the final status in one transaction."""
    with store.session() as session:
        job = session.get(Job, job_id)
        if job.status != JobStatus.RUNNING:  # cancelled or interrupted meanwhile: keep that
            return
        if out is not None:
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                name = path.relative_to(out).as_posix()
                session.add(
                    Artifact(
                        job_id=job_id,
                        name=name,
                        media_type=_media_type(name),
                        content=path.read_bytes(),
                    )
                )
        job.status, job.summary, job.error = status.value, summary, error
        job.finished_at = utcnow()
        job.progress = 1.0 if status == JobStatus.SUCCEEDED else job.progress
        job.message = "done" if status == JobStatus.SUCCEEDED else (error or status.value)[:2000]
    if error:
        log_line(store, job_id, "ERROR", error)


def _child_main(url: str, job_id: str) -> None:
    """Entry point of the child process that runs one job."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the worker, which decides
    store = Store.open(url, upgrade=False)
    try:
        execute(store, job_id)
    finally:
        store.engine.dispose()


class Worker:
    """Claims queued jobs one at a time and runs each in a child process it can kill."""

    def __init__(
        self, store: Store, url: str, *, name: str | None = None, parent_pid: int | None = None
    ):
        self.store, self.url = store, url
        self.name = name or worker_name()
        self.parent_pid = parent_pid
        self.stopping = False

    def _parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run_forever(self) -> None:
        """Run jobs until SIGTERM/SIGINT or the parent (``vivres serve``) dies."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        swept = mark_interrupted(self.store)
        if swept:
            log.warning("marked %d job(s) interrupted: %s", len(swept), ", ".join(swept))
        last_sweep = time.monotonic()
        while not self.stopping and not self._parent_gone():
            try:
                job_id = claim_next(self.store, self.name)
                if job_id is None:
                    if time.monotonic() - last_sweep > STALE_AFTER_S:
                        mark_interrupted(self.store)
                        last_sweep = time.monotonic()
                    time.sleep(POLL_S)
                    continue
                self.run_one(job_id)
            except Exception:  # the database went away for a moment: retry, never die
                log.exception("worker loop error")
                time.sleep(2)

    def _stop(self, *_) -> None:
        self.stopping = True

    def run_one(self, job_id: str) -> JobStatus:
        """Run a claimed job in a child process; heartbeat, honour cancel; return the status."""
        if self._beat(job_id):  # cancelled before it started: never run it
            self._end(job_id, JobStatus.CANCELLED, "cancelled at the caller's request")
            return JobStatus.CANCELLED
        self.store.engine.dispose()  # never share pooled connections with the child
        child = multiprocessing.get_context("fork").Process(
            target=_child_main, args=(self.url, job_id), name=f"vivres-job-{job_id}", daemon=True
        )
        child.start()
        last_beat = 0.0
        while child.is_alive():
            child.join(POLL_S)
            if time.monotonic() - last_beat < HEARTBEAT_S:
                continue
            last_beat = time.monotonic()
            try:
                cancel_requested = self._beat(job_id)
            except Exception:  # the database is busy or away for a moment: keep watching
                log.exception("heartbeat of job %s failed", job_id)
                cancel_requested = False
            if cancel_requested:
                child.kill()
                child.join()
                self._end(job_id, JobStatus.CANCELLED, "cancelled at the caller's request")
                return JobStatus.CANCELLED
            if self.stopping or self._parent_gone():
                child.kill()
                child.join()
                self._end(job_id, JobStatus.INTERRUPTED, SERVER_STOPPED)
                return JobStatus.INTERRUPTED
        if child.exitcode != 0:
            if self.stopping or self._parent_gone():
                self._end(job_id, JobStatus.INTERRUPTED, SERVER_STOPPED)
            else:
                self._end(
                    job_id, JobStatus.FAILED, f"the job's process died (exit code {child.exitcode})"
                )
        return JobStatus(get_job(self.store, job_id).status)

    def _beat(self, job_id: str) -> bool:
        return heartbeat(self.store, job_id)

    def _end(self, job_id: str, status: JobStatus, message: str) -> None:
        end_running(self.store, job_id, status, message)


def main(argv: list[str] | None = None) -> int:
    """``python -m api.jobs [--db URL] [--parent PID]``: run a worker until stopped."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m api.jobs", description="Run the vivres job worker."
    )
    parser.add_argument(
        "--db",
        default=None,
        help="database URL (default: VIVRES_DATABASE_URL or sqlite:///vivres.db)",
    )
    parser.add_argument(
        "--parent",
        type=int,
        default=None,
        help="exit (interrupting the running job) when this process dies",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s worker %(levelname)s %(name)s: %(message)s"
    )
    from api.store.db import database_url

    url = database_url(args.db)
    store = Store.open(url)
    Worker(store, url, parent_pid=args.parent).run_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
