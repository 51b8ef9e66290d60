"""Sensitivity for hub planners: the season plan solved for several scenarios (the base, the
stored what-ifs, demand × a list of factors) × seeds — a ``sweep`` job, as ``vivres sweep`` and
``POST /v1/territories/{t}/sweeps`` — and each KPI's spread per scenario, printable."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from api.store.models import Scenario
from api.sweep import KPI_COLUMNS
from api.web.base import checked, not_found, queue_job, render, territory_user
from api.web.jobs_view import recent_jobs, territory_job
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import artifact_frame, job_file
from api.web.whatif import KPI_FR
from core.errors import InputError

router = APIRouter(include_in_schema=False)
#: the search effort offered (the plan's work scale): a sweep is many plans
EFFORTS = {
    "0.1": "rapide (un dixième de l'effort d'un plan ; écart plus grand)",
    "0.3": "moyen",
    "1": "celui d'un plan de saison (le plus long)",
}
FILES = {
    "summary.html": "text/html; charset=utf-8",
    "summary.csv": "text/csv; charset=utf-8",
    "summary.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "runs.csv": "text/csv; charset=utf-8",
}
#: the KPIs a sweep keeps (``api.sweep.KPI_COLUMNS``), named as on the what-if page
KPIS_FR = {key: KPI_FR[key] for key in KPI_COLUMNS}
MAX_FACTORS = 8
MAX_SEEDS = 5


def _scenarios(request: Request, territory_id: str) -> list[Scenario]:
    with request.app.state.store.sessions() as session:
        return list(
            session.scalars(
                select(Scenario)
                .where(Scenario.territory_id == territory_id)
                .order_by(Scenario.created_at.desc())
                .limit(50)
            )
        )


def _form_context(request: Request, territory_id: str) -> dict:
    return {
        "territory_id": territory_id,
        "scenarios": _scenarios(request, territory_id),
        "efforts": EFFORTS,
        "max_seeds": MAX_SEEDS,
        "jobs": recent_jobs(request, territory_id, kind="sweep", limit=20),
    }


@router.get("/t/{territory_id}/sensibilite", response_class=HTMLResponse)
def sweep_form(request: Request, territory_id: str) -> HTMLResponse:
    user = territory_user(request, territory_id, "planner")
    return render(request, "sweep_form.html", user=user, **_form_context(request, territory_id))


def factors_of(text: str) -> list[float]:
    """Demand factors typed the French way: ``0,9 ; 1,1 ; 1,2`` (or ``0.9 1.1``)."""
    parts = [p for p in re.split(r"[;\s]+", text.strip().replace(",", ".")) if p]
    if len(parts) > MAX_FACTORS:
        raise InputError(f"Demande × : au plus {MAX_FACTORS} facteurs ; reçu {len(parts)}")
    factors = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"Demande × : « {part[:20]} » n'est pas un nombre") from None
        if not 0 < value <= 10:
            raise InputError(f"Demande × : un facteur entre 0 et 10 ; reçu {value:g}")
        factors.append(value)
    return list(dict.fromkeys(factors))


def body_of(form: dict[str, str], chosen: list[str]) -> dict:
    """The ``SweepRequest`` the form describes."""
    factors = factors_of(form.get("factors", ""))
    try:
        seeds = int(form.get("seeds", "1") or 1)
    except ValueError:
        raise InputError("Graines : un nombre entier") from None
    if not 1 <= seeds <= MAX_SEEDS:
        raise InputError(f"Graines : entre 1 et {MAX_SEEDS}")
    effort = form.get("effort") or "0.3"
    if effort not in EFFORTS:
        raise InputError("Effort : choisissez dans la liste")
    if not chosen and not factors:
        raise InputError("Choisissez au moins un scénario ou un facteur de demande.")
    body: dict = {
        "scenarios": chosen or ["base"],
        "seeds": list(range(seeds)),
        "plan": {"work": float(effort)},
    }
    if factors:
        body["grid"] = {"demand_factor": factors}
    return body


@router.post("/t/{territory_id}/sensibilite")
async def sweep_run(request: Request, territory_id: str):
    """Check the sweep as ``POST /v1/territories/{t}/sweeps`` does, queue it, follow it."""
    from api.http.sweep import SweepRequest, check_sweep

    user = territory_user(request, territory_id, "planner")
    async with request.form(max_files=0, max_fields=60) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        fields = {
            k: str(form.get(k, "") or "").strip()[:200] for k in ("factors", "seeds", "effort")
        }
        chosen = [str(v)[:36] for v in form.getlist("scenario")][:51]
    params, problems = checked(
        lambda: check_sweep(
            request.app.state.store,
            territory_id,
            SweepRequest.model_validate(body_of(fields, chosen)),
        )
    )
    if problems:
        return render(
            request,
            "sweep_form.html",
            status_code=422,
            user=user,
            problems=problems,
            form=fields,
            chosen=chosen,
            **_form_context(request, territory_id),
        )
    return queue_job(request, user, territory_id, "sweep", params, lambda p: None)


def scenario_name(label: str, names: dict[str, str]) -> str:
    """A run's scenario as the planner named it."""
    if label == "base":
        return "plan de base"
    if label.startswith("grid:demand_factor="):
        return "demande × " + label.split("=", 1)[1].replace(".", ",")
    return names.get(label, label)


@router.get("/t/{territory_id}/sensibilite/{job_id}", response_class=HTMLResponse)
def sweep_result(request: Request, territory_id: str, job_id: str) -> HTMLResponse:
    """Per scenario: the runs, errors, the largest gap and each KPI's median and spread."""
    user = territory_user(request, territory_id, "planner")
    job = territory_job(request, territory_id, job_id, "sweep")
    if job.status != "succeeded":
        raise not_found("Ce calcul n'est pas encore terminé.")
    summary = artifact_frame(request, job_id, "summary.csv")
    rows = [] if summary is None else summary.to_dict("records")
    names = {f"{s.scenario_id}.yaml": s.name for s in _scenarios(request, territory_id)}
    for row in rows:
        row["name"] = scenario_name(str(row["scenario"]), names)
    return render(
        request,
        "sweep_result.html",
        user=user,
        territory_id=territory_id,
        job=job,
        rows=rows,
        kpis=KPIS_FR,
        result=job.summary or {},
    )


@router.get("/t/{territory_id}/sensibilite/{job_id}/fichiers/{name}")
def sweep_file(request: Request, territory_id: str, job_id: str, name: str) -> Response:
    """The printable summary, or a table as CSV or Excel."""
    territory_user(request, territory_id, "planner")
    job = territory_job(request, territory_id, job_id, "sweep")
    return job_file(request, job, name, FILES, "sensibilite")
