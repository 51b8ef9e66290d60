"""Output rows: solved node routes → stop rows and vehicle KPIs; the week's frames and totals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.schema import WEEKDAYS
from routing._context import Visit, WeekContext
from routing._ortools import DayRoutesRaw
from routing.model import DayStatus, WeekRoutes

if TYPE_CHECKING:
    from routing._day_model import DaySolution

STOP_COLUMNS = [
    "day",
    "date",
    "vehicle_id",
    "seq",
    "site_id",
    "name",
    "kind",
    "action",
    "arrival_min",
    "departure_min",
    "drop_kg",
    "pick_kg",
    "load_kg",
    "load_pallets",
    "detail",
    "goods",
    "contact",
    "notes",
    "pinned",
    "lat",
    "lon",
    "dist_m",
    "drive_s",
]
UNSERVED_COLUMNS = ["day", "site_id", "name", "job_id", "kind", "kg", "reason"]
KPI_COLUMNS = [
    "day",
    "vehicle_id",
    "organisation",
    "km",
    "hours",
    "cost_eur",
    "co2_kg",
    "stops",
    "kg_moved",
    "max_load_pct",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DayNodes:
    """A day model's nodes: depots first, then a (pickup, delivery) pair per visit."""

    node_site: list[str]
    visits: list[Visit]
    service_s: np.ndarray  # (nodes,) as given to the solver

    @property
    def num_depots(self) -> int:
        """Number of depot nodes (they come first)."""
        return len(self.node_site) - 2 * len(self.visits)


def day_rows(
    ctx: WeekContext, day: str, working: pd.DataFrame, nodes: DayNodes, raw: DayRoutesRaw
) -> tuple[list[dict], list[dict]]:
    """Stop rows (``STOP_COLUMNS``) and KPI rows (``KPI_COLUMNS``) of the day's used vehicles."""
    date = ctx.problem.date_of(day).date().isoformat()
    stops, kpis = [], []
    shares = _class_shares(ctx.problem.jobs)
    for v, veh in working.iterrows():
        rows = _route_rows(ctx, nodes, raw, v, shares)
        served = [r for r in rows if r["action"] not in ("start", "end", "break")]
        if not served:
            continue
        for seq, row in enumerate(rows):
            row.update(
                day=day,
                date=date,
                vehicle_id=veh["vehicle_id"],
                seq=seq,
                pinned=_pinned(ctx, row, day, str(veh["vehicle_id"])),
            )
        stops += rows
        km = sum(r["dist_m"] for r in rows) / 1000
        hours = (rows[-1]["arrival_min"] - rows[0]["departure_min"]) / 60
        kpis.append(
            {
                "day": day,
                "vehicle_id": veh["vehicle_id"],
                "organisation": veh["organisation"],
                "km": round(km, 2),
                "hours": round(hours, 2),
                "cost_eur": round(
                    km * veh["cost_per_km_eur"] + hours * veh["cost_per_hour_eur"], 2
                ),
                "co2_kg": round(km * veh["co2_kg_per_km"], 2),
                "stops": sum(1 for r in served if r["site_id"] != ctx.problem.hub_id),
                "kg_moved": round(sum(r["drop_kg"] for r in served), 1),
                "max_load_pct": round(
                    100 * max(r["load_kg"] for r in rows) / veh["capacity_kg"], 1
                ),
            }
        )
    return stops, kpis


def _pinned(ctx: WeekContext, row: Mapping, day: str, vehicle_id: str) -> bool:
    """True for a stop at a site the staff pinned, served as the pin says (its vehicle and
    day, when the pin names them); the hub and the depots are never pinned."""
    pin = ctx.pins.get(str(row["site_id"]))
    if pin is None or row["action"] in ("start", "end", "break"):
        return False
    return (pin.vehicle_id in (None, vehicle_id)) and (pin.day in (None, day))


def _class_shares(jobs: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per job id, the share of its kilos in each storage class (a problem built without
    ``kg_by_class`` says only ``cold`` or ``dry``)."""
    shares = {}
    if "kg_by_class" in jobs.columns:
        classes = jobs["kg_by_class"]
    else:
        classes = pd.Series([{"cold" if c else "dry": 1.0} for c in jobs["cold"]], dtype=object)
    for job_id, by_class in zip(jobs["job_id"], classes, strict=True):
        total = sum(by_class.values())
        shares[str(job_id)] = {c: kg / total for c, kg in by_class.items()} if total else {}
    return shares


def _goods(
    visit: Visit, action: str, other: str, shares: Mapping[str, Mapping[str, float]]
) -> list[dict]:
    """The visit's goods per storage class (``goods`` column: what each stop moves, where)."""
    share = shares.get(visit.job_id.split("#")[0], {})
    return [
        {"action": action, "other": other, "storage_class": c, "kg": round(visit.kg * f, 3)}
        for c, f in share.items()
    ]


def _route_rows(
    ctx: WeekContext,
    nodes: DayNodes,
    raw: DayRoutesRaw,
    v: int,
    shares: Mapping[str, Mapping[str, float]],
) -> list[dict]:
    """Merge consecutive nodes at one place (the hub's copies) into one stop row each.

    ``goods`` lists, per stop, what each visit there moves: ``action`` (load, unload, pickup,
    deliver), ``other`` (the site at the other end), ``storage_class``, ``kg``."""
    sites, matrix, loc = ctx.sites, ctx.matrix, ctx.loc
    route, start_s = raw.routes[v], raw.start_s[v]
    load_kg, load_pal, brk = raw.load_kg[v], raw.load_pallets_dec[v], raw.breaks[v]
    rows: list[dict] = []
    num_depots = nodes.num_depots
    prev_site = None
    for k, node in enumerate(route):
        site = nodes.node_site[node]
        is_depot = node < num_depots
        goods: list[dict] = []
        if is_depot:
            action, what, drop_kg, pick_kg = ("start" if k == 0 else "end"), "", 0.0, 0.0
        else:
            visit = nodes.visits[(node - num_depots) // 2]
            is_pick = (node - num_depots) % 2 == 0
            if site == ctx.problem.hub_id:
                action = "load" if is_pick else "unload"
                other = visit.dst if is_pick else visit.src
                what = f"{'for' if is_pick else 'from'} {other}: {visit.detail}"
            else:
                action = "pickup" if is_pick else "deliver"
                what = visit.detail
            drop_kg, pick_kg = (0.0, visit.kg) if is_pick else (visit.kg, 0.0)
            goods = _goods(
                visit,
                action,
                other if site == ctx.problem.hub_id else (visit.dst if is_pick else visit.src),
                shares,
            )
        arrival = start_s[k] / 60
        departure = (start_s[k] + nodes.service_s[node]) / 60
        if (
            rows
            and site == prev_site
            and not is_depot
            and rows[-1]["action"] not in ("start", "end")
        ):
            row = rows[-1]
            if action not in row["action"].split("+"):
                row["action"] += f"+{action}"
            row["detail"] += f"; {what}"
            row["goods"] += goods
            row["drop_kg"] += drop_kg
            row["pick_kg"] += pick_kg
            row["departure_min"] = departure
        else:
            dist = matrix.dist_m[loc[prev_site], loc[site]] if prev_site else 0.0
            drive = matrix.duration_s[loc[prev_site], loc[site]] if prev_site else 0.0
            if action == "start":
                arrival = departure = start_s[k] / 60
            rows.append(
                {
                    "site_id": site,
                    "name": sites.at[site, "name"],
                    "kind": sites.at[site, "kind"],
                    "action": action,
                    "arrival_min": arrival,
                    "departure_min": departure,
                    "drop_kg": drop_kg,
                    "pick_kg": pick_kg,
                    "detail": what,
                    "goods": goods,
                    "contact": sites.at[site, "contact"],
                    "notes": sites.at[site, "notes"],
                    "lat": float(sites.at[site, "lat"]),
                    "lon": float(sites.at[site, "lon"]),
                    "dist_m": float(dist),
                    "drive_s": float(drive),
                }
            )
        rows[-1]["load_kg"] = float(load_kg[k])
        rows[-1]["load_pallets"] = load_pal[k] / 10
        prev_site = site
    # a break outside the route (the solver may put it after the shift's end) is not shown
    if (
        brk is not None
        and len(rows) > 2
        and rows[0]["departure_min"] <= brk[0] / 60 < rows[-1]["arrival_min"]
    ):
        start_min, dur_min = brk[0] / 60, brk[1] / 60
        pos = next((i for i, r in enumerate(rows) if r["arrival_min"] > start_min), len(rows))
        pos = min(max(pos, 1), len(rows) - 1)
        before = rows[pos - 1]
        rows.insert(
            pos,
            {
                "site_id": "",
                "name": "pause conducteur",
                "kind": "break",
                "action": "break",
                "arrival_min": start_min,
                "departure_min": start_min + dur_min,
                "drop_kg": 0.0,
                "pick_kg": 0.0,
                "load_kg": before["load_kg"],
                "load_pallets": before["load_pallets"],
                "detail": f"{dur_min:.0f} min break",
                "goods": [],
                "contact": "",
                "notes": "",
                "lat": before["lat"],
                "lon": before["lon"],
                "dist_m": 0.0,
                "drive_s": 0.0,
            },
        )
    return rows


def week_routes(
    ctx: WeekContext,
    chosen: Sequence[tuple[str, Visit]],
    unscheduled: Sequence[dict],
    days: Mapping[str, DaySolution],
    *,
    runtime_s: float,
) -> WeekRoutes:
    """The week's frames in week order, and its totals over the vehicles that moved."""
    schedule = pd.DataFrame(
        [{"job_id": v.job_id, "site_id": v.site_id, "day": d} for d, v in chosen],
        columns=["job_id", "site_id", "day"],
    )
    stops, kpis, unserved = [], [], list(unscheduled)
    day_status: dict[str, DayStatus] = {}
    for day in WEEKDAYS:
        if day in days:
            stops += days[day].stops
            kpis += days[day].kpis
            unserved += days[day].unserved
            day_status[day] = days[day].status
    stops_df = pd.DataFrame(stops, columns=STOP_COLUMNS)
    unserved_df = pd.DataFrame(unserved, columns=UNSERVED_COLUMNS)
    kpi_df = pd.DataFrame(kpis, columns=KPI_COLUMNS)
    used = kpi_df.loc[kpi_df["stops"] > 0]
    method = ctx.matrix.method
    overall = {
        "week_start": str(ctx.problem.week_start.date()),
        "method": method,
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
        "runtime_s": round(runtime_s, 2),
        "day_status": day_status,
        "estimated_sites": [str(ctx.problem.sites["site_id"].iat[i]) for i in ctx.matrix.estimated],
    }
    return WeekRoutes(
        stops=stops_df,
        unserved=unserved_df,
        vehicle_kpis=kpi_df,
        schedule=schedule,
        kpis=overall,
        method=method,
        engine="ortools",
        day_status=day_status,
    )
