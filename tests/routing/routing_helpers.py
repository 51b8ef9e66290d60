"""Builders of tiny hand-checkable routing problems; paths to the shared extracts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from routing.model import RouteParams, WeekProblem

#: Tests stop each day's search by itself (a local optimum) or by a count of solutions, never
#: by the clock: the time limit is a safety cap no problem of these tests comes near.
COUNTED = RouteParams(time_limit_s=120, day_solution_limit=1000)

OSM_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "osm"
VRP_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "benchmarks" / "vrp"


def site(site_id: str, kind: str, lat: float, lon: float, **kw) -> dict:
    row = {
        "site_id": site_id,
        "name": f"Site {site_id}",
        "kind": kind,
        "address": "",
        "lat": lat,
        "lon": lon,
        "service_min": 10.0,
        "contact": "",
        "notes": "",
        "deliveries_per_week": 1,
        "delivery_days": "",
    }
    row.update(kw)
    return row


def vehicle(vehicle_id: str, **kw) -> dict:
    row = {
        "vehicle_id": vehicle_id,
        "organisation": "org",
        "depot_site_id": "HUB",
        "kind": "van",
        "capacity_kg": 1000.0,
        "capacity_pallets": 4,
        "refrigerated": True,
        "cost_per_km_eur": 0.3,
        "cost_per_hour_eur": 25.0,
        "shift_start": 360.0,
        "shift_end": 840.0,
        "max_route_h": 8.0,
        "break_min": 0.0,
        "co2_kg_per_km": 0.25,
        "days": ("mon", "tue", "wed", "thu", "fri"),
    }
    row.update(kw)
    return row


def job(
    site_id: str,
    kg: float,
    *,
    kind: str = "delivery",
    cold: bool = False,
    fixed_days: tuple[str, ...] = ("mon",),
    visits: int = 1,
    src: str | None = None,
) -> dict:
    src = src or ("HUB" if kind == "delivery" else site_id)
    dst = site_id if kind != "pickup" else "HUB"
    return {
        "job_id": f"{kind}_{site_id}_{'cold' if cold else 'dry'}",
        "kind": kind,
        "site_id": site_id,
        "from_site_id": src,
        "to_site_id": dst,
        "cold": cold,
        "kg": kg,
        "pallets": round(kg / 300, 1),
        "visits": visits,
        "fixed_days": fixed_days,
        "detail": f"goods {kg:.0f} kg",
    }


def make_problem(
    sites: list[dict], vehicles: list[dict], jobs: list[dict], hours: dict | None = None
) -> WeekProblem:
    hours = hours or {}
    return WeekProblem(
        week_start=pd.Timestamp("2026-01-05"),
        hub_id="HUB",
        sites=pd.DataFrame(sites),
        vehicles=pd.DataFrame(vehicles),
        jobs=pd.DataFrame(jobs),
        hours=hours,
        sites_with_hours=frozenset(s for s, _ in hours),
    )
