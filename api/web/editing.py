"""Staff edits of a solved week: move stops between the day's routes (or set them aside),
see the warnings at once (capacity, opening days, shift, refrigeration, working days), lock
routes and re-optimise the rest (a new routes job with pins); the driver's phone page."""

from __future__ import annotations

import json

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api import params as door
from api.web.base import not_found, queue_job, render, territory_user
from api.web.fmt import day_fr, num_fr
from api.web.jobs_view import territory_job
from api.web.logistics import STAFF, week_view
from api.web.session import CSRF_FIELD, CSRF_HEADER, check_csrf
from api.web.stored import ROUTE_KINDS, artifact_frame, artifact_frame_table, route_file
from core.geo import haversine_km

router = APIRouter(include_in_schema=False)
ENDS = ("start", "end", "break")
CIRCUITY, SPEED_KMH = 1.3, 45.0  # the rough detour estimate of a moved stop (warnings only)
COLD = ("cold", "chilled", "frozen")
MAX_STOPS = 2000


def _minutes(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    return int(hours) * 60 + int(minutes or 0)


def _stops_of_day(view: dict, day: str) -> dict[str, dict]:
    """site_id → its stop on that day (kilos, service minutes, position, vehicle)."""
    out = {}
    for route in view["routes"].get(day, []):
        for s in route["stops"]:
            if s["action"] in ENDS or s["kind"] in ("hub", "depot"):
                continue
            entry = out.setdefault(
                s["site_id"],
                {
                    "name": s["name"],
                    "vehicle_id": route["vehicle_id"],
                    "drop_kg": 0.0,
                    "pick_kg": 0.0,
                    "service_min": 0.0,
                    "lat": float(s["lat"]),
                    "lon": float(s["lon"]),
                },
            )
            entry["drop_kg"] += float(s["drop_kg"] or 0)
            entry["pick_kg"] += float(s["pick_kg"] or 0)
            entry["service_min"] += float(s["departure_min"]) - float(s["arrival_min"])
    return out


def check_day(request: Request, territory_id: str, job, day: str, routes: dict) -> list:
    """Warnings for the day's routes as the staff arranged them (``vehicle → [site ids]``)."""
    view = week_view(request, job)
    stops = _stops_of_day(view, day)
    vehicles = artifact_frame_table(request, territory_id, "vehicles").set_index("vehicle_id")
    sites = artifact_frame_table(request, territory_id, "sites").set_index("site_id")
    hours = artifact_frame_table(request, territory_id, "opening_hours")
    schedule = artifact_frame(request, job.job_id, route_file(job, "schedule.csv"))
    cold_sites = set()
    if schedule is not None:
        today = schedule[schedule["day"] == day]
        cold_sites = {
            site
            for site, visit in zip(today["site_id"], today["job_id"], strict=False)
            if str(visit).rsplit("_", 1)[-1] in COLD
        }
    warnings = []

    def warn(vehicle: str, site: str | None, kind: str, message: str) -> None:
        warnings.append({"vehicle_id": vehicle, "site_id": site, "kind": kind, "message": message})

    for target, site_ids in routes.items():
        if target.startswith("@"):  # moved to another day of the week
            _other_day(
                warn,
                target[1:],
                [stops[s] | {"site_id": s} for s in site_ids if s in stops],
                sites,
                hours,
            )
    for vehicle, site_ids in routes.items():
        if vehicle not in vehicles.index:
            continue
        v = vehicles.loc[vehicle]
        ordered = [stops[s] | {"site_id": s} for s in site_ids if s in stops]
        if not ordered:
            continue
        if day not in str(v.get("days", "")).split(","):
            warn(vehicle, None, "jour", f"{vehicle} ne roule pas le {day_fr(day)}")
        capacity = float(v["capacity_kg"])
        for label, key in (("à livrer", "drop_kg"), ("à enlever", "pick_kg")):
            total = sum(s[key] for s in ordered)
            if total > capacity:
                warn(
                    vehicle,
                    None,
                    "capacité",
                    f"{vehicle} : {num_fr(total)} kg {label} pour {num_fr(capacity)} kg "
                    "de capacité",
                )
        if str(v.get("refrigerated", "")).lower() not in ("true", "1", "yes", "oui"):
            for s in ordered:
                if s["site_id"] in cold_sites:
                    warn(
                        vehicle,
                        s["site_id"],
                        "froid",
                        f"{s['name']} : produits frais sur {vehicle}, qui n'est pas réfrigéré",
                    )
        if v["depot_site_id"] in sites.index:
            depot = sites.loc[v["depot_site_id"]]
            _timing(
                warn,
                vehicle,
                v,
                (float(depot["lat"]), float(depot["lon"])),
                ordered,
                hours[hours["weekday"] == day],
            )
    return warnings


def _other_day(warn, day: str, moved: list, sites, hours) -> None:
    """A stop moved to another day: that day must be one of its opening days and, when the
    site has fixed delivery days, one of them."""
    for s in moved:
        site = s["site_id"]
        open_days = set(hours.loc[hours["site_id"] == site, "weekday"])
        if open_days and day not in open_days:
            warn(f"@{day}", site, "horaires", f"{s['name']} est fermé le {day_fr(day)}")
        fixed = str(sites.loc[site].get("delivery_days", "")) if site in sites.index else ""
        if fixed.strip() and day not in fixed.split(","):
            days = ", ".join(day_fr(d) for d in fixed.split(","))
            warn(f"@{day}", site, "jour", f"{s['name']} est livré le {days}, pas le {day_fr(day)}")


def _hhmm(minutes: float) -> str:
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def _timing(warn, vehicle: str, v, depot: tuple[float, float], ordered: list, hours) -> None:
    """Estimated arrival at each stop in the new order (great circle × circuity at a van's
    mean speed, service times as solved, waiting for opening): a stop reached after its last
    closing time of the day, and a route longer than the shift, are warned about."""
    start = _minutes(v["shift_start"])
    clock = start
    here = depot
    for s in ordered:
        km = float(haversine_km(here[0], here[1], s["lat"], s["lon"])) * CIRCUITY
        clock += km / SPEED_KMH * 60
        windows = hours[hours["site_id"] == s["site_id"]]
        if len(windows):
            opens = [_minutes(t) for t in windows["open"]]
            closes = [_minutes(t) for t in windows["close"]]
            later = [o for o, c in zip(opens, closes, strict=True) if c >= clock]
            if not later:
                warn(
                    vehicle,
                    s["site_id"],
                    "horaires",
                    f"{s['name']} : arrivée vers {_hhmm(clock)}, après la fermeture "
                    f"({_hhmm(max(closes))})",
                )
            else:
                clock = max(clock, min(later))
        clock += s["service_min"]
        here = (s["lat"], s["lon"])
    clock += float(haversine_km(here[0], here[1], depot[0], depot[1])) * CIRCUITY / SPEED_KMH * 60
    end = min(_minutes(v["shift_end"]), start + float(v.get("max_route_h") or 24) * 60)
    if clock > end:
        warn(
            vehicle,
            None,
            "service",
            f"{vehicle} : retour vers {_hhmm(clock)}, après la fin de service ({_hhmm(end)})",
        )


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    if len(raw) > 256 * 1024:
        raise not_found()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise not_found()
    return body


def _routes_of(body: dict) -> dict[str, list[str]]:
    routes = body.get("routes")
    if (
        not isinstance(routes, dict)
        or sum(len(v) for v in routes.values() if isinstance(v, list)) > MAX_STOPS
    ):
        raise not_found()
    return {str(k)[:64]: [str(s)[:64] for s in v] for k, v in routes.items() if isinstance(v, list)}


@router.post("/t/{territory_id}/tournees/{job_id}/verifier")
async def verify(request: Request, territory_id: str, job_id: str) -> JSONResponse:
    """The warnings of a day as arranged in the page (JSON, CSRF header)."""
    user = territory_user(request, territory_id, *STAFF)
    check_csrf(user, request.headers.get(CSRF_HEADER))
    job = territory_job(request, territory_id, job_id, tuple(ROUTE_KINDS))
    if job.status != "succeeded":
        raise not_found()
    body = await _json_body(request)
    day = str(body.get("day", ""))
    if day not in week_view(request, job)["days"]:
        raise not_found()
    warnings = check_day(request, territory_id, job, day, _routes_of(body))
    return JSONResponse({"warnings": warnings}, headers={"Cache-Control": "no-store"})


def pins_of(view: dict, day: str, routes: dict[str, list[str]], locked: set[str]) -> list[str]:
    """Pins for a re-optimisation: every stop of a locked route, and every stop moved to
    another route, stays on its (new) vehicle that day; a stop moved to another day
    (``@thu``) is served that day."""
    stops = _stops_of_day(view, day)
    pins = []
    for vehicle, site_ids in routes.items():
        for site in site_ids:
            if site not in stops:
                continue
            if vehicle.startswith("@"):  # moved to another day, any vehicle
                pins.append(f"{site}={vehicle}")
            elif vehicle in locked or stops[site]["vehicle_id"] != vehicle:
                pins.append(f"{site}={vehicle}@{day}")
    return sorted(set(pins))


@router.post("/t/{territory_id}/tournees/{job_id}/reoptimiser")
async def reoptimise(request: Request, territory_id: str, job_id: str):
    """A new routes job of the same week: locked routes and moved stops pinned, the rest
    re-optimised; then its live progress."""
    user = territory_user(request, territory_id, *STAFF)
    job = territory_job(request, territory_id, job_id, tuple(ROUTE_KINDS))
    async with request.form(max_files=0, max_fields=200) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        day = str(form.get("day", ""))
        locked = {str(v) for v in form.getlist("locked")}
        try:
            arrangement = json.loads(str(form.get("arrangement", "{}")))
        except ValueError:
            arrangement = {}
    view = week_view(request, job)
    if job.status != "succeeded" or day not in view["days"]:
        raise not_found()
    routes = (
        _routes_of({"routes": arrangement})
        if arrangement
        else {r["vehicle_id"]: [s["site_id"] for s in r["stops"]] for r in view["routes"][day]}
    )
    params = {k: v for k, v in job.params.items() if k != "pins"}
    params["pins"] = pins_of(view, day, routes, locked)
    return queue_job(request, user, territory_id, job.kind, params, door.route_params_of)


@router.get(
    "/t/{territory_id}/tournees/{job_id}/chauffeur/{day}/{vehicle_id}",
    response_class=HTMLResponse,
)
def driver(request: Request, territory_id: str, job_id: str, day: str, vehicle_id: str):
    """The driver's phone page: stops in order, address, phone, what to drop and pick, a link
    that opens the phone's map app."""
    user = territory_user(request, territory_id, *STAFF)
    job = territory_job(request, territory_id, job_id, tuple(ROUTE_KINDS))
    if job.status != "succeeded":
        raise not_found()
    view = week_view(request, job)
    route = next((r for r in view["routes"].get(day, []) if r["vehicle_id"] == vehicle_id), None)
    if route is None:
        raise not_found("Ce camion ne roule pas ce jour-là.")
    sites = artifact_frame_table(request, territory_id, "sites").set_index("site_id")
    stops = []
    for s in route["stops"]:
        site = sites.loc[s["site_id"]] if s["site_id"] in sites.index else pd.Series(dtype=str)
        stops.append(
            s
            | {
                "address": ", ".join(
                    x for x in (site.get("address", ""), site.get("commune", "")) if x
                )
            }
        )
    return render(
        request,
        "driver.html",
        user=user,
        territory_id=territory_id,
        job=job,
        day=day,
        route=route,
        stops=stops,
    )
