"""The week's frozen context (problem, knobs, matrix, pins) and the questions every step asks.

Built once by :func:`routing.solve.solve_week`; the day choice (:mod:`routing._days`), the day
model (:mod:`routing._day_model`), the repair pass (:mod:`routing._repair`) and the output rows
(:mod:`routing._rows`) read it and never change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from core.errors import InputError
from core.schema import WEEKDAYS
from routing.matrix import Matrix, travel_matrix
from routing.model import Pin, RouteParams, WeekProblem
from routing.network import RoadNetwork


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    """One job on one day: goods to carry from ``src`` to ``dst``."""

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
class WeekContext:
    """Everything the week's steps share, read-only.

    ``loc`` maps a site id to its row and column of ``matrix``; ``sites`` is the problem's
    sites indexed by ``site_id``; ``pins`` holds the staff's pins by site; ``working`` the
    vehicles working each weekday.
    """

    problem: WeekProblem
    params: RouteParams
    matrix: Matrix
    loc: Mapping[str, int]
    sites: pd.DataFrame
    pins: Mapping[str, Pin]
    working: Mapping[str, pd.DataFrame]

    @classmethod
    def build(
        cls, problem: WeekProblem, params: RouteParams, *, network: RoadNetwork | None = None
    ) -> WeekContext:
        """Check the pins and compute the travel matrix between the problem's sites."""
        pins = _pins_by_site(problem, params.pins)
        vehicles = problem.vehicles
        working = {
            day: vehicles.loc[[day in days for days in vehicles["days"]]] for day in WEEKDAYS
        }
        matrix = travel_matrix(
            network,
            problem.sites["lat"],
            problem.sites["lon"],
            max_snap_m=params.max_snap_m,
            cache_dir=params.cache_dir,
            circuity=params.circuity,
            names=list(problem.sites["site_id"]),
            allow_fallback=params.allow_fallback,
        )
        return cls(
            problem=problem,
            params=params,
            matrix=matrix,
            loc=MappingProxyType({s: i for i, s in enumerate(problem.sites["site_id"])}),
            sites=problem.sites.set_index("site_id"),
            pins=MappingProxyType(pins),
            working=MappingProxyType(working),
        )

    def windows_s(self, site_id: str, day: str) -> tuple[tuple[int, int], ...]:
        """Opening windows of a site on a weekday in seconds; () when open all day or closed."""
        windows = self.problem.windows(site_id, day)
        if windows is None:
            return ()
        return tuple((int(o * 60), int(c * 60)) for o, c in windows)

    def service_s(self, site_id: str) -> float:
        """Time spent at a stop: the hub's handling per job, a site's own service time."""
        if site_id == self.problem.hub_id:
            return self.params.hub_handling_min * 60
        return float(self.sites.at[site_id, "service_min"]) * 60

    def drive_s(self, a: str, b: str) -> float:
        """Driving time from site ``a`` to site ``b``."""
        return float(self.matrix.duration_s[self.loc[a], self.loc[b]])

    def alone_feasible(self, day: str, visit: Visit, vehicle: pd.Series) -> bool:
        """Can this vehicle serve this visit alone, inside windows, shift and route length?

        The vehicle may leave its depot later than its shift start to avoid waiting at a
        window: each departure that reaches some window exactly at its opening is tried.
        """
        depot = vehicle["depot_site_id"]
        start, end = vehicle["shift_start"] * 60, vehicle["shift_end"] * 60
        span = min(vehicle["max_route_h"] * 3600, end - start)
        stops = [visit.src, visit.dst]
        back = self.matrix.duration_s[self.loc[visit.dst], self.loc[depot]]

        def finish(depart: float) -> float | None:
            """Return time at the depot leaving at ``depart``, None if a window is missed."""
            t, here = depart, depot
            for stop in stops:
                t += self.matrix.duration_s[self.loc[here], self.loc[stop]]
                windows = self.windows_s(stop, day)
                if windows:
                    ok = [max(t, o) for o, c in windows if max(t, o) <= c]
                    if not ok:
                        return None
                    t = ok[0]
                t += self.service_s(stop)
                here = stop
            return t + back

        departures = {start}
        offset, here = 0.0, depot
        for stop in stops:
            offset += self.matrix.duration_s[self.loc[here], self.loc[stop]]
            departures.update(
                o - offset for o, _ in self.windows_s(stop, day) if o - offset > start
            )
            offset += self.service_s(stop)
            here = stop
        for depart in sorted(departures):
            back_at = finish(depart)
            if back_at is None:
                continue
            needed = back_at - depart
            # the day's model keeps every shift's break free, long route or not (the break is
            # placed after solving, routing/_breaks.py): judge reachability with the same
            # reserve
            breaks = vehicle["break_min"] * 60
            if back_at + breaks <= end and needed + breaks <= span:
                return True
        return False


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
