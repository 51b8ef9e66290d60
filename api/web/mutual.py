"""Pooling pages for hub planners and funders: the "économies d'intégration" report (a
``mutualisation`` job, as ``vivres mutualisation``) — its form, its result (each organisation
alone against the pooled fleet, the split of the pooled cost) and its printable page; and the
caisse commune's printable report (as ``vivres caisse report``)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.store import territories as store_t
from api.web.base import checked, not_found, queue_job, render, territory_user
from api.web.jobs_view import recent_jobs, territory_job
from api.web.messages import errors_fr
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import (
    artifact_frame,
    artifact_frame_table,
    artifact_json,
    job_file,
    latest_jobs,
)
from api.web.week import order_weeks
from core.errors import VivresError

router = APIRouter(include_in_schema=False)
FIELDS = ("week", "week2", "plan_job_id", "vehicle_day_eur", "outsourced_eur_per_kg")
#: the report's files a planner may open or download from its page, and their type
FILES = {
    "rapport.html": "text/html; charset=utf-8",
    "split.csv": "text/csv; charset=utf-8",
    "split.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "coalitions.csv": "text/csv; charset=utf-8",
    "coalitions.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PARTS_FR = {
    "routes_eur": "tournées (km et heures)",
    "vehicle_days_eur": "jours de véhicule",
    "outsourced_eur": "ce qui part chez un transporteur",
}


def _organisations(request: Request, territory_id: str) -> pd.DataFrame | None:
    try:
        return artifact_frame_table(request, territory_id, "organisations")
    except store_t.NotFound:
        return None


def _form_context(request: Request, territory_id: str) -> dict:
    orgs = _organisations(request, territory_id)
    return {
        "territory_id": territory_id,
        "organisations": [] if orgs is None else orgs.to_dict("records"),
        "weeks": order_weeks(request, territory_id),
        "plans": [
            j for j in latest_jobs(request, territory_id, "plan", limit=20) if not j.scenario_id
        ],
        "jobs": recent_jobs(request, territory_id, kind="mutualisation", limit=20),
    }


@router.get("/t/{territory_id}/mutualisation", response_class=HTMLResponse)
def mutual_form(request: Request, territory_id: str) -> HTMLResponse:
    """Choose the week(s) and the cost rates; the reports already computed."""
    user = territory_user(request, territory_id, "planner")
    return render(request, "mutual_form.html", user=user, **_form_context(request, territory_id))


def _rate(text: str) -> float | str | None:
    """A rate typed the French way (``45`` or ``0,35``), as the API's field will check it."""
    text = text.replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text  # refused by the request model, named by its field


@router.post("/t/{territory_id}/mutualisation")
async def mutual_run(request: Request, territory_id: str):
    """Check the request as ``POST /v1/territories/{t}/mutualisations`` does, queue it."""
    from api.http.mutual import MutualRequest, check_mutual
    from api.http.territories import check_source

    user = territory_user(request, territory_id, "planner")
    async with request.form(max_files=0, max_fields=10) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        fields = {name: str(form.get(name, "") or "").strip()[:64] for name in FIELDS}

    def check() -> dict:
        body: dict = {"weeks": [w for w in (fields["week"], fields["week2"]) if w]}
        for name in ("vehicle_day_eur", "outsourced_eur_per_kg"):
            value = _rate(fields[name])
            if value is not None:
                body[name] = value
        if fields["plan_job_id"]:
            body["plan_job_id"] = fields["plan_job_id"]
        return check_mutual(
            request.app.state.store, territory_id, MutualRequest.model_validate(body)
        )

    params, problems = checked(check, _field_fr)
    if problems:
        return render(
            request,
            "mutual_form.html",
            status_code=422,
            user=user,
            problems=problems,
            form=fields,
            **_form_context(request, territory_id),
        )
    return queue_job(
        request,
        user,
        territory_id,
        "mutualisation",
        params,
        lambda p: check_source(request, territory_id, p.get("plan_job_id"), "plan"),
    )


FIELD_FR = {
    "weeks": "Semaine",
    "vehicle_day_eur": "Coût d'un jour de véhicule (€)",
    "outsourced_eur_per_kg": "Tarif d'un transporteur (€/kg)",
}


def _field_fr(error: dict) -> str:
    name = str(error["loc"][0]) if error.get("loc") else "formulaire"
    label = FIELD_FR.get(name, name)
    if error.get("type") in ("float_parsing", "float_type"):
        return f"{label} : « {str(error.get('input'))[:20]} » n'est pas un nombre"
    context = error.get("ctx") or {}
    if "ge" in context or "le" in context:
        return f"{label} : doit être entre {context.get('ge', 0):g} et {context.get('le', '…')}"
    return f"{label} : valeur refusée"


@router.get("/t/{territory_id}/mutualisation/{job_id}", response_class=HTMLResponse)
def mutual_result(request: Request, territory_id: str, job_id: str) -> HTMLResponse:
    """Each organisation alone against the pooled fleet, the split of the pooled cost, the
    core verdict; the printable report and the spreadsheets."""
    user = territory_user(request, territory_id, "planner")
    job = territory_job(request, territory_id, job_id, "mutualisation")
    if job.status != "succeeded":
        raise not_found("Ce rapport n'est pas encore calculé.")
    summary = artifact_json(request, job_id, "mutualisation.json") or {}
    split = artifact_frame(request, job_id, "split.csv")
    parts = [
        {
            "label": label,
            "standalone": summary["saving_parts"][key]["standalone"],
            "pooled": summary["saving_parts"][key]["pooled"],
        }
        for key, label in PARTS_FR.items()
        if key in summary.get("saving_parts", {})
    ]
    return render(
        request,
        "mutual_result.html",
        user=user,
        territory_id=territory_id,
        job=job,
        summary=summary,
        parts=parts,
        split=[] if split is None else split.to_dict("records"),
    )


@router.get("/t/{territory_id}/mutualisation/{job_id}/fichiers/{name}")
def mutual_file(request: Request, territory_id: str, job_id: str, name: str) -> Response:
    """One of the report's files: the printable page, or a table as CSV or Excel."""
    territory_user(request, territory_id, "planner")
    job = territory_job(request, territory_id, job_id, "mutualisation")
    week = "_".join(job.params.get("week_starts", []))
    return job_file(request, job, name, FILES, f"mutualisation_{week}")


@router.get("/t/{territory_id}/caisse/rapport", response_class=HTMLResponse)
def caisse_report(request: Request, territory_id: str) -> HTMLResponse:
    """The caisse commune's printable report (balance per caisse, solidarity by means, the
    approval grid), as ``vivres caisse report`` writes it; cached per territory version."""
    from api import pipeline
    from api.caisse_print import caisse_html

    territory_user(request, territory_id, "planner")
    store = request.app.state.store
    row = store_t.territory_row(store, territory_id)
    key = ("web-caisse-report", territory_id, row.created_at, row.version)
    page = request.app.state.results.get(key)
    if page is None:
        with store_t.checked_out(store, territory_id) as (folder, _):
            territory = pipeline.load(folder, strict=False)
            try:
                page = caisse_html(pipeline.run_caisse(territory))
            except VivresError as exc:
                return render(
                    request,
                    "error.html",
                    status_code=422,
                    message=" ; ".join(errors_fr(exc)),
                )
        request.app.state.results.put(key, page, len(page) + 1024)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
