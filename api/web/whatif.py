"""What-if: a form builds a scenario (the planner's YAML), runs it from a base plan, and the
result is compared with the base side by side (KPIs with solver-noise flags, charts)."""

from __future__ import annotations

import uuid

import pandas as pd
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from api import jobs
from api.store.models import Job, Scenario, utcnow
from api.web.base import not_found, render, territory_user
from api.web.charts import Series, bar_chart, line_chart
from api.web.fmt import date_fr
from api.web.jobs_view import territory_job
from api.web.messages import error_fr
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import artifact_frame, artifact_frame_table, latest_jobs
from core.errors import InputError, VivresError

router = APIRouter(include_in_schema=False)
KPI_FR = {
    "coverage_pct": ("Couverture de la demande", "%"),
    "shortfall_kg": ("Manque", "kg"),
    "waste_kg": ("Pertes", "kg"),
    "purchase_cost_eur": ("Achats aux fermes", "€"),
    "revenue_farm_min_eur": ("Plus petit chiffre d'affaires de ferme", "€"),
    "revenue_farm_median_eur": ("Chiffre d'affaires médian", "€"),
    "farms_below_floor": ("Fermes sous le plancher", ""),
    "floor_gap_eur": ("Écart total au plancher", "€"),
    "local_share_pct": ("Part locale", "%"),
    "farms_supplying": ("Fermes qui livrent", ""),
    "beds": ("Planches", ""),
    "gap_pct": ("Écart à l'optimum (solveur)", "%"),
}
PARAMS_KEPT = ("work", "seed", "horizon_weeks", "gap", "solver", "stop")


def _number(form, name: str, *, low: float, high: float, label: str) -> float | None:
    text = str(form.get(name, "") or "").strip().replace(",", ".").replace("\u202f", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{label} : « {text[:20]} » n'est pas un nombre") from None
    if not low <= value <= high:
        raise InputError(f"{label} : doit être entre {low:g} et {high:g} ; reçu {value:g}")
    return value


def scenario_of(form) -> dict:
    """The scenario document the form describes (checked again by the planner's reader)."""
    changes: list[dict] = []
    if form.get("drop_farm"):
        changes.append({"drop_farm": str(form["drop_farm"])})
    factor = _number(form, "demand_factor", low=0, high=10, label="Demande ×")
    if factor is not None:
        spec: dict = {"factor": factor}
        if form.get("demand_product"):
            spec["product"] = str(form["demand_product"])
        changes.append({"demand": spec})
    shock = _number(form, "yield_pct", low=0, high=300, label="Rendement (%)")
    if shock is not None:
        if not form.get("yield_product"):
            raise InputError("Rendement : choisissez le produit touché")
        spec = {"product": str(form["yield_product"]), "factor": shock / 100}
        first = _number(form, "yield_from", low=1, high=53, label="Semaine de début")
        last = _number(form, "yield_to", low=1, high=53, label="Semaine de fin")
        if first is not None and last is not None:
            spec["weeks"] = [int(first), int(last)]
        changes.append({"yield_shock": spec})
    households = _number(form, "households", low=0, high=100_000, label="Foyers en plus")
    if households:
        changes.append({"caisse_households": int(households)})
    price = _number(form, "price_pct", low=0, high=1000, label="Prix (%)")
    if price is not None:
        if not form.get("price_product"):
            raise InputError("Prix : choisissez le produit")
        changes.append({"price": {"product": str(form["price_product"]), "factor": price / 100}})
    if not changes:
        raise InputError("Le scénario ne change rien : remplissez au moins un champ.")
    name = str(form.get("name", "") or "").strip()[:80] or "scénario"
    return {"name": name, "changes": changes}


def _choices(request: Request, territory_id: str) -> dict:
    producers = artifact_frame_table(request, territory_id, "producers")
    products = artifact_frame_table(request, territory_id, "products")
    bases = [j for j in latest_jobs(request, territory_id, "plan", limit=20) if not j.scenario_id]
    with request.app.state.store.sessions() as session:
        runs = list(
            session.scalars(
                select(Job)
                .where(Job.territory_id == territory_id, Job.kind == "plan")
                .where(Job.scenario_id.is_not(None))
                .order_by(Job.created_at.desc())
                .limit(20)
            )
        )
        names = {
            s.scenario_id: s.name
            for s in session.scalars(select(Scenario).where(Scenario.territory_id == territory_id))
        }
    return {
        "producers": producers.to_dict("records"),
        "products": products.to_dict("records"),
        "bases": bases,
        "runs": runs,
        "scenario_names": names,
    }


@router.get("/t/{territory_id}/scenarios", response_class=HTMLResponse)
def whatif_form(request: Request, territory_id: str) -> HTMLResponse:
    user = territory_user(request, territory_id, "planner")
    return render(
        request,
        "whatif.html",
        user=user,
        territory_id=territory_id,
        **_choices(request, territory_id),
    )


@router.post("/t/{territory_id}/scenarios")
async def whatif_run(request: Request, territory_id: str):
    """Store the scenario and queue its plan from the chosen base plan (same settings)."""
    from api.http.scenarios import _validate

    user = territory_user(request, territory_id, "planner")
    async with request.form(max_files=0, max_fields=30) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        fields = {k: str(v) for k, v in form.items()}
    try:
        doc = scenario_of(fields)
        body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        _validate(doc["name"], body)
        base = territory_job(request, territory_id, fields.get("base_job_id", ""), "plan")
        if base.status != "succeeded" or base.scenario_id:
            raise InputError("Choisissez un plan de base terminé.")
        params = {k: base.params[k] for k in PARAMS_KEPT if k in base.params}
        params["base_job_id"] = base.job_id
        with request.app.state.store.session() as session:
            scenario = Scenario(
                scenario_id=str(uuid.uuid4()),
                territory_id=territory_id,
                name=doc["name"],
                body=body,
                created_at=utcnow(),
            )
            session.add(scenario)
            scenario_id = scenario.scenario_id
        job = jobs.submit(
            request.app.state.store, territory_id, "plan", params, scenario_id=scenario_id
        )
    except VivresError as exc:
        return render(
            request,
            "whatif.html",
            status_code=422,
            user=user,
            territory_id=territory_id,
            message=error_fr(exc),
            form=fields,
            **_choices(request, territory_id),
        )
    return RedirectResponse(f"/t/{territory_id}/travaux/{job.job_id}", status_code=303)


def _collection_km(request: Request, job_id: str) -> float:
    """A plan's collection distance, estimated: one round trip farm ↔ hub (``km_to_hub``)
    per farm and week with a harvest (the routes of a week give the real figure)."""
    harvest = artifact_frame(request, job_id, "harvest.csv")
    farms = artifact_frame(request, job_id, "farms.csv").set_index("producer_id")
    weeks = harvest[harvest["kg"] > 0].groupby("producer_id")["week_start"].nunique()
    km = farms["km_to_hub"].reindex(weeks.index).fillna(0.0)
    return float((2 * km * weeks).sum())


def _fleet_co2_per_km(request: Request, territory_id: str) -> float:
    vehicles = artifact_frame_table(request, territory_id, "vehicles")
    values = pd.to_numeric(vehicles["co2_kg_per_km"], errors="coerce").dropna()
    return float(values.mean()) if len(values) else 0.0


def _weekly_coverage(request: Request, job_id: str) -> pd.Series:
    coverage = artifact_frame(request, job_id, "coverage.csv")
    weekly = coverage.groupby("week_start")[["served_kg", "demand_kg"]].sum()
    return 100 * weekly["served_kg"] / weekly["demand_kg"].where(weekly["demand_kg"] > 0)


@router.get("/t/{territory_id}/scenarios/{job_id}", response_class=HTMLResponse)
def whatif_compare(request: Request, territory_id: str, job_id: str) -> HTMLResponse:
    """The scenario's plan beside its base: KPIs (with the solver-noise flag), weekly
    coverage and each farm's revenue against its floor."""
    from planner import within_noise

    user = territory_user(request, territory_id, "planner")
    job = territory_job(request, territory_id, job_id, "plan")
    if job.status != "succeeded":
        return RedirectResponse(f"/t/{territory_id}/travaux/{job_id}", status_code=303)
    base_id = job.params.get("base_job_id")
    if not job.scenario_id or not base_id:
        raise not_found("Ce plan n'est pas un scénario.")
    base = territory_job(request, territory_id, base_id, "plan")
    kpis_a = (base.summary or {}).get("kpis", {})
    kpis_b = (job.summary or {}).get("kpis", {})
    noise = within_noise(kpis_a, kpis_b)
    rows = []
    for key, (label, unit) in KPI_FR.items():
        a, b = kpis_a.get(key), kpis_b.get(key)
        if a is None and b is None:
            continue
        change = b - a if isinstance(a, int | float) and isinstance(b, int | float) else None
        rows.append(
            {
                "label": label,
                "unit": unit,
                "a": a,
                "b": b,
                "change": change,
                "noise": noise.get(key),
            }
        )
    co2_per_km = _fleet_co2_per_km(request, territory_id)
    for label, unit, factor in (
        ("Collecte estimée (aller-retour ferme ↔ pôle par semaine de récolte)", "km", 1.0),
        ("CO₂ de la collecte estimée", "kg", co2_per_km),
    ):
        a, b = (_collection_km(request, j) * factor for j in (base_id, job_id))
        rows.append({"label": label, "unit": unit, "a": a, "b": b, "change": b - a, "noise": None})
    cov_a, cov_b = _weekly_coverage(request, base_id), _weekly_coverage(request, job_id)
    weeks = sorted(set(cov_a.index) | set(cov_b.index))
    coverage_chart = line_chart(
        "Couverture de la demande par semaine (%), base et scénario",
        [date_fr(w) for w in weeks],
        [
            Series("base", cov_a.reindex(weeks).fillna(0).tolist()),
            Series("scénario", cov_b.reindex(weeks).fillna(0).tolist()),
        ],
        unit="%",
    )
    farms_a = artifact_frame(request, base_id, "farms.csv").set_index("producer_id")
    farms_b = artifact_frame(request, job_id, "farms.csv").set_index("producer_id")
    ids = list(farms_a.index)
    revenue_b = farms_b["revenue_eur"].reindex(ids).fillna(0.0)
    farms = [
        {
            "name": farms_a.at[p, "name"],
            "floor": float(farms_a.at[p, "min_revenue_eur"]),
            "a": float(farms_a.at[p, "revenue_eur"]),
            "b": float(revenue_b[p]),
        }
        for p in ids
    ]
    farm_chart = bar_chart(
        "Chiffre d'affaires par ferme (€), base et scénario ; trait noir : plancher équitable",
        [f["name"][:14] for f in farms],
        [Series("base", [f["a"] for f in farms]), Series("scénario", [f["b"] for f in farms])],
        unit="€",
        floor=[f["floor"] for f in farms],
    )
    with request.app.state.store.sessions() as session:
        scenario = session.get(Scenario, job.scenario_id)
    return render(
        request,
        "compare.html",
        user=user,
        territory_id=territory_id,
        job=job,
        base=base,
        scenario=scenario,
        rows=rows,
        farms=farms,
        coverage_chart=coverage_chart,
        farm_chart=farm_chart,
    )
