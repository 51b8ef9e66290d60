"""Logistics pages: upload the week's orders, run the week's routes (live progress), the map
and stop lists per day, every sheet printed at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import jobs
from api import params as door
from api.store import territories as store_t
from api.store.uploads import format_of
from api.web import maps
from api.web.base import PageError, not_found, render, territory_user
from api.web.jobs_view import recent_jobs, territory_job
from api.web.messages import error_fr, text_fr
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import (
    ROUTE_KINDS,
    artifact_frame,
    artifact_frame_table,
    artifact_json,
    latest_jobs,
    route_file,
)
from core.errors import InputError, VivresError

router = APIRouter(include_in_schema=False)
STAFF = ("planner", "logistics")
MAX_ERRORS_SHOWN = 500


# ----------------------------------------------------------------------------- orders


@router.get("/t/{territory_id}/commandes", response_class=HTMLResponse)
def orders_form(request: Request, territory_id: str) -> HTMLResponse:
    user = territory_user(request, territory_id, *STAFF)
    return render(request, "orders.html", user=user, territory_id=territory_id)


@router.post("/t/{territory_id}/commandes", response_class=HTMLResponse)
async def orders_upload(request: Request, territory_id: str) -> HTMLResponse:
    """Append (or replace) the orders; a bad file is shown cell by cell and nothing is
    stored (the API's upload, ``store_t.put_table``, does the checks)."""
    from fastapi.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile

    user = territory_user(request, territory_id, *STAFF)
    async with request.form(max_files=1, max_fields=5) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        mode = form.get("mode", "append")
        upload = form.get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        filename = upload.filename if isinstance(upload, UploadFile) else None
    context = {"user": user, "territory_id": territory_id, "filename": filename}
    if not content:
        return render(
            request, "orders.html", status_code=422, message="Choisissez un fichier.", **context
        )
    if mode not in ("append", "replace"):
        raise not_found()
    upload_in = store_t.Upload(
        table="orders", content=content, format=format_of(filename or "orders.csv")
    )
    try:
        report = await run_in_threadpool(
            store_t.put_table,
            request.app.state.store,
            territory_id,
            upload_in,
            append=mode == "append",
        )
    except InputError as exc:
        errors = [
            {
                "file": filename or e.file,
                "row": e.row,
                "column": e.column,
                "message": text_fr(e.message),
                "value": "" if e.value is None else str(e.value)[:80],
            }
            for e in sorted(exc.errors, key=lambda e: (e.row or 0, e.column or ""))[
                :MAX_ERRORS_SHOWN
            ]
        ]
        return render(
            request,
            "orders.html",
            status_code=422,
            errors=errors,
            num_errors=len(exc.errors),
            **context,
        )
    except (VivresError, store_t.NotFound) as exc:
        return render(request, "orders.html", status_code=422, message=error_fr(exc), **context)
    return render(request, "orders.html", report=report, **context)


# ----------------------------------------------------------------------------- routes


def season_weeks(request: Request, territory_id: str) -> list[tuple[int, object]]:
    """(season week, its Monday) for weeks 1–53, as ``api.pipeline.week_start_of`` counts
    them (from the stored orders' last date); cached per territory version."""
    import io
    from types import SimpleNamespace

    import pandas as pd

    from api.pipeline import week_start_of

    row = store_t.territory_row(request.app.state.store, territory_id)
    key = ("web-weeks", territory_id, row.created_at, row.version)
    hit = request.app.state.results.get(key)
    if hit is not None:
        return hit
    try:
        content = store_t.table_content(request.app.state.store, territory_id, "orders")
        orders = pd.read_csv(io.BytesIO(content), usecols=["date"], parse_dates=["date"])
    except (store_t.NotFound, ValueError):
        orders = None
    season = SimpleNamespace(orders=orders)
    weeks = [(w, week_start_of(season, w)) for w in range(1, 54)]
    request.app.state.results.put(key, weeks, 8 * 1024)
    return weeks


def _current_week(weeks: list[tuple[int, object]]) -> int:
    import pandas as pd

    today = pd.Timestamp.today().normalize()
    current = [w for w, monday in weeks if monday <= today]
    return current[-1] if current else 1


@router.get("/t/{territory_id}/tournees", response_class=HTMLResponse)
def routes_index(request: Request, territory_id: str) -> HTMLResponse:
    user = territory_user(request, territory_id, *STAFF)
    return render(request, "routes.html", **_routes_context(request, territory_id), user=user)


def _routes_context(request: Request, territory_id: str) -> dict:
    weeks = season_weeks(request, territory_id)
    return {
        "territory_id": territory_id,
        "jobs": recent_jobs(request, territory_id, kind=tuple(ROUTE_KINDS), limit=30),
        "plans": latest_jobs(request, territory_id, "plan", limit=10),
        "weeks": weeks,
        "current_week": _current_week(weeks),
    }


@router.post("/t/{territory_id}/tournees")
async def routes_run(request: Request, territory_id: str):
    """Queue the week's routes (the HTTP job's checks) and go to its page."""
    from api.http.territories import check_source, checked

    user = territory_user(request, territory_id, *STAFF)
    async with request.form(max_files=0, max_fields=10) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        week_text, plan_job = str(form.get("week", "")), str(form.get("plan_job_id", ""))
    problem = None
    params: dict = {}
    try:
        week = int(week_text)
        if not 1 <= week <= 53:
            raise ValueError
        params = {"week": week}
        if plan_job:
            params["plan_job_id"] = plan_job
        checked(door.route_params_of, params)
        check_source(request, territory_id, params.get("plan_job_id"), "plan")
        job = jobs.submit(request.app.state.store, territory_id, "routes", params)
    except ValueError:
        problem = f"La semaine doit être un nombre entre 1 et 53 ; reçu « {week_text[:20]} »."
    except (VivresError, store_t.NotFound) as exc:
        problem = error_fr(exc)
    if problem is not None:
        return render(
            request,
            "routes.html",
            status_code=422,
            user=user,
            message=problem,
            **_routes_context(request, territory_id),
        )
    return RedirectResponse(f"/t/{territory_id}/travaux/{job.job_id}", status_code=303)


def week_view(request: Request, job) -> dict:
    """What the pages show of a solved week (a routes or week job): stops per day and
    vehicle, unserved, KPIs."""
    job_id = job.job_id
    cache = request.app.state.results
    hit = cache.get(("web-week", job_id))
    if hit is not None:
        return hit
    stops = artifact_frame(request, job_id, route_file(job, "stops.csv"))
    unserved = artifact_frame(request, job_id, route_file(job, "unserved.csv"))
    vehicles = artifact_frame(request, job_id, route_file(job, "kpis_vehicles.csv"))
    days = list(dict.fromkeys(stops["day"])) if stops is not None else []
    routes: dict[str, list[dict]] = {}
    for (day, vehicle), group in stops.groupby(["day", "vehicle_id"], sort=False) if days else ():
        kpi = vehicles[(vehicles["day"] == day) & (vehicles["vehicle_id"] == vehicle)]
        routes.setdefault(day, []).append(
            {
                "vehicle_id": vehicle,
                "date": group["date"].iloc[0],
                "stops": group.sort_values("seq").fillna("").to_dict("records"),
                "kpi": kpi.iloc[0].to_dict() if len(kpi) else {},
            }
        )
    view = {
        "days": days,
        "routes": routes,
        "unserved": (unserved.fillna("").to_dict("records") if unserved is not None else []),
        "colours": maps.vehicle_colours(
            sorted(set(vehicles["vehicle_id"])) if vehicles is not None else []
        ),
        "kpis": artifact_json(request, job_id, route_file(job, "kpis.json")) or {},
        "pickups": artifact_json(request, job_id, route_file(job, "pickups_by_producer.json"))
        or {},
    }
    cache.put(("web-week", job_id), view, 256 * 1024)
    return view


@router.get("/t/{territory_id}/tournees/{job_id}", response_class=HTMLResponse)
def routes_week(
    request: Request, territory_id: str, job_id: str, jour: str | None = None
) -> HTMLResponse:
    """A routes job: its live progress while it runs; once solved, the day's map and stops."""
    user = territory_user(request, territory_id, *STAFF)
    job = territory_job(request, territory_id, job_id, tuple(ROUTE_KINDS))
    context = {"user": user, "territory_id": territory_id, "job": job}
    if job.status != "succeeded":
        return RedirectResponse(f"/t/{territory_id}/travaux/{job_id}", status_code=303)
    view = week_view(request, job)
    day = jour if jour in view["days"] else (view["days"][0] if view["days"] else None)
    if jour is not None and jour != day:
        raise not_found("Ce jour n'est pas dans la semaine.")
    idle = []
    if day is not None:
        vehicles = artifact_frame_table(request, territory_id, "vehicles")
        busy = {r["vehicle_id"] for r in view["routes"][day]}
        idle = [
            v
            for v, days in zip(vehicles["vehicle_id"], vehicles["days"], strict=True)
            if v not in busy and day in days.split(",")
        ]
    return render(request, "routes_week.html", day=day, view=view, idle=idle, **context)


@router.get("/t/{territory_id}/tournees/{job_id}/carte.geojson")
def routes_geojson(request: Request, territory_id: str, job_id: str) -> Response:
    """The week's routes and stops (the job's stored GeoJSON) for the map."""
    territory_user(request, territory_id, *STAFF)
    job = territory_job(request, territory_id, job_id, tuple(ROUTE_KINDS))
    content, _ = jobs.artifact(request.app.state.store, job_id, route_file(job, "routes.geojson"))
    return Response(content, media_type="application/geo+json")


@router.get("/t/{territory_id}/fond.geojson")
def basemap(request: Request, territory_id: str) -> Response:
    """The offline basemap: communes, sites and (when configured) roads of the territory."""
    territory_user(request, territory_id, *STAFF)
    return Response(
        maps.basemap_geojson(request, territory_id),
        media_type="application/geo+json",
        headers={"Cache-Control": "private, max-age=300"},
    )


@router.get("/t/{territory_id}/tournees/{job_id}/imprimer", response_class=HTMLResponse)
def print_all(request: Request, territory_id: str, job_id: str) -> HTMLResponse:
    """Every route sheet and every farm's pickup list, one per A4 page (``@media print``)."""
    return _print_page(request, territory_id, job_id)


def _print_page(
    request: Request, territory_id: str, job_id: str, inline_css: str | None = None
) -> HTMLResponse:
    user = territory_user(request, territory_id, *STAFF)
    job = territory_job(request, territory_id, job_id, tuple(ROUTE_KINDS))
    if job.status != "succeeded":
        raise not_found("Cette semaine n'est pas encore calculée.")
    view = week_view(request, job)
    producers = artifact_frame_table(request, territory_id, "producers")
    names = dict(zip(producers["producer_id"], producers["name"], strict=False))
    return render(
        request,
        "print_all.html",
        user=user,
        territory_id=territory_id,
        job=job,
        view=view,
        producer_names=names,
        sheets=week_sheets(request, territory_id, job),
        inline_css=inline_css,
    )


def week_sheets(request: Request, territory_id: str, job) -> dict:
    """A week job's picking list per shop (in truck loading order) and pickup list per farm,
    as ``api.week_outputs`` wrote them in ``feuilles/``; a routes job has none."""
    if job.kind != "week":
        return {"picking": [], "farms": []}
    sites = artifact_frame_table(request, territory_id, "sites")
    site_name = dict(zip(sites["site_id"], sites["name"], strict=True))

    def grouped(name: str, key: str, when: str) -> list[dict]:
        frame = artifact_frame(request, job.job_id, f"feuilles/{name}.csv")
        if frame is None or frame.empty:
            return []
        frame = frame.astype({key: str}).fillna("")
        return [
            {
                "site_id": site,
                "name": site_name.get(site, site),
                "when": str(part[when].iloc[0]),
                "rows": part.to_dict("records"),
            }
            for site, part in frame.groupby(key, sort=False)
        ]

    return {
        "picking": grouped("preparation", "Point_de_vente", "Livraisons"),
        "farms": grouped("enlevements", "Ferme", "Passage"),
    }


@router.get("/t/{territory_id}/tournees/{job_id}/imprimer.pdf")
async def print_all_pdf(request: Request, territory_id: str, job_id: str) -> Response:
    """The print-all page as a PDF (the server's Chromium prints the same page)."""
    from fastapi.concurrency import run_in_threadpool

    from api.web import STATIC
    from api.web.pdf import PdfUnavailable, html_to_pdf

    css = (STATIC / "app.css").read_text(encoding="utf-8")
    page = _print_page(request, territory_id, job_id, inline_css=css)
    try:
        pdf = await run_in_threadpool(html_to_pdf, page.body)
    except PdfUnavailable as exc:
        raise PageError(503, str(exc)) from None
    week = territory_job(request, territory_id, job_id).params.get("week")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="feuilles_semaine_{week}.pdf"'},
    )
