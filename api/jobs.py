"""Background solve jobs: submission, the worker process that runs them, cancel and re-run.

A job is a row in the ``jobs`` table. ``vivres serve`` starts one worker process beside the
HTTP server; the worker claims the oldest queued job with an atomic conditional update (so
several workers never take the same job), runs it in a child process it can kill (cancel),
heartbeats while it runs, and the child stores the results (every output file, as bytes) and
the final status in one transaction: a job has all its results or none.

A job whose worker died (crash, ``kill -9``, machine restart) is marked ``interrupted`` by the
next worker to start, or by any worker once its heartbeat is stale; ``rerun`` queues a copy.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import socket
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from api.store.db import Store
from api.store.models import Artifact, Job, JobLog, Scenario, TerritoryRow, utcnow
from api.store.territories import NotFound, checked_out, get_or_not_found
from core.errors import InputError, SolverError, VivresError

log = logging.getLogger(__name__)

KINDS = ("demand", "plan", "routes")
ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled", "interrupted")
HEARTBEAT_S = 1.0
STALE_AFTER_S = 15.0
POLL_S = 0.5


ENV_MAX_ACTIVE = "VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY"
DEFAULT_MAX_ACTIVE = 20
QUOTA_RETRY_AFTER_S = 30


class QuotaExceeded(VivresError):
    """A territory already has as many queued or running jobs as it may (HTTP 429)."""

    retry_after_s = QUOTA_RETRY_AFTER_S


def max_active_jobs() -> int:
    """Queued + running jobs one territory may have (``VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY``,
    default 20): one hub cannot fill the shared worker's queue."""
    raw = os.environ.get(ENV_MAX_ACTIVE, str(DEFAULT_MAX_ACTIVE))
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{ENV_MAX_ACTIVE} must be a whole number; got {raw[:40]!r}") from None
    if value < 1:
        raise InputError(f"{ENV_MAX_ACTIVE} must be >= 1; got {value}")
    return value


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ----------------------------------------------------------------------------- submission


def submit(store: Store, territory_id: str, kind: str, params: dict, *,
           scenario_id: str | None = None, rerun_of: str | None = None) -> Job:
    """Queue a job on the territory's current data; return its row."""
    if kind not in KINDS:
        raise InputError(f"unknown job kind {kind!r}; expected one of {', '.join(KINDS)}")
    with store.session() as session:
        territory = get_or_not_found(session, TerritoryRow, territory_id,
                                     f"no territory {territory_id!r}")
        limit = max_active_jobs()
        active = session.scalar(select(func.count()).where(Job.territory_id == territory_id,
                                                           Job.status.in_(ACTIVE)))
        if active >= limit:
            raise QuotaExceeded(f"territory {territory_id!r} already has {active} queued or "
                                f"running jobs (limit {limit}, {ENV_MAX_ACTIVE}); wait for "
                                "some to finish or cancel them")
        job = Job(job_id=str(uuid.uuid4()), kind=kind, territory_id=territory_id,
                  territory_version=territory.version, params=params, status="queued",
                  progress=0.0, message="queued", cancel_requested=False,
                  scenario_id=scenario_id, rerun_of=rerun_of, created_at=utcnow())
        session.add(job)
    return job


def get_job(store: Store, job_id: str) -> Job:
    """The job's row; raise NotFound."""
    with store.sessions() as session:
        return get_or_not_found(session, Job, job_id, f"no job {job_id!r}")


def list_jobs(store: Store, *, kind: str | None = None, status: str | None = None,
              territory_id: str | None = None, limit: int = 50, offset: int = 0,
              within: frozenset[str] | None = None) -> tuple[list[Job], int]:
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
        rows = list(session.scalars(query.order_by(Job.created_at.desc(), Job.job_id)
                                    .limit(limit).offset(offset)))
    return rows, int(total or 0)


def queue_stats(store: Store) -> tuple[int, float | None]:
    """Queued jobs: how many, and the age in seconds of the oldest (None when empty)."""
    with store.sessions() as session:
        count, oldest = session.execute(select(func.count(), func.min(Job.created_at))
                                        .where(Job.status == "queued")).one()
    age = None if oldest is None else (utcnow() - oldest).total_seconds()
    return int(count or 0), age


def job_logs(store: Store, job_id: str, *, after: int = 0, limit: int = 200) -> list[JobLog]:
    """Log lines of a job with id > ``after``, oldest first."""
    get_job(store, job_id)
    with store.sessions() as session:
        return list(session.scalars(select(JobLog).where(JobLog.job_id == job_id,
                                                         JobLog.log_id > after)
                                    .order_by(JobLog.log_id).limit(limit)))


def cancel(store: Store, job_id: str) -> Job:
    """Cancel a job: a queued one at once, a running one as soon as its worker sees the flag."""
    with store.session() as session:
        job = get_or_not_found(session, Job, job_id, f"no job {job_id!r}")
        if job.status == "queued":
            job.status, job.finished_at, job.message = "cancelled", utcnow(), "cancelled"
        elif job.status == "running":
            job.cancel_requested = True
            job.message = "cancel requested"
    return get_job(store, job_id)


def rerun(store: Store, job_id: str) -> Job:
    """Queue a new job with the same kind, territory and parameters as a finished one."""
    job = get_job(store, job_id)
    if job.status in ACTIVE:
        raise InputError(f"job {job_id} is still {job.status}; cancel it before re-running")
    return submit(store, job.territory_id, job.kind, dict(job.params),
                  scenario_id=job.scenario_id, rerun_of=job.job_id)


def artifact(store: Store, job_id: str, name: str) -> tuple[bytes, str]:
    """One stored output of a job: (bytes, media type); raise NotFound."""
    with store.sessions() as session:
        row = get_or_not_found(session, Artifact, (job_id, name),
                               f"job {job_id} has no result {name!r}")
        return row.content, row.media_type


def artifact_names(store: Store, job_id: str) -> list[str]:
    """Names of a job's stored outputs."""
    with store.sessions() as session:
        return list(session.scalars(select(Artifact.name).where(Artifact.job_id == job_id)
                                    .order_by(Artifact.name)))


# ----------------------------------------------------------------------------- claiming


def claim_next(store: Store, worker: str) -> str | None:
    """Atomically take the oldest queued job; return its id, or None."""
    for _ in range(5):
        with store.session() as session:
            job_id = session.scalar(select(Job.job_id).where(Job.status == "queued")
                                    .order_by(Job.created_at, Job.job_id).limit(1))
            if job_id is None:
                return None
            now = utcnow()
            taken = session.execute(
                update(Job).where(Job.job_id == job_id, Job.status == "queued")
                .values(status="running", worker=worker, started_at=now, heartbeat_at=now,
                        progress=0.0, message="started"))
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


def mark_interrupted(store: Store, *, stale_after_s: float = STALE_AFTER_S,
                     reason: str = "") -> list[str]:
    """Mark running jobs whose worker is gone as ``interrupted``; return their ids.

    A worker is gone when its heartbeat is older than ``stale_after_s``, or when it ran on this
    host and its process no longer exists.
    """
    host = socket.gethostname()
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_s)
    gone = []
    with store.session() as session:
        for job in session.scalars(select(Job).where(Job.status == "running")):
            name, _, pid = (job.worker or "").rpartition(":")
            dead_here = name == host and pid.isdigit() and not _pid_alive(int(pid))
            if dead_here or job.heartbeat_at is None or job.heartbeat_at < stale:
                job.status, job.finished_at = "interrupted", now
                job.message = reason or ("interrupted: the worker stopped during the job "
                                         "(crash or restart); re-run it")
                gone.append(job.job_id)
    for job_id in gone:
        _log(store, job_id, "WARNING", "job interrupted: its worker is gone")
    return gone


def _log(store: Store, job_id: str, level: str, message: str) -> None:
    with store.session() as session:
        session.add(JobLog(job_id=job_id, at=utcnow(), level=level, message=message[:20000]))


def _progress(store: Store, job_id: str, fraction: float, message: str) -> None:
    with store.session() as session:
        session.execute(update(Job).where(Job.job_id == job_id)
                        .values(progress=fraction, message=message))
    _log(store, job_id, "INFO", message)


# ----------------------------------------------------------------------------- running


class _DbLogHandler(logging.Handler):
    """Copies the job's log records (and warnings) into ``job_logs``."""

    def __init__(self, store: Store, job_id: str):
        super().__init__(level=logging.INFO)
        self.store, self.job_id = store, job_id

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("sqlalchemy", "alembic")):
            return
        try:
            _log(self.store, self.job_id, record.levelname, self.format(record))
        except Exception:  # a log line must never break the job
            self.handleError(record)


MEDIA_TYPES = {".geojson": "application/geo+json", ".csv": "text/csv; charset=utf-8",
               ".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
               ".json": "application/json"}


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


def _hub_demand_from(store: Store, job_id: str):
    """The hub forecast stored by a finished demand job."""
    import io

    import pandas as pd

    content, _ = artifact(store, job_id, "hub_forecast.csv")
    return pd.read_csv(io.BytesIO(content), parse_dates=["week_start"])


def _run_demand(store: Store, job: Job, territory, out: Path, step: Callable) -> dict:
    from api import pipeline

    step(0.2, "demand: weekly history and season forecast")
    stage = pipeline.run_demand(territory, horizon_weeks=int(job.params.get("horizon_weeks", 52)),
                                level=int(job.params.get("level", 80)))
    for name, frame in (("weekly", stage.weekly), ("forecast", stage.forecast),
                        ("hub_forecast", stage.hub), ("rejects", stage.rejects)):
        frame.to_csv(out / f"{name}.csv", index=False)
    summary = {"history_weeks": int(stage.weekly["week_start"].nunique()),
               "forecast_weeks": int(stage.forecast["week_start"].nunique()),
               "season_kg": float(stage.hub["kg"].sum()), "rejected_rows": len(stage.rejects)}
    if territory.households is not None and territory.caisse_transactions is not None:
        step(0.8, "demand: caisse ledger")
        pipeline.caisse_ledger(territory).to_csv(out / "caisse_ledger.csv", index=False)
    return summary


def _run_plan(store: Store, job: Job, territory, out: Path, step: Callable) -> dict:
    from api import pipeline

    params = job.params
    hub = None  # the planner then plans against the order history
    if params.get("demand_job_id"):
        hub = _hub_demand_from(store, params["demand_job_id"])
    elif params.get("forecast", True):
        step(0.1, "demand: season forecast for the plan")
        hub = pipeline.run_demand(territory,
                                  horizon_weeks=int(params.get("horizon_weeks", 52))).hub
    scenario_path = None
    if job.scenario_id:
        with store.sessions() as session:
            scenario = session.get(Scenario, job.scenario_id)
        if scenario is None:
            raise InputError(f"scenario {job.scenario_id} no longer exists")
        scenario_path = out.parent / "scenario.yaml"
        scenario_path.write_text(scenario.body, encoding="utf-8")
    step(0.4, "planner: solving the season plan (MILP)")
    limit = params.get("time_limit_s")
    stage = pipeline.run_plan(territory, hub,
                              time_limit_s=None if limit is None else float(limit),
                              gap=float(params.get("gap", 0.001)), scenario_path=scenario_path,
                              stop=str(params.get("stop", "work")),
                              work=float(params.get("work", 1.0)),
                              seed=int(params.get("seed", 0)))
    step(0.9, "planner: writing the plan and the producer contracts")
    pipeline.write_plan(stage, out)
    result = stage.result
    return {"status": _plain(result.status), "objective": result.objective,
            "best_bound": result.best_bound, "gap": result.gap, "runtime_s": result.runtime_s,
            "explanation": result.explanation, "kpis": stage.kpis}


def _run_routes(store: Store, job: Job, territory, out: Path, step: Callable) -> dict:
    import io

    import pandas as pd

    from api import pipeline

    params = job.params
    harvest = None
    if params.get("plan_job_id"):
        content, _ = artifact(store, params["plan_job_id"], "harvest.csv")
        harvest = pd.read_csv(io.BytesIO(content))
    week = int(params["week"])
    step(0.2, f"routing: solving week {week}")
    stage = pipeline.run_routes(territory, week, harvest=harvest,
                                time_limit_s=float(params.get("time_limit_s", 30)),
                                seed=int(params.get("seed", 1)))
    step(0.9, "routing: writing sheets, GeoJSON and maps")
    pipeline.write_routes(stage, out)
    stops = stage.result.stops
    farms = territory.producers[["producer_id", "site_id"]]
    pickups = {}
    for producer_id, site_id in farms.itertuples(index=False):
        rows = stops.loc[(stops["site_id"] == site_id) & (stops["pick_kg"] > 0)]
        pickups[producer_id] = [
            {"day": r.day, "date": str(r.date)[:10], "vehicle_id": r.vehicle_id,
             "arrival": _hhmm(r.arrival_min), "departure": _hhmm(r.departure_min),
             "pick_kg": round(float(r.pick_kg), 1), "what": r.detail}
            for r in rows.itertuples()]
    (out / "pickups_by_producer.json").write_text(json.dumps(pickups, ensure_ascii=False))
    return {"week": week, **stage.result.kpis, "engine": stage.result.engine}


def _hhmm(minutes) -> str:
    from routing.outputs import hhmm

    return hhmm(minutes)


RUNNERS = {"demand": _run_demand, "plan": _run_plan, "routes": _run_routes}


def execute(store: Store, job_id: str) -> str:
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
    status, error, summary = "failed", None, None
    try:
        with checked_out(store, job.territory_id) as (folder, version), \
                tempfile.TemporaryDirectory(prefix="vivres-job-") as tmp, \
                warnings.catch_warnings():
            warnings.simplefilter("default")
            if version != job.territory_version:
                _log(store, job_id, "INFO", f"territory changed since submission (version "
                     f"{job.territory_version} -> {version}); running on version {version}")
            _progress(store, job_id, 0.05, "loading the territory")
            territory = load_territory(folder, strict=False)
            out = Path(tmp) / "out"
            out.mkdir()
            summary = RUNNERS[job.kind](store, job, territory, out,
                                        lambda f, m: _progress(store, job_id, f, m))
            summary = _jsonable({"territory_version": version, **summary})
            _finish(store, job_id, "succeeded", summary=summary, out=out)
            return "succeeded"
    except (InputError, SolverError, VivresError, NotFound) as exc:
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug: keep the traceback in the job's log
        error = f"internal error ({type(exc).__name__}: {exc})"
        _log(store, job_id, "ERROR", traceback.format_exc())
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        logging.captureWarnings(False)
    _finish(store, job_id, status, error=error)
    return status


def _finish(store: Store, job_id: str, status: str, *, summary: dict | None = None,
            error: str | None = None, out: Path | None = None) -> None:
    """Store the outputs and the final status in one transaction."""
    with store.session() as session:
        job = session.get(Job, job_id)
        if job.status != "running":  # cancelled or marked interrupted meanwhile: keep that
            return
        if out is not None:
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                name = path.relative_to(out).as_posix()
                session.add(Artifact(job_id=job_id, name=name, media_type=_media_type(name),
                                     content=path.read_bytes()))
        job.status, job.summary, job.error = status, summary, error
        job.finished_at = utcnow()
        job.progress = 1.0 if status == "succeeded" else job.progress
        job.message = "done" if status == "succeeded" else (error or status)[:2000]
    if error:
        _log(store, job_id, "ERROR", error)


# ----------------------------------------------------------------------------- the worker


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

    def __init__(self, store: Store, url: str, *, name: str | None = None,
                 parent_pid: int | None = None):
        self.store, self.url = store, url
        self.name = name or _worker_name()
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

    def run_one(self, job_id: str) -> str:
        """Run a claimed job in a child process; heartbeat, honour cancel; return the status."""
        if self._beat(job_id):  # cancelled before it started: never run it
            self._end(job_id, "cancelled", "cancelled at the caller's request")
            return "cancelled"
        self.store.engine.dispose()  # never share pooled connections with the child
        child = multiprocessing.get_context("fork").Process(
            target=_child_main, args=(self.url, job_id), name=f"vivres-job-{job_id}",
            daemon=True)
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
                self._end(job_id, "cancelled", "cancelled at the caller's request")
                return "cancelled"
            if self.stopping or self._parent_gone():
                child.kill()
                child.join()
                self._end(job_id, "interrupted", "interrupted: the server stopped during the "
                          "job; re-run it")
                return "interrupted"
        if child.exitcode != 0:
            if self.stopping or self._parent_gone():
                self._end(job_id, "interrupted", "interrupted: the server stopped during the "
                          "job; re-run it")
            else:
                self._end(job_id, "failed", f"the job's process died (exit code "
                          f"{child.exitcode})")
        return get_job(self.store, job_id).status

    def _beat(self, job_id: str) -> bool:
        """Record that the job's worker is alive; return whether a cancel was requested."""
        with self.store.session() as session:
            session.execute(update(Job).where(Job.job_id == job_id, Job.status == "running")
                            .values(heartbeat_at=utcnow()))
            return bool(session.scalar(select(Job.cancel_requested)
                                       .where(Job.job_id == job_id)))

    def _end(self, job_id: str, status: str, message: str) -> None:
        with self.store.session() as session:
            session.execute(update(Job).where(Job.job_id == job_id, Job.status == "running")
                            .values(status=status, message=message, finished_at=utcnow()))
        _log(self.store, job_id, "WARNING", message)


def main(argv: list[str] | None = None) -> int:
    """``python -m api.jobs [--db URL] [--parent PID]``: run a worker until stopped."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m api.jobs",
                                     description="Run the vivres job worker.")
    parser.add_argument("--db", default=None, help="database URL (default: "
                        "VIVRES_DATABASE_URL or sqlite:///vivres.db)")
    parser.add_argument("--parent", type=int, default=None,
                        help="exit (interrupting the running job) when this process dies")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s "
                        "%(name)s: %(message)s")
    from api.store.db import database_url

    url = database_url(args.db)
    store = Store.open(url)
    Worker(store, url, parent_pid=args.parent).run_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
