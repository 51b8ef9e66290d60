"""``solve_week``: choose each stop's days, then solve each day's routes with OR-Tools."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from core.schema import WEEKDAYS
from routing import _ortools
from routing.model import Pin, RouteParams, WeekProblem, WeekRoutes
from routing.network import Matrix, RoadNetwork, travel_matrix

log = logging.getLogger(__name__)

STOP_COLUMNS = ["day", "date", "vehicle_id", "seq", "site_id", "name", "kind", "action",
                "arrival_min", "departure_min", "drop_kg", "pick_kg", "load_kg", "load_pallets",
                "detail", "contact", "notes", "lat", "lon", "dist_m", "drive_s"]
UNSERVED_COLUMNS = ["day", "site_id", "name", "job_id", "kind", "kg", "reason"]
KPI_COLUMNS = ["day", "vehicle_id", "organisation", "km", "hours", "cost_eur", "co2_kg",
               "stops", "kg_moved", "max_load_pct"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Visit:
    job_id: str
    kind: str
    site_id: str  # the stop shown to staff
    src: str
    dst: str
    cold: bool
    kg: float
    pallets: float
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Day:
    """One day's solved routes (rows for the outputs) and the visits the fleet could not take."""

    stops: list[dict]
    kpis: list[dict]
    unserved: list[dict]
    status: str
    left: list[_Visit]
    #: the solver's node routes (depots left out), to start a re-solve of the same day from
    node_routes: list[list[int]] | None = None


def _day_budget(params: RouteParams, remaining_s: float, days_left: int) -> float:
    """A fair share under guided search; under greedy descent, which stops by itself at a
    local optimum, all but one second per day still to solve (slow days borrow from fast)."""
    if params.guided:
        return remaining_s / days_left
    return max(remaining_s / days_left, remaining_s - (days_left - 1))


def _move_left_visits(problem, params, matrix, loc, sites, pins, chosen, solved, flexible, *,
                      deadline: float) -> list[tuple[str, _Visit]]:
    """Offer the visits a full day could not take to another day of the site, and keep it.

    Only sites whose days were chosen by :func:`_choose_days` move, to a day they could be
    served on, not next to their other visit days, the emptiest first (share of the fleet's
    kilos and hours used). A day is re-solved with its newcomers and the new routes are kept
    only when fewer kilos are left unserved overall; ``chosen`` is returned updated.
    """
    capacity_kg, capacity_h = {}, {}
    for day in WEEKDAYS:
        working = _working(problem, day)
        capacity_kg[day] = float(working["capacity_kg"].sum())
        capacity_h[day] = float(working["max_route_h"].sum())
    used_kg = {d: sum(k["kg_moved"] for k in r.kpis) for d, r in solved.items()}
    used_h = {d: sum(k["hours"] for k in r.kpis) for d, r in solved.items()}
    days_of: dict[str, set[str]] = {}
    for day, visit in chosen:
        days_of.setdefault(visit.site_id, set()).add(day)

    offers: dict[str, list[tuple[str, _Visit]]] = {}
    for origin, result in solved.items():
        for visit in result.left:
            if visit.site_id not in flexible:
                continue
            taken = days_of[visit.site_id]
            near = {WEEKDAYS[i + k] for d in taken - {origin} for k in (-1, 1)
                    if 0 <= (i := WEEKDAYS.index(d)) + k < len(WEEKDAYS)}
            cand = [d for d in flexible[visit.site_id] if d not in taken and d not in near]
            if not cand:
                continue
            target = min(cand, key=lambda d: (max(
                (used_kg.get(d, 0.0) + visit.kg) / max(capacity_kg[d], 1.0),
                used_h.get(d, 0.0) / max(capacity_h[d], 1.0)), WEEKDAYS.index(d)))
            used_kg[target] = used_kg.get(target, 0.0) + visit.kg
            offers.setdefault(target, []).append((origin, visit))
            days_of[visit.site_id].add(target)

    moved: dict[int, str] = {}
    for n, (target, offered) in enumerate(sorted(offers.items(),
                                                 key=lambda kv: WEEKDAYS.index(kv[0]))):
        budget = max(0.2, _day_budget(params, deadline - time.perf_counter(), len(offers) - n))
        visits = [v for d, v in chosen if d == target] + [v for _, v in offered]
        before = solved.get(target)
        before_kg = sum(v.kg for v in before.left) if before else 0.0
        # the newcomers come last, so the day's earlier routes are a valid start
        after = _solve_day(problem, params, matrix, loc, sites, target, visits, pins, budget,
                           movable=frozenset(flexible),
                           initial_routes=before.node_routes if before else None)
        after_kg = sum(v.kg for v in after.left)
        log.info("%s offered %d visit(s) (%.0f kg): left %.0f kg before, %.0f kg after, %s",
                 target, len(offered), sum(v.kg for _, v in offered), before_kg, after_kg,
                 after.status)
        if after_kg >= before_kg + sum(v.kg for _, v in offered) - 1e-6:
            continue  # the newcomers did not fit there either: they stay unserved where they were
        solved[target] = after
        for origin, visit in offered:
            moved[id(visit)] = target
            gone = solved[origin]
            solved[origin] = dataclasses.replace(
                gone, left=[v for v in gone.left if v is not visit],
                unserved=[u for u in gone.unserved if u["job_id"] != visit.job_id])
        log.info("%s: took %d visit(s) another day could not", target, len(offered))
    return [(moved.get(id(v), d), v) for d, v in chosen]


def _pins_by_site(problem: WeekProblem, pins: tuple[Pin, ...]) -> dict[str, Pin]:
    known_sites = set(problem.sites["site_id"])
    known_vehicles = set(problem.vehicles["vehicle_id"])
    out = {}
    for pin in pins:
        if pin.site_id not in known_sites:
            raise InputError(f"pin: unknown site {pin.site_id!r}")
        if pin.vehicle_id is not None and pin.vehicle_id not in known_vehicles:
            raise InputError(f"pin of {pin.site_id}: unknown vehicle {pin.vehicle_id!r}")
        out[pin.site_id] = pin
    return out


def _working(problem: WeekProblem, day: str) -> pd.DataFrame:
    vehicles = problem.vehicles
    return vehicles.loc[[day in days for days in vehicles["days"]]]


def _choose_days(problem: WeekProblem, params: RouteParams, pins: dict[str, Pin],
                 matrix: Matrix, loc: dict[str, int], sites: pd.DataFrame,
                 ) -> tuple[list[tuple[str, _Visit]], list[dict], dict[str, list[str]]]:
    """Spread each site's visits over the week: its frequency, not on consecutive days.

    Returns the (day, visit) pairs, what cannot be scheduled, and the candidate days of the
    sites whose days were chosen here (neither fixed nor pinned).

    A day is a candidate for a site when some vehicle working that day (refrigerated for cold
    goods, the pinned one if pinned) could reach it inside its opening hours and come back
    within its shift.
    """
    jobs = problem.jobs
    load = dict.fromkeys(WEEKDAYS, 0.0)
    working_on = {day: _working(problem, day) for day in WEEKDAYS}
    # balance the days by the share of each day's fleet capacity they use, not by raw kilos
    capacity = {day: float(working_on[day]["capacity_kg"].sum()) for day in WEEKDAYS}
    chosen: list[tuple[str, _Visit]] = []
    unserved: list[dict] = []
    rng = np.random.default_rng(params.seed)
    site_name = dict(zip(problem.sites["site_id"], problem.sites["name"], strict=True))

    groups = list(jobs.groupby("site_id", sort=True))
    # the most constrained sites first; the seed breaks ties among equals
    order = rng.permutation(len(groups))
    options: dict[str, list[str]] = {}
    flexible: dict[str, list[str]] = {}
    for site_id, site_jobs in groups:
        pin = pins.get(site_id)
        cold = bool(site_jobs["cold"].any())
        job = site_jobs.iloc[0]
        probe = _Visit(job_id=job["job_id"], kind=job["kind"], site_id=site_id,
                       src=job["from_site_id"], dst=job["to_site_id"], cold=cold, kg=0.0,
                       pallets=0.0, detail="")
        vehicle_days = []
        for day in WEEKDAYS:
            if problem.windows(site_id, day) == ():
                continue
            working = working_on[day]
            if pin and pin.vehicle_id:
                working = working.loc[working["vehicle_id"] == pin.vehicle_id]
            if cold:
                working = working.loc[working["refrigerated"]]
            if any(_alone_feasible(problem, matrix, loc, sites, params, day, probe, vehicle)
                   for _, vehicle in working.iterrows()):
                vehicle_days.append(day)
        options[site_id] = vehicle_days

    def constrained(i: int) -> tuple[int, int]:
        site_id, site_jobs = groups[i]
        pin = pins.get(site_id)
        fixed = bool(site_jobs["fixed_days"].iloc[0]) or bool(pin and pin.day)
        return (0 if fixed else len(options[site_id]), i)

    groups = [groups[i] for i in sorted(order, key=constrained)]

    for site_id, site_jobs in groups:
        pin = pins.get(site_id)
        visits = int(site_jobs["visits"].max())
        fixed = site_jobs["fixed_days"].iloc[0]
        if pin and pin.day:
            fixed, visits = (pin.day,), 1
        if fixed:
            days = list(fixed)
        else:
            cand = options[site_id]
            if len(cand) < visits:
                missing = visits - len(cand)
                open_days = sum(problem.windows(site_id, d) != () for d in WEEKDAYS)
                reason = "closed" if open_days < visits else "time window"
                for _, job in site_jobs.iterrows():
                    unserved.append({"day": "", "site_id": site_id, "name": site_name[site_id],
                                     "job_id": job["job_id"], "kind": job["kind"],
                                     "kg": job["kg"] * missing / visits, "reason": reason})
            days = _best_days(cand, min(visits, len(cand)), load,
                              float(site_jobs["kg"].sum()) / max(visits, 1), capacity)
        for day in days:
            load[day] += float(site_jobs["kg"].sum()) / visits
            for _, job in site_jobs.iterrows():
                chosen.append((day, _Visit(
                    job_id=job["job_id"], kind=job["kind"], site_id=site_id,
                    src=job["from_site_id"], dst=job["to_site_id"], cold=bool(job["cold"]),
                    kg=job["kg"] / visits, pallets=job["pallets"] / visits,
                    detail=job["detail"] if visits == 1 else f"1/{visits} of: {job['detail']}",
                )))
        if not fixed:
            flexible[site_id] = options[site_id]
    return chosen, unserved, flexible


def _best_days(cand: list[str], k: int, load: dict[str, float], kg: float,
               capacity: dict[str, float]) -> list[str]:
    """The ``k`` days, fewest consecutive pairs first, that keep the fullest day emptiest."""
    if k == 0:
        return []
    index = {d: WEEKDAYS.index(d) for d in cand}

    def consecutive(combo) -> int:
        return sum(1 for a, b in itertools.pairwise(combo) if index[b] - index[a] == 1)

    def used(day: str, extra: float) -> float:
        return (load[day] + extra) / max(capacity[day], 1.0)

    best = min(itertools.combinations(cand, k),
               key=lambda c: (consecutive(c), max(used(d, kg) for d in c),
                              sum(used(d, 0.0) for d in c), [index[d] for d in c]))
    return list(best)


def _split(visit: _Visit, max_kg: float, max_pal: float) -> list[_Visit]:
    """Cut a visit larger than the biggest allowed vehicle into loads that fit (more trips)."""
    parts = max(1, math.ceil(visit.kg / max_kg - 1e-9),
                math.ceil(visit.pallets / max_pal - 1e-9) if max_pal > 0 else 1)
    if parts == 1:
        return [visit]
    return [_Visit(job_id=f"{visit.job_id}#{i + 1}", kind=visit.kind, site_id=visit.site_id,
                   src=visit.src, dst=visit.dst, cold=visit.cold, kg=visit.kg / parts,
                   pallets=visit.pallets / parts, detail=f"part {i + 1}/{parts} of {visit.detail}")
            for i in range(parts)]


def solve_week(problem: WeekProblem, params: RouteParams, *,
               network: RoadNetwork | None = None) -> WeekRoutes:
    """Choose delivery days and solve every day's routes.

    Parameters
    ----------
    problem
        From :func:`routing.build_week_problem`.
    params
        Time limit (whole week), seed, penalties, pins.
    network
        Road network for travel times; None uses the great-circle fallback (flagged in
        every output as ``haversine_fallback``).
    """
    t0 = time.perf_counter()
    pins = _pins_by_site(problem, params.pins)
    sites = problem.sites.set_index("site_id")
    site_list = list(problem.sites["site_id"])
    loc = {s: i for i, s in enumerate(site_list)}
    matrix = travel_matrix(network, problem.sites["lat"], problem.sites["lon"],
                           max_snap_m=params.max_snap_m, cache_dir=params.cache_dir,
                           circuity=params.circuity)
    chosen, unserved, flexible = _choose_days(problem, params, pins, matrix, loc, sites)
    days = [d for d in WEEKDAYS if any(day == d for day, _ in chosen)]
    solved: dict[str, _Day] = {}
    first_pass_s = params.time_limit_s * (1 - params.repair_share)
    for n_day, day in enumerate(days):
        visits = [v for d, v in chosen if d == day]
        remaining = first_pass_s - (time.perf_counter() - t0)
        budget = max(0.2, _day_budget(params, remaining, len(days) - n_day))
        t_day = time.perf_counter()
        solved[day] = _solve_day(problem, params, matrix, loc, sites, day, visits, pins, budget,
                                 movable=frozenset(flexible))
        log.info("%s: %d visits, %d left by the fleet (%.0f kg), %s in %.1f s (budget %.1f s)",
                 day, len(visits), len(solved[day].left), sum(v.kg for v in solved[day].left),
                 solved[day].status, time.perf_counter() - t_day, budget)
    if params.repair_share > 0:
        chosen = _move_left_visits(problem, params, matrix, loc, sites, pins, chosen, solved,
                                   flexible, deadline=t0 + params.time_limit_s)
    schedule = pd.DataFrame([{"job_id": v.job_id, "site_id": v.site_id, "day": d}
                             for d, v in chosen], columns=["job_id", "site_id", "day"])
    stops, kpis, day_status = [], [], {}
    for day in WEEKDAYS:
        if day in solved:
            stops += solved[day].stops
            kpis += solved[day].kpis
            unserved += solved[day].unserved
            day_status[day] = solved[day].status
    stops_df = pd.DataFrame(stops, columns=STOP_COLUMNS)
    unserved_df = pd.DataFrame(unserved, columns=UNSERVED_COLUMNS)
    kpi_df = pd.DataFrame(kpis, columns=KPI_COLUMNS)
    used = kpi_df.loc[kpi_df["stops"] > 0]
    overall = {
        "week_start": str(problem.week_start.date()),
        "method": matrix.method,
        "engine": "ortools",
        "km": round(float(used["km"].sum()), 1),
        "hours": round(float(used["hours"].sum()), 2),
        "cost_eur": round(float(used["cost_eur"].sum()), 2),
        "co2_kg": round(float(used["co2_kg"].sum()), 1),
        "vehicle_days": len(used),
        "stops": int(used["stops"].sum()),
        "kg_moved": round(float(used["kg_moved"].sum()), 1),
        "mean_max_load_pct": round(float(used["max_load_pct"].mean()), 1) if len(used) else 0.0,
        "unserved": len(unserved_df),
        "unserved_kg": round(float(unserved_df["kg"].sum()), 1),
        "runtime_s": round(time.perf_counter() - t0, 2),
        "day_status": day_status,
    }
    return WeekRoutes(stops=stops_df, unserved=unserved_df, vehicle_kpis=kpi_df,
                      schedule=schedule, kpis=overall, method=matrix.method, engine="ortools",
                      day_status=day_status)


def _windows_s(problem: WeekProblem, site_id: str, day: str, shift: tuple[int, int]
               ) -> tuple[tuple[int, int], ...]:
    windows = problem.windows(site_id, day)
    if windows is None:
        return ()
    return tuple((int(o * 60), int(c * 60)) for o, c in windows)


def _alone_feasible(problem, matrix, loc, sites, params, day, visit, vehicle) -> bool:
    """Can this vehicle serve this visit alone, inside windows, shift and route length?

    The vehicle may leave its depot later than its shift start to avoid waiting at a window:
    each departure that reaches some window exactly at its opening is tried.
    """
    depot = vehicle["depot_site_id"]
    start, end = vehicle["shift_start"] * 60, vehicle["shift_end"] * 60
    span = min(vehicle["max_route_h"] * 3600, end - start)
    handling = params.hub_handling_min * 60
    stops = [visit.src, visit.dst]
    back = matrix.duration_s[loc[visit.dst], loc[depot]]

    def finish(depart: float) -> float | None:
        """Return time at the depot leaving at ``depart``, None if a window is missed."""
        t, here = depart, depot
        for stop in stops:
            t += matrix.duration_s[loc[here], loc[stop]]
            windows = _windows_s(problem, stop, day, (start, end))
            if windows:
                ok = [max(t, o) for o, c in windows if max(t, o) <= c]
                if not ok:
                    return None
                t = ok[0]
            t += handling if stop == problem.hub_id else sites.at[stop, "service_min"] * 60
            here = stop
        return t + back

    departures = {start}
    offset, here = 0.0, depot
    for stop in stops:
        offset += matrix.duration_s[loc[here], loc[stop]]
        departures.update(o - offset for o, _ in _windows_s(problem, stop, day, (start, end))
                          if o - offset > start)
        offset += handling if stop == problem.hub_id else sites.at[stop, "service_min"] * 60
        here = stop
    for depart in sorted(departures):
        back_at = finish(depart)
        if back_at is None:
            continue
        needed = back_at - depart
        # the day's model keeps every shift's break free, long route or not (the break is
        # placed after solving, routing/_breaks.py): judge reachability with the same reserve
        breaks = vehicle["break_min"] * 60
        if back_at + breaks <= end and needed + breaks <= span:
            return True
    return False


def _solve_day(problem, params, matrix, loc, sites, day, visits, pins, budget, *,
               movable=frozenset(), initial_routes=None):
    working = _working(problem, day).reset_index(drop=True)
    date = problem.date_of(day)
    unserved: list[dict] = []
    ok_visits: list[_Visit] = []
    allowed: list[list[int]] = []

    def drop(visit: _Visit, reason: str) -> None:
        unserved.append({"day": day, "site_id": visit.site_id,
                         "name": sites.at[visit.site_id, "name"], "job_id": visit.job_id,
                         "kind": visit.kind, "kg": visit.kg, "reason": reason})

    for visit in visits:
        cand = working
        pin = pins.get(visit.site_id)
        if pin and pin.vehicle_id:
            cand = cand.loc[cand["vehicle_id"] == pin.vehicle_id]
        if cand.empty:
            drop(visit, "no vehicle that day")
            continue
        if visit.cold:
            cand = cand.loc[cand["refrigerated"]]
            if cand.empty:
                drop(visit, "compatibility")
                continue
        timely = [i for i, veh in cand.iterrows()
                  if _alone_feasible(problem, matrix, loc, sites, params, day, visit, veh)]
        if not timely:
            drop(visit, "time window")
            continue
        cand = cand.loc[timely]
        max_kg = float(cand["capacity_kg"].max())
        pal = cand["capacity_pallets"].where(cand["capacity_pallets"] > 0, np.inf)
        for part in _split(visit, max_kg, float(pal.max())):
            ok_visits.append(part)
            allowed.append(list(cand.index))

    if not ok_visits:
        return _Day(stops=[], kpis=[], unserved=unserved, status="empty", left=[])

    # nodes: one per depot site, then (pickup, delivery) per visit
    depot_sites = list(dict.fromkeys(working["depot_site_id"]))
    node_site = list(depot_sites)
    service, kg, pal, windows, pairs = [0.0] * len(depot_sites), [0] * len(depot_sites), \
        [0] * len(depot_sites), [()] * len(depot_sites), []
    handling = params.hub_handling_min * 60
    for visit in ok_visits:
        kg_int = math.ceil(visit.kg - 1e-9)
        pal_dec = math.ceil(visit.pallets * 10 - 1e-9)
        first = len(node_site)
        for site, sign in ((visit.src, 1), (visit.dst, -1)):
            node_site.append(site)
            service.append(handling if site == problem.hub_id
                           else float(sites.at[site, "service_min"]) * 60)
            kg.append(sign * kg_int)
            pal.append(sign * pal_dec)
            windows.append(_windows_s(problem, site, day, (0, 0)))
        pairs.append((first, first + 1))
    idx = np.array([loc[s] for s in node_site])
    nodes_travel = np.rint(matrix.duration_s[np.ix_(idx, idx)]).astype(np.int64)
    nodes_dist = matrix.dist_m[np.ix_(idx, idx)]
    depot_node = {s: i for i, s in enumerate(depot_sites)}
    no_pallet_limit = 10 * int(max(1, math.ceil(sum(v.pallets for v in ok_visits)) + 1))
    shift_start = (working["shift_start"] * 60).astype(int).to_numpy()
    shift_end = (working["shift_end"] * 60).astype(int).to_numpy()
    vrp = _ortools.DayVrp(
        travel_s=nodes_travel, dist_m=nodes_dist, service_s=np.rint(service).astype(np.int64),
        kg=np.array(kg), pallets_dec=np.array(pal), windows=windows, pairs=pairs,
        allowed=allowed, penalty=np.array([
            int(params.drop_penalty_eur * _ortools.COST_UNITS_PER_EUR
                * (params.movable_penalty_share if v.site_id in movable else 1.0))
            for v in ok_visits]),
        start_node=np.array([depot_node[s] for s in working["depot_site_id"]]),
        end_node=np.array([depot_node[s] for s in working["depot_site_id"]]),
        cap_kg=working["capacity_kg"].astype(int).to_numpy(),
        cap_pallets_dec=np.where(working["capacity_pallets"] > 0,
                                 working["capacity_pallets"] * 10, no_pallet_limit).astype(int),
        shift_start_s=shift_start, shift_end_s=shift_end,
        max_span_s=np.minimum(working["max_route_h"] * 3600, shift_end - shift_start
                              ).astype(int).to_numpy(),
        break_s=(working["break_min"] * 60).astype(int).to_numpy(),
        break_after_s=np.full(len(working), int(params.break_after_h * 3600)),
        cost_per_m=(working["cost_per_km_eur"] / 1000 * _ortools.COST_UNITS_PER_EUR).to_numpy(),
        cost_per_s=(working["cost_per_hour_eur"] / 3600 * _ortools.COST_UNITS_PER_EUR).to_numpy(),
    )
    raw = _ortools.solve_day(vrp, time_limit_s=budget, guided=params.guided,
                             initial_routes=initial_routes)
    left = []
    for p, visit in enumerate(ok_visits):
        if p not in raw.served_pairs:
            # a part of a load cut to fit the biggest allowed vehicle: the extra trip is
            # what did not fit
            drop(visit, "capacity" if "#" in visit.job_id else "fleet full")
            left.append(visit)

    stops, kpis = [], []
    for v, veh in working.iterrows():
        route = raw.routes[v]
        rows = _route_rows(problem, sites, matrix, loc, node_site, ok_visits, route,
                           raw.start_s[v], raw.load_kg[v], raw.load_pallets_dec[v], vrp,
                           raw.breaks[v])
        served = [r for r in rows if r["action"] not in ("start", "end", "break")]
        if not served:
            continue
        for seq, row in enumerate(rows):
            row.update(day=day, date=date.date().isoformat(), vehicle_id=veh["vehicle_id"],
                       seq=seq)
        stops += rows
        km = sum(r["dist_m"] for r in rows) / 1000
        hours = (rows[-1]["arrival_min"] - rows[0]["departure_min"]) / 60
        kpis.append({
            "day": day, "vehicle_id": veh["vehicle_id"], "organisation": veh["organisation"],
            "km": round(km, 2), "hours": round(hours, 2),
            "cost_eur": round(km * veh["cost_per_km_eur"] + hours * veh["cost_per_hour_eur"], 2),
            "co2_kg": round(km * veh["co2_kg_per_km"], 2),
            "stops": sum(1 for r in served if r["site_id"] != problem.hub_id),
            "kg_moved": round(sum(r["drop_kg"] for r in served), 1),
            "max_load_pct": round(100 * max(r["load_kg"] for r in rows) / veh["capacity_kg"], 1),
        })
    return _Day(stops=stops, kpis=kpis, unserved=unserved, status=raw.status, left=left,
                node_routes=[route[1:-1] for route in raw.routes])


def _route_rows(problem, sites, matrix, loc, node_site, visits, route, start_s, load_kg,
                load_pal, vrp, brk) -> list[dict]:
    """Merge consecutive nodes at one place (the hub's copies) into one stop row each."""
    rows: list[dict] = []
    num_depots = len(node_site) - 2 * len(visits)
    prev_site = None
    for k, node in enumerate(route):
        site = node_site[node]
        is_depot = node < num_depots
        if is_depot:
            action, what, drop_kg, pick_kg = ("start" if k == 0 else "end"), "", 0.0, 0.0
        else:
            visit = visits[(node - num_depots) // 2]
            is_pick = (node - num_depots) % 2 == 0
            if site == problem.hub_id:
                action = "load" if is_pick else "unload"
                other = visit.dst if is_pick else visit.src
                what = f"{'for' if is_pick else 'from'} {other}: {visit.detail}"
            else:
                action = "pickup" if is_pick else "deliver"
                what = visit.detail
            drop_kg, pick_kg = (0.0, visit.kg) if is_pick else (visit.kg, 0.0)
        arrival = start_s[k] / 60
        departure = (start_s[k] + vrp.service_s[node]) / 60
        if rows and site == prev_site and not is_depot and rows[-1]["action"] not in (
                "start", "end"):
            row = rows[-1]
            if action not in row["action"].split("+"):
                row["action"] += f"+{action}"
            row["detail"] += f"; {what}"
            row["drop_kg"] += drop_kg
            row["pick_kg"] += pick_kg
            row["departure_min"] = departure
        else:
            dist = matrix.dist_m[loc[prev_site], loc[site]] if prev_site else 0.0
            drive = matrix.duration_s[loc[prev_site], loc[site]] if prev_site else 0.0
            if action == "start":
                arrival = departure = start_s[k] / 60
            rows.append({
                "site_id": site, "name": sites.at[site, "name"], "kind": sites.at[site, "kind"],
                "action": action, "arrival_min": arrival, "departure_min": departure,
                "drop_kg": drop_kg, "pick_kg": pick_kg, "detail": what,
                "contact": sites.at[site, "contact"], "notes": sites.at[site, "notes"],
                "lat": float(sites.at[site, "lat"]), "lon": float(sites.at[site, "lon"]),
                "dist_m": float(dist), "drive_s": float(drive),
            })
        rows[-1]["load_kg"] = float(load_kg[k])
        rows[-1]["load_pallets"] = load_pal[k] / 10
        prev_site = site
    # a break outside the route (the solver may put it after the shift's end) is not shown
    if brk is not None and len(rows) > 2 and rows[0]["departure_min"] <= brk[0] / 60 < rows[
            -1]["arrival_min"]:
        start_min, dur_min = brk[0] / 60, brk[1] / 60
        pos = next((i for i, r in enumerate(rows) if r["arrival_min"] > start_min), len(rows))
        pos = min(max(pos, 1), len(rows) - 1)
        before = rows[pos - 1]
        rows.insert(pos, {
            "site_id": "", "name": "pause conducteur", "kind": "break", "action": "break",
            "arrival_min": start_min, "departure_min": start_min + dur_min, "drop_kg": 0.0,
            "pick_kg": 0.0, "load_kg": before["load_kg"], "load_pallets": before["load_pallets"],
            "detail": f"{dur_min:.0f} min break", "contact": "", "notes": "",
            "lat": before["lat"], "lon": before["lon"], "dist_m": 0.0, "drive_s": 0.0,
        })
    return rows
