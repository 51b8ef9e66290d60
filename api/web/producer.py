"""Producers: « mes engagements » — the contract of the latest plan and the trucks' pickups."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.store.models import Job
from api.web.base import producer_user, render
from api.web.stored import ROUTE_KINDS, artifact_frame, artifact_json, latest_jobs, route_file
from core.safety import ID_PATTERN

_ID = re.compile(ID_PATTERN)

router = APIRouter(include_in_schema=False)
MAX_WEEKS = 6


def contract_of(request: Request, plan: Job, producer_id: str) -> dict | None:
    """The producer's contract in a plan: plantings, weekly kilos, revenue against its floor."""
    table = artifact_frame(request, plan.job_id, f"contracts/{producer_id}.csv")
    if table is None:
        return None
    plantings = table[table["section"] == "planting"].to_dict("records")
    deliveries = table[table["section"] == "delivery"]
    weekly = (
        deliveries.groupby(["week_start", "product_id"], as_index=False)["kg"].sum()
        if len(deliveries)
        else deliveries
    )
    farms = artifact_frame(request, plan.job_id, "farms.csv")
    farm = None
    if farms is not None:
        rows = farms[farms["producer_id"] == producer_id].to_dict("records")
        farm = rows[0] if rows else None
    return {
        "plan": plan,
        "plantings": plantings,
        "weekly": weekly.to_dict("records"),
        "revenue_eur": float(sum(p["revenue_eur"] for p in plantings)),
        "revenue_ttc_eur": float(sum(p.get("revenue_eur_ttc") or 0 for p in plantings)),
        "farm": farm,
    }


def pickups_of(request: Request, territory_id: str, producer_id: str) -> list[dict]:
    """Per week (the newest routes job of each), when a truck comes to the farm."""
    seen: dict[str, Job] = {}
    for job in latest_jobs(request, territory_id, tuple(ROUTE_KINDS)):
        # routes jobs name a season week (48), week jobs an ISO week: both have a Monday
        monday = str((job.summary or {}).get("week_start") or job.params.get("week_start", ""))
        seen.setdefault(monday or f"#{job.params.get('week')}", job)
    weeks = []
    for key in sorted(seen)[-MAX_WEEKS:]:
        job = seen[key]
        week = job.params.get("week", "")
        table = artifact_json(request, job.job_id, route_file(job, "pickups_by_producer.json"))
        table = table or {}
        weeks.append(
            {
                "week": week,
                "week_start": (job.summary or {}).get("week_start"),
                "job_id": job.job_id,
                "pickups": table.get(producer_id, []),
            }
        )
    return weeks


@router.get("/t/{territory_id}/producteurs/{producer_id}/engagements", response_class=HTMLResponse)
def commitments(request: Request, territory_id: str, producer_id: str) -> HTMLResponse:
    """The contract of the newest plan (printable) and the next pickups at the farm."""
    user = producer_user(request, territory_id, producer_id)
    if not _ID.match(producer_id):
        from api.web.base import not_found

        raise not_found()
    plans = latest_jobs(request, territory_id, "plan", limit=1)
    contract = contract_of(request, plans[0], producer_id) if plans else None
    if plans and contract is None and user.role != "producer":
        from api.web.base import not_found

        raise not_found("Ce producteur n'a pas de contrat dans le dernier plan.")
    return render(
        request,
        "producer.html",
        user=user,
        territory_id=territory_id,
        producer_id=producer_id,
        contract=contract,
        weeks=pickups_of(request, territory_id, producer_id),
    )
