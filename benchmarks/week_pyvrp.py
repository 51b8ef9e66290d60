"""Would PyVRP route the sample week better than the week's OR-Tools day model? (issue 12)

``python benchmarks/week_pyvrp.py [--week 1] [--seconds 10]`` (needs the ``[bench]`` extra).

Both solvers get the same days' jobs as pickup-and-delivery pairs (PyVRP ``Shipment``s: goods
loaded at the hub for a shop, collected at a farm for the hub), each optional at the same
prize (the drop penalty), from each vehicle's own depot, with kilo and pallet capacities,
costs per km and per hour, and cold goods only on refrigerated vehicles (PyVRP: the cold
jobs' stops are copies of their sites that non-refrigerated vehicles cannot reach). What
PyVRP cannot say is relaxed for both alike: each site's opening windows of the day become one
window from the first opening to the last closing, and the driver's break is taken off the
shift (our model keeps it free the same way, then places it; here there is none to place).

Printed per day: kilos served, km, hours and € (km × €/km + hours × €/h, as the route KPIs)
of OR-Tools' greedy descent (the week's default, stops at a local optimum), OR-Tools' guided
local search and PyVRP's iterated local search, the latter two for ``--seconds`` each.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

UNITS_PER_EUR = 1_000_000  # PyVRP costs are integers
FAR = 10**8  # a stop a vehicle may not reach: this far, this long
MAX_PENALTY = 10**10  # per unit of time warp or excess load (default 100,000)


def relaxed(problem):
    """The week's problem with one window per site and day and the breaks off the shifts."""
    vehicles = problem.vehicles.copy()
    vehicles["shift_end"] = vehicles["shift_end"] - vehicles["break_min"]
    vehicles["max_route_h"] = vehicles["max_route_h"] - vehicles["break_min"] / 60
    vehicles["break_min"] = 0.0
    hours = {key: ((w[0][0], w[-1][1]),) for key, w in problem.hours.items() if w}
    return dataclasses.replace(problem, vehicles=vehicles, hours=hours)


def pyvrp_day(ctx, day, visits, working, *, seconds: float, seed: int) -> dict:
    """Solve one day's admitted visits with PyVRP; the figures of its best solution."""
    from pyvrp import (
        Depot,
        Location,
        PenaltyParams,
        ProblemData,
        Shipment,
        SolveParams,
        VehicleType,
        solve,
    )
    from pyvrp.stop import MaxRuntime

    depots = list(dict.fromkeys(working["depot_site_id"]))
    places: list[tuple[str, bool]] = [(s, False) for s in depots]  # (site, cold copy)
    index: dict[tuple[str, bool], int] = {p: i for i, p in enumerate(places)}

    def place(site: str, cold: bool) -> int:
        if (site, cold) not in index:
            index[(site, cold)] = len(places)
            places.append((site, cold))
        return index[(site, cold)]

    def window(site: str) -> tuple[int, int]:
        w = ctx.windows_s(site, day)
        return (w[0][0], w[0][1]) if w else (0, 24 * 3600)

    shipments, kg = [], []
    for visit in visits:
        src, dst = place(visit.src, visit.cold), place(visit.dst, visit.cold)
        (pe, pl), (de, dl) = window(visit.src), window(visit.dst)
        shipments.append(
            Shipment(
                pickup_location=src,
                delivery_location=dst,
                pickup_tw_early=pe,
                pickup_tw_late=pl,
                pickup_service_duration=round(ctx.service_s(visit.src)),
                delivery_tw_early=de,
                delivery_tw_late=dl,
                delivery_service_duration=round(ctx.service_s(visit.dst)),
                amount=[int(np.ceil(visit.kg - 1e-9)), int(np.ceil(visit.pallets * 10 - 1e-9))],
                prize=round(ctx.params.drop_penalty_eur * UNITS_PER_EUR),
                required=False,
            )
        )
        kg.append(visit.kg)
    rows = [ctx.loc[s] for s, _ in places]
    dist = np.rint(ctx.matrix.dist_m[np.ix_(rows, rows)]).astype(np.int64)
    dur = np.rint(ctx.matrix.duration_s[np.ix_(rows, rows)]).astype(np.int64)
    cold = np.array([c for _, c in places])
    dry_dist, dry_dur = dist.copy(), dur.copy()
    dry_dist[cold, :] = dry_dist[:, cold] = FAR
    dry_dur[cold, :] = dry_dur[:, cold] = FAR
    np.fill_diagonal(dry_dist, 0)
    np.fill_diagonal(dry_dur, 0)
    vehicle_types = []
    for _, veh in working.iterrows():
        start, end = int(veh["shift_start"] * 60), int(veh["shift_end"] * 60)
        pallets = int(veh["capacity_pallets"] * 10) if veh["capacity_pallets"] > 0 else FAR
        vehicle_types.append(
            VehicleType(
                capacity=[int(veh["capacity_kg"]), pallets],
                start_depot=depots.index(veh["depot_site_id"]),
                end_depot=depots.index(veh["depot_site_id"]),
                tw_early=start,
                tw_late=end,
                shift_duration=int(min(veh["max_route_h"] * 3600, end - start)),
                unit_distance_cost=round(veh["cost_per_km_eur"] / 1000 * UNITS_PER_EUR),
                unit_duration_cost=round(veh["cost_per_hour_eur"] / 3600 * UNITS_PER_EUR),
                profile=0 if veh["refrigerated"] else 1,
                name=veh["vehicle_id"],
            )
        )
    data = ProblemData(
        locations=[
            Location(float(ctx.sites.at[s, "lon"]), float(ctx.sites.at[s, "lat"]))
            for s, _ in places
        ],
        clients=[],
        depots=[Depot(location=i) for i in range(len(depots))],
        vehicle_types=vehicle_types,
        distance_matrices=[dist, dry_dist],
        duration_matrices=[dur, dry_dur],
        shipments=shipments,
    )
    t0 = time.perf_counter()
    # the drop penalty dwarfs a day's route costs: let the time-warp and load penalties grow
    # past it, or PyVRP's best stays an infeasible plan serving everything
    params = SolveParams(penalty=PenaltyParams(max_penalty=MAX_PENALTY))
    result = solve(data, stop=MaxRuntime(seconds), seed=seed, display=False, params=params)
    seconds_used = time.perf_counter() - t0
    best = result.best
    unplanned = {a.idx for a in best.unplanned()}
    km = hours = eur = 0.0
    for route in best.routes():
        veh = working.iloc[route.vehicle_type()]
        r_km, r_h = route.distance() / 1000, route.duration() / 3600
        km, hours = km + r_km, hours + r_h
        eur += r_km * veh["cost_per_km_eur"] + r_h * veh["cost_per_hour_eur"]
    return {
        "served_kg": sum(k for i, k in enumerate(kg) if i not in unplanned),
        "km": km,
        "hours": hours,
        "eur": eur,
        "feasible": best.is_feasible(),
        "seconds": seconds_used,
    }


def ortools_day(ctx, day, visits, *, guided: bool, seconds: float) -> dict:
    """Solve one day with the week's own day model (full drop penalty for every visit)."""
    from routing._day_model import solve_day

    ctx = dataclasses.replace(ctx, params=dataclasses.replace(ctx.params, guided=guided))
    t0 = time.perf_counter()
    day_solution = solve_day(ctx, day, visits, budget_s=seconds)
    seconds_used = time.perf_counter() - t0
    kpis = day_solution.kpis
    return {
        "served_kg": sum(k["kg_moved"] for k in kpis),
        "km": sum(k["km"] for k in kpis),
        "hours": sum(k["hours"] for k in kpis),
        "eur": sum(k["cost_eur"] for k in kpis),
        "feasible": True,
        "seconds": seconds_used,
        "status": str(day_solution.status),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the comparison table for one season week of the sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import routing
    from api.pipeline import route_inputs
    from core.territory import SAMPLE_DIR, load_territory
    from routing._context import WeekContext
    from routing._day_model import admit
    from routing._days import choose_days

    territory = load_territory(SAMPLE_DIR, strict=False)
    deliveries, pickups, week_start = route_inputs(territory, args.week)
    params = routing.RouteParams(seed=args.seed)
    problem = relaxed(
        routing.build_week_problem(
            territory, deliveries, pickups, week_start=week_start, params=params
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample has no road extract: flagged fallback
        ctx = WeekContext.build(problem, params)
    choice = choose_days(ctx)
    totals: dict[str, dict[str, float]] = {}
    print(f"week {args.week}: day, solver, kg served of admitted, km, hours, €, s")
    for day in choice.days:
        working = ctx.working[day].reset_index(drop=True)
        admitted = admit(ctx, day, choice.visits_on(day), working)
        if any(ctx.problem.hub_id not in (v.src, v.dst) for v in admitted.visits):
            print(f"{day}: direct farm-to-shop transfers are compared as shipments too")
        offered = sum(v.kg for v in admitted.visits)
        runs = {
            "ortools greedy": ortools_day(
                ctx, day, choice.visits_on(day), guided=False, seconds=45.0
            ),
            "ortools guided": ortools_day(
                ctx, day, choice.visits_on(day), guided=True, seconds=args.seconds
            ),
            "pyvrp": pyvrp_day(
                ctx, day, admitted.visits, working, seconds=args.seconds, seed=args.seed
            ),
        }
        for name, r in runs.items():
            total = totals.setdefault(
                name, dict.fromkeys(("served_kg", "km", "hours", "eur", "seconds"), 0.0)
            )
            for key in total:
                total[key] += r[key]
            print(
                f"{day} {name:15s} {r['served_kg']:8.0f} / {offered:6.0f} kg {r['km']:7.1f} km "
                f"{r['hours']:5.1f} h {r['eur']:7.1f} € {r['seconds']:5.1f} s "
                f"{r.get('status', '')}{'' if r['feasible'] else ' INFEASIBLE'}"
            )
    for name, t in totals.items():
        print(
            f"week {name:15s} {t['served_kg']:8.0f} kg {t['km']:7.1f} km {t['hours']:5.1f} h "
            f"{t['eur']:7.1f} € {t['seconds']:5.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
