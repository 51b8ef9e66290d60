"""``vivres serve`` (the HTTP API and its job worker) and ``vivres bench api``."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from api.commands import bench_module
from core.errors import InputError


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: VIVRES_DATABASE_URL, else sqlite:///vivres.db; "
            "PostgreSQL: postgresql+psycopg://user@host/db).",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="HTTP worker processes.", min=1, max=64)
    ] = 1,
    job_worker: Annotated[
        bool,
        typer.Option(
            "--job-worker/--no-job-worker",
            help="Start the solve-job worker beside the server "
            "(turn off to run `python -m api.jobs` elsewhere).",
        ),
    ] = True,
    max_body_mb: Annotated[
        float,
        typer.Option("--max-body-mb", help="Largest request body accepted (413 beyond).", min=0.01),
    ] = 64,
) -> None:
    """Start the HTTP API (uvicorn) and its job worker; Ctrl-C stops both."""
    import uvicorn

    from api.cli import console
    from api.settings import settings
    from api.store.db import ENV_URL, Store, database_url

    settings()  # a bad VIVRES_* value stops here (exit 2), not in each worker
    url = database_url(db)
    Store.open(url).engine.dispose()  # migrate once, before any process starts
    os.environ[ENV_URL] = url
    os.environ["VIVRES_MAX_BODY_MB"] = str(max_body_mb)
    if not os.environ.get("VIVRES_SESSION_SECRET"):  # one secret for every HTTP process
        import secrets

        os.environ["VIVRES_SESSION_SECRET"] = secrets.token_urlsafe(32)
    supervisor = None
    if job_worker:
        import tempfile

        from api.supervisor import ENV_PIDFILE, Supervisor

        pidfile = Path(tempfile.mkdtemp(prefix="vivres-serve-")) / "worker.pid"
        os.environ[ENV_PIDFILE] = str(pidfile)
        supervisor = Supervisor(url, pidfile).start()
    console.print(
        f"vivres on http://{host}:{port}/ (API: /v1, docs: /docs), database "
        f"{_safe(url)}, "
        f"{'supervised job worker' if supervisor else 'no worker'}",
        highlight=False,
    )
    try:
        uvicorn.run(
            "api.http.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
            http="httptools" if importlib.util.find_spec("httptools") else "h11",
        )
    finally:
        if supervisor is not None:
            supervisor.stop()


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def bench_api(
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the figures to this JSON file.", dir_okay=False),
    ] = None,
    clients: Annotated[int, typer.Option("--clients", help="Concurrent connections.", min=1)] = 50,
    duration: Annotated[
        int, typer.Option("--duration", help="Seconds of load per run.", min=1)
    ] = 20,
    workers: Annotated[
        int,
        typer.Option("--workers", help="HTTP worker processes of the server under test.", min=1),
    ] = 2,
    plan_time_limit: Annotated[
        float, typer.Option("--plan-time-limit", help="Solver seconds for the sample plan.")
    ] = 60,
    route_time_limit: Annotated[
        float, typer.Option("--route-time-limit", help="Solver seconds for the sample week.")
    ] = 20,
) -> None:
    """Latency (p50/p95/p99), throughput and errors of the read endpoints under load (wrk)."""
    from api.cli import console

    figures = bench_module("api_bench").run(
        clients=clients,
        duration_s=duration,
        workers=workers,
        plan_time_limit_s=plan_time_limit,
        route_time_limit_s=route_time_limit,
        console=console,
    )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2))
        console.print(f"figures written to [bold]{json_path}[/]")


def bench_web(
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the figures to this JSON file.", dir_okay=False),
    ] = None,
    loads: Annotated[int, typer.Option("--loads", help="Cold loads per page.", min=1)] = 20,
    week: Annotated[int, typer.Option("--week", help="Season week of the map.", min=1)] = 1,
    plan_work: Annotated[
        float, typer.Option("--plan-work", help="Work budget of the sample plan.", min=0.01)
    ] = 0.1,
) -> None:
    """Map page of the sample week and plan calendar in Chromium: time to first paint and to
    interactive (p50/p95), bytes, requests, JS heap (needs `apt-get install chromium`)."""
    from api.cli import console

    try:
        figures = bench_module("web_bench").run(
            loads=loads, week=week, plan_work=plan_work, console=console
        )
    except (ImportError, RuntimeError) as exc:
        raise InputError(f"vivres bench web: {exc}") from None
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2))
        console.print(f"figures written to [bold]{json_path}[/]")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres serve``, ``vivres bench api`` and ``vivres bench web``."""
    app.command("serve")(serve)
    bench_app.command("api")(bench_api)
    bench_app.command("web")(bench_web)
