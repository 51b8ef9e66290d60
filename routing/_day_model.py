"""Day model: one day's visits as a pickup-and-delivery VRP, solved by :mod:`routing._ortools`.

Each visit that some vehicle could serve alone becomes a (pickup, delivery) pair of nodes,
cut into several trips when it is larger than the biggest allowed vehicle; the others are
reported with their reason. The solved routes become rows in :mod:`routing._rows`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from routing import _ortools, _rows
from routing._context import Visit, WeekContext
from routing.model import DayStatus, RouteParams


@dataclass(frozen=True, slots=True, kw_only=True)
class DaySolution:
    """One day's solved routes (rows for the outputs) and the visits the fleet could not take."""

    stops: list[dict]
    kpis: list[dict]
    unserved: list[dict]
    status: DayStatus
    left: list[Visit]
    #: the solver's node routes (depots left out), to start a re-solve of the same day from
    node_routes: list[list[int]] | None = None

    @property
    def left_kg(self) -> float:
        """Kilos the day's fleet could not take."""
        return sum(v.kg for v in self.left)


def day_budget(params: RouteParams, remaining_s: float, days_left: int) -> float:
    """Time cap of the next day's search, out of ``remaining_s`` for ``days_left`` days.

    A fair share under guided search; under greedy descent, which stops by itself at a
    local optimum, all but one second per day still to solve (slow days borrow from fast).
    """
    if params.guided:
        return remaining_s / days_left
    return max(remaining_s / days_left, remaining_s - (days_left - 1))


def solve_day(
    ctx: WeekContext,
    day: str,
    visits: Sequence[Visit],
    *,
    budget_s: float,
    movable: frozenset[str] = frozenset(),
    initial_routes: list[list[int]] | None = None,
) -> DaySolution:
    """Route one day's visits on the vehicles working that day.

    Parameters
    ----------
    ctx
        The week's context.
    day
        Weekday (``"mon"`` … ``"sun"``).
    visits
        The day's visits, from the day choice (and the repair pass's newcomers last).
    budget_s
        Time limit of this day's search (a cap: the search usually stops sooner).
    movable
        Sites whose day may still change: leaving them unserved costs
        ``RouteParams.movable_penalty_share`` of the drop penalty, so a full day keeps its
        fixed-day stops.
    initial_routes
        Routes to start the search from (nodes per vehicle, depots left out).
    """
    working = ctx.working[day].reset_index(drop=True)
    admitted = admit(ctx, day, visits, working)
    ok_visits, unserved = admitted.visits, admitted.unserved
    if not ok_visits:
        return DaySolution(
            stops=[], kpis=[], unserved=unserved, status=DayStatus.NO_VISITS, left=[]
        )

    nodes, vrp = _day_vrp(ctx, day, working, ok_visits, admitted.allowed, movable)
    params = ctx.params
    raw = _ortools.solve_day(
        vrp,
        time_limit_s=budget_s,
        guided=params.guided,
        solution_limit=params.day_solution_limit,
        initial_routes=initial_routes,
    )
    left = []
    for p, visit in enumerate(ok_visits):
        if p not in raw.served_pairs:
            # a part of a load cut to fit the biggest allowed vehicle: the extra trip is
            # what did not fit
            unserved.append(
                _unserved(ctx, day, visit, "capacity" if "#" in visit.job_id else "fleet full")
            )
            left.append(visit)
    stops, kpis = _rows.day_rows(ctx, day, working, nodes, raw)
    return DaySolution(
        stops=stops,
        kpis=kpis,
        unserved=unserved,
        status=raw.status,
        left=left,
        node_routes=[route[1:-1] for route in raw.routes],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Admitted:
    """The visits a day's model takes (cut into trips that fit), and those it cannot."""

    visits: list[Visit]
    allowed: list[list[int]]  # per admitted visit: rows of the day's working vehicles
    unserved: list[dict]


def admit(ctx: WeekContext, day: str, visits: Sequence[Visit], working: pd.DataFrame) -> Admitted:
    """Keep the visits some working vehicle could serve alone, each with those vehicles.

    The others are reported: no (pinned) vehicle that day, cold goods without a refrigerated
    vehicle, or no vehicle reaching the stop inside its windows and shift. A visit larger
    than the biggest allowed vehicle is cut into trips that fit.
    """
    unserved: list[dict] = []
    ok_visits: list[Visit] = []
    allowed: list[list[int]] = []
    for visit in visits:
        cand = working
        pin = ctx.pins.get(visit.site_id)
        if pin and pin.vehicle_id:
            cand = cand.loc[cand["vehicle_id"] == pin.vehicle_id]
        if cand.empty:
            unserved.append(_unserved(ctx, day, visit, "no vehicle that day"))
            continue
        if visit.cold:
            cand = cand.loc[cand["refrigerated"]]
            if cand.empty:
                unserved.append(_unserved(ctx, day, visit, "compatibility"))
                continue
        timely = [i for i, veh in cand.iterrows() if ctx.alone_feasible(day, visit, veh)]
        if not timely:
            unserved.append(_unserved(ctx, day, visit, "time window"))
            continue
        cand = cand.loc[timely]
        max_kg = float(cand["capacity_kg"].max())
        pal = cand["capacity_pallets"].where(cand["capacity_pallets"] > 0, np.inf)
        for part in _split(visit, max_kg, float(pal.max())):
            ok_visits.append(part)
            allowed.append(list(cand.index))
    return Admitted(visits=ok_visits, allowed=allowed, unserved=unserved)


def _unserved(ctx: WeekContext, day: str, visit: Visit, reason: str) -> dict:
    return {
        "day": day,
        "site_id": visit.site_id,
        "name": ctx.sites.at[visit.site_id, "name"],
        "job_id": visit.job_id,
        "kind": visit.kind,
        "kg": visit.kg,
        "reason": reason,
    }


def _day_vrp(
    ctx: WeekContext,
    day: str,
    working: pd.DataFrame,
    visits: list[Visit],
    allowed: list[list[int]],
    movable: frozenset[str],
) -> tuple[_rows.DayNodes, _ortools.DayVrp]:
    """Nodes (one per depot site, then a pickup and a delivery per visit) and their VRP."""
    params = ctx.params
    depot_sites = list(dict.fromkeys(working["depot_site_id"]))
    node_site = list(depot_sites)
    service, kg, pal = [0.0] * len(depot_sites), [0] * len(depot_sites), [0] * len(depot_sites)
    windows: list[tuple[tuple[int, int], ...]] = [()] * len(depot_sites)
    pairs = []
    for visit in visits:
        kg_int = math.ceil(visit.kg - 1e-9)
        pal_dec = math.ceil(visit.pallets * 10 - 1e-9)
        first = len(node_site)
        for site, sign in ((visit.src, 1), (visit.dst, -1)):
            node_site.append(site)
            service.append(ctx.service_s(site))
            kg.append(sign * kg_int)
            pal.append(sign * pal_dec)
            windows.append(ctx.windows_s(site, day))
        pairs.append((first, first + 1))
    idx = np.array([ctx.loc[s] for s in node_site])
    depot_node = {s: i for i, s in enumerate(depot_sites)}
    no_pallet_limit = 10 * int(max(1, math.ceil(sum(v.pallets for v in visits)) + 1))
    shift_start = (working["shift_start"] * 60).astype(int).to_numpy()
    shift_end = (working["shift_end"] * 60).astype(int).to_numpy()
    cost_units = _ortools.COST_UNITS_PER_EUR
    service_s = np.rint(service).astype(np.int64)
    vrp = _ortools.DayVrp(
        travel_s=np.rint(ctx.matrix.duration_s[np.ix_(idx, idx)]).astype(np.int64),
        dist_m=ctx.matrix.dist_m[np.ix_(idx, idx)],
        service_s=service_s,
        kg=np.array(kg),
        pallets_dec=np.array(pal),
        windows=windows,
        pairs=pairs,
        allowed=allowed,
        penalty=np.array(
            [
                int(
                    params.drop_penalty_eur
                    * cost_units
                    * (params.movable_penalty_share if v.site_id in movable else 1.0)
                )
                for v in visits
            ]
        ),
        start_node=np.array([depot_node[s] for s in working["depot_site_id"]]),
        end_node=np.array([depot_node[s] for s in working["depot_site_id"]]),
        cap_kg=working["capacity_kg"].astype(int).to_numpy(),
        cap_pallets_dec=np.where(
            working["capacity_pallets"] > 0, working["capacity_pallets"] * 10, no_pallet_limit
        ).astype(int),
        shift_start_s=shift_start,
        shift_end_s=shift_end,
        max_span_s=np.minimum(working["max_route_h"] * 3600, shift_end - shift_start)
        .astype(int)
        .to_numpy(),
        break_s=(working["break_min"] * 60).astype(int).to_numpy(),
        break_after_s=np.full(len(working), int(params.break_after_h * 3600)),
        cost_per_m=(working["cost_per_km_eur"] / 1000 * cost_units).to_numpy(),
        cost_per_s=(working["cost_per_hour_eur"] / 3600 * cost_units).to_numpy(),
    )
    return _rows.DayNodes(node_site=node_site, visits=visits, service_s=service_s), vrp


def _split(visit: Visit, max_kg: float, max_pal: float) -> list[Visit]:
    """Cut a visit larger than the biggest allowed vehicle into loads that fit (more trips)."""
    parts = max(
        1,
        math.ceil(visit.kg / max_kg - 1e-9),
        math.ceil(visit.pallets / max_pal - 1e-9) if max_pal > 0 else 1,
    )
    if parts == 1:
        return [visit]
    return [
        Visit(
            job_id=f"{visit.job_id}#{i + 1}",
            kind=visit.kind,
            site_id=visit.site_id,
            src=visit.src,
            dst=visit.dst,
            cold=visit.cold,
            kg=visit.kg / parts,
            pallets=visit.pallets / parts,
            detail=f"part {i + 1}/{parts} of {visit.detail}",
        )
        for i in range(parts)
    ]
