"""Hub planners' pages: demand (history, forecast with its 80 % band, per shop), the season
plan (plantings calendar, coverage, shortfalls and why), the caisse ledger."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api import params as door
from api.web.base import not_found, queue_job, render, territory_user
from api.web.charts import Series, line_chart
from api.web.fmt import date_fr
from api.web.jobs_view import territory_job
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import artifact_frame, artifact_frame_table, latest_jobs

router = APIRouter(include_in_schema=False)


@router.post("/t/{territory_id}/calculer/{kind}")
async def run_job(request: Request, territory_id: str, kind: str):
    """Queue a demand build or a season plan with the default settings; go to its progress."""
    user = territory_user(request, territory_id, "planner")
    if kind not in ("demand", "plan"):
        raise not_found()
    async with request.form(max_files=0, max_fields=5) as form:
        check_csrf(user, form.get(CSRF_FIELD))
    build = door.demand_settings_of if kind == "demand" else door.plan_params_of
    return queue_job(request, user, territory_id, kind, {}, build)


@router.get("/t/{territory_id}/demande", response_class=HTMLResponse)
def demand(request: Request, territory_id: str, produit: str | None = None) -> HTMLResponse:
    """One product's weekly history and forecast (80 % band), and its forecast per shop."""
    user = territory_user(request, territory_id, "planner")
    found = latest_jobs(request, territory_id, "demand", limit=1)
    context = {"user": user, "territory_id": territory_id, "job": found[0] if found else None}
    if not found:
        return render(request, "demand.html", **context)
    job_id = found[0].job_id
    weekly = artifact_frame(request, job_id, "weekly.csv")
    forecast = artifact_frame(request, job_id, "hub_forecast.csv")
    by_shop = artifact_frame(request, job_id, "forecast.csv")
    products = sorted(set(forecast["product_id"]) | set(weekly["product_id"]))
    product = produit if produit in products else (products[0] if products else None)
    if produit is not None and produit != product:
        raise not_found("Ce produit n'est pas dans la demande.")
    history = weekly[weekly["product_id"] == product].groupby("week_start")["kg"].sum()
    ahead = (
        forecast[forecast["product_id"] == product]
        .groupby("week_start")[["kg", "low", "high"]]
        .sum()
    )
    labels = [date_fr(w) for w in [*history.index, *ahead.index]]
    n_hist = len(history)
    pad = [float("nan")] * n_hist
    chart = line_chart(
        f"Demande hebdomadaire de {product} : historique puis prévision (bande 80 %)",
        labels,
        [
            Series("historique", history.tolist()),
            Series(
                "prévision",
                [*pad, *ahead["kg"].tolist()],
                low=[*pad, *ahead["low"].tolist()],
                high=[*pad, *ahead["high"].tolist()],
            ),
        ],
        unit="kg",
    )
    shops = (
        by_shop[by_shop["product_id"] == product]
        .groupby("site_id")[["kg", "low", "high"]]
        .sum()
        .reset_index()
        .sort_values("kg", ascending=False)
    )
    sites = artifact_frame_table(request, territory_id, "sites")
    names = dict(zip(sites["site_id"], sites["name"], strict=True))
    shops["name"] = [names.get(s, s) for s in shops["site_id"]]
    return render(
        request,
        "demand.html",
        products=products,
        product=product,
        chart=chart,
        history=history.reset_index().to_dict("records"),
        ahead=ahead.reset_index().to_dict("records"),
        shops=shops.to_dict("records"),
        **context,
    )


def season_weeks(coverage: pd.DataFrame) -> list[str]:
    return sorted(set(coverage["week_start"]))


def calendar(plan: pd.DataFrame, weeks: list[str]) -> list[dict]:
    """Per farm and crop line: the cells of each season week (planting, harvest or none)."""
    starts = pd.to_datetime(pd.Series(weeks))
    first = starts.iloc[0] if len(starts) else None

    def week_of(date) -> int | None:
        if first is None or pd.isna(date):
            return None
        return int((pd.Timestamp(date) - first).days // 7) + 1

    rows = []
    for (farm, crop), group in plan.groupby(["farm", "crop"], sort=True):
        cells = [""] * len(weeks)
        for line in group.itertuples(index=False):
            start, end = week_of(line.first_harvest), week_of(line.last_harvest)
            if start is not None and end is not None:
                for w in range(max(start, 1), min(end, len(weeks)) + 1):
                    cells[w - 1] = "harvest"
            planted = int(line.plant_week)
            if 1 <= planted <= len(weeks):
                cells[planted - 1] = "on"
        rows.append({"farm": farm, "crop": crop, "cells": cells, "beds": int(group["beds"].sum())})
    return rows


@router.get("/t/{territory_id}/plan", response_class=HTMLResponse)
def season_plan(request: Request, territory_id: str, job: str | None = None) -> HTMLResponse:
    """The season plan: plantings per farm by week, coverage per product and week, who is
    short and why, each farm's revenue against its fair floor."""
    user = territory_user(request, territory_id, "planner")
    if job is not None:
        plan_job = territory_job(request, territory_id, job, "plan")
        if plan_job.status != "succeeded":
            return RedirectResponse(f"/t/{territory_id}/travaux/{job}", status_code=303)
    else:
        found = [
            j for j in latest_jobs(request, territory_id, "plan", limit=20) if not j.scenario_id
        ]
        plan_job = found[0] if found else None
    context = {"user": user, "territory_id": territory_id, "job": plan_job}
    if plan_job is None:
        return render(request, "plan.html", **context)
    job_id = plan_job.job_id
    coverage = artifact_frame(request, job_id, "coverage.csv")
    plan = artifact_frame(request, job_id, "plan.csv")
    weeks = season_weeks(coverage)
    table = coverage.pivot_table(
        index="product_id", columns="week_start", values="coverage", aggfunc="first"
    ).reindex(columns=weeks)
    return render(
        request,
        "plan.html",
        weeks=weeks,
        calendar=calendar(plan, weeks),
        coverage=[
            {"product_id": p, "cells": [None if pd.isna(v) else float(v) for v in row]}
            for p, row in table.iterrows()
        ],
        shortfalls=artifact_frame(request, job_id, "shortfalls.csv").fillna("").to_dict("records"),
        farms=artifact_frame(request, job_id, "farms.csv").fillna("").to_dict("records"),
        kpis=(plan_job.summary or {}).get("kpis", {}),
        explanation=(plan_job.summary or {}).get("explanation", []),
        **context,
    )


@router.get("/t/{territory_id}/caisse", response_class=HTMLResponse)
def caisse(request: Request, territory_id: str) -> HTMLResponse:
    """The caisse commune's ledger per month and its co-financing need."""
    from api import pipeline
    from api.store import territories as store_t

    user = territory_user(request, territory_id, "planner")
    store = request.app.state.store
    row = store_t.territory_row(store, territory_id)
    key = ("web-ledger", territory_id, row.created_at, row.version)
    ledger = request.app.state.results.get(key)
    if ledger is None:
        with store_t.checked_out(store, territory_id) as (folder, _):
            territory = pipeline.load(folder, strict=False)
            ledger = pipeline.caisse_ledger(territory).fillna("").to_dict("records")
        request.app.state.results.put(key, ledger, 512 * len(ledger) + 1024)
    total = sum(float(r.get("cofinancing_eur") or 0) for r in ledger)
    return render(
        request,
        "caisse.html",
        user=user,
        territory_id=territory_id,
        ledger=ledger,
        cofinancing_eur=total,
    )
