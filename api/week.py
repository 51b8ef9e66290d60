"""The hub's real week: the orders just received, what the farms confirmed, fair sharing of
what is short, and the routes that deliver exactly the allocations.

Part of the one pipeline (``api.pipeline`` chains the packages; this module is its delivery
week stage, kept apart for size). Every door (``vivres week``, the HTTP ``week`` job, ``vivres
bench week``) calls :func:`run_week` then :func:`write_week`.

Kilo accounting: each order line's kilos are either delivered (on a route stop) or reported
with their reason: ``short_supply`` (farms and stock provide less than ordered: the kilos are
shared by :mod:`sharing`), ``storage`` (the hub cannot hold the week's goods of that storage
class at once, ``storage.csv``) or ``fleet`` (the routing left the delivery unserved; its own
reason in ``fleet_reason``).

Supply of a product in the week, in this order: the territory's ``availability.csv`` rows of
that week (farms' confirmed kilos, the hub's stock first), else the plan's harvest of that week
(``harvest``), else — a grown product with neither — the orders themselves (``source`` says
``orders``: not confirmed, picked up from the farms able to grow it in proportion to their
land). Products no farm grows come from the hub (``hub``: bought in, not limited).

Signed contracts are commitments: the plan harvest's ``committed_kg`` (kilos of frozen
plantings) is collected before any unsigned kilo, and at least (1 − the farm's volume
tolerance) of it is bought even when the shops need less (``to_stock_kg``, to the hub's stock;
:func:`api.week_supply.farm_pickups`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from api.week_supply import (  # noqa: F401  (the week's supply is part of this stage's API)
    MIN_STOCK_SHELF_DAYS,
    available_kg,
    farm_pickups,
    kept_shares,
    week_supply,
)
from core.csvio import read_csv_any
from core.errors import InputError, RowError
from core.schema import ORDERS, POINT_OF_SALE_KINDS
from core.tables import read_table
from core.territory import Territory
from core.units import KG, order_kg

REASONS = ("short_supply", "storage", "fleet")
_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def parse_week(text: str, *, field_name: str = "--week") -> pd.Timestamp:
    """The Monday of an ISO week (``2025-W50``) or of the week holding a date (``2025-12-10``)."""
    raw = str(text).strip()
    match = _ISO_WEEK.match(raw)
    try:
        if match:
            return pd.Timestamp.fromisocalendar(int(match[1]), int(match[2]), 1)
        day = pd.Timestamp(raw[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}$", raw) else None
    except ValueError:
        day = None
    if day is None:
        raise InputError(
            f"{field_name}: expected an ISO week (2025-W50) or a date (2025-12-10); got {raw!r}"
        )
    return (day - pd.Timedelta(days=day.weekday())).normalize()


def week_label(week_start: pd.Timestamp) -> str:
    """``2025-W50`` for the Monday of that ISO week."""
    iso = week_start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


# --------------------------------------------------------------------------- orders


def week_orders(
    territory: Territory, week_start: pd.Timestamp, orders_file: Path | None = None
) -> pd.DataFrame:
    """The week's order lines in kilos: ``site_id, product_id, storage_class, ordered_kg``.

    ``orders_file``: an upload holding that week's orders only (same columns as orders.csv);
    otherwise the territory's orders dated in the week. Any bad row (unknown shop or product,
    a site that is not a point of sale, a date outside the week) is an error naming file, row
    and column; a week without orders is an error too.
    """
    end = week_start + pd.Timedelta(days=7)
    label = (
        f"{week_label(week_start)} ({week_start.date()} … {(end - pd.Timedelta(days=1)).date()})"
    )
    if orders_file is not None:
        refs = {
            "sites.site_id": set(territory.sites["site_id"].astype(str)),
            "products.product_id": set(territory.products["product_id"].astype(str)),
        }
        orders = read_table(Path(orders_file), ORDERS, refs=refs, strict=True).valid
        file = Path(orders_file).name
        outside = (orders["date"] < week_start) | (orders["date"] >= end)
        _raise_rows(orders, outside, file, "date", f"must be in the delivery week {label}")
    else:
        file = territory.file_of("orders")
        _check_rejects(territory, week_start, end, file)
        orders = territory.orders
        if orders is None:
            raise InputError(
                [RowError(file=file, row=None, column="date", message="no orders.csv: no week")]
            )
        orders = orders.loc[(orders["date"] >= week_start) & (orders["date"] < end)]
    kind = orders["site_id"].map(territory.sites.set_index("site_id")["kind"])
    _raise_rows(orders, ~kind.isin(POINT_OF_SALE_KINDS), file, "site_id", "not a point of sale")
    if orders.empty:
        raise InputError(
            [RowError(file=file, row=None, column="date", message=f"no order in week {label}")]
        )
    products = territory.products.set_index("product_id")
    lines = orders.assign(
        ordered_kg=order_kg(orders, products),
        storage_class=orders["product_id"].map(products["storage_class"]),
    )
    lines = lines.groupby(["site_id", "product_id", "storage_class"], as_index=False)[
        "ordered_kg"
    ].sum()
    return lines.loc[lines["ordered_kg"] > 0].reset_index(drop=True)


def _raise_rows(frame: pd.DataFrame, mask: pd.Series, file: str, column: str, msg: str) -> None:
    if not mask.any():
        return
    bad = frame.loc[mask]
    raise InputError(
        [
            RowError(file=file, row=int(r), column=column, message=msg, value=v)
            for r, v in zip(bad["row"][:100], bad[column][:100], strict=True)
        ]
    )


def _check_rejects(territory: Territory, start: pd.Timestamp, end: pd.Timestamp, file: str):
    """Rejected order rows dated in the week (or without a readable date) stop the week."""
    rejects = territory.rejects.get("orders")
    if rejects is None or rejects.empty:
        return
    dates = pd.to_datetime(rejects["date"], errors="coerce", format="mixed", dayfirst=True)
    hit = rejects.loc[dates.isna() | ((dates >= start) & (dates < end))]
    if len(hit):
        raise InputError(
            [
                RowError(file=file, row=int(r.row), column=str(r.column), message=str(r.reason))
                for r in hit.head(100).itertuples()
            ]
        )


# --------------------------------------------------------------------------- the stage


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekStage:
    """A delivery week: its orders, supply, allocation, routes and kilo accounting."""

    week_start: pd.Timestamp
    supply: pd.DataFrame  # site_id, product_id, storage_class, kg, source
    sharing: Any  # sharing.ShareResult
    lines: pd.DataFrame  # allocation lines + delivered_kg, fleet_kg, fleet_reason
    pickups: pd.DataFrame  # farm pickups (+ surplus_kg)
    routes: Any = None  # api.pipeline.RouteStage
    history: pd.DataFrame | None = None  # running fill per shop, to carry into next week
    summary: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekGoods:
    """The week's goods before routing: the shared allocation and the farm pickups, and the
    rows the routing takes (``deliveries`` and ``pickups_to_route``: ``site_id, product_id,
    storage_class, kg``)."""

    supply: pd.DataFrame
    sharing: Any  # sharing.ShareResult
    lines: pd.DataFrame
    pickups: pd.DataFrame
    deliveries: pd.DataFrame
    pickups_to_route: pd.DataFrame


def week_goods(
    territory: Territory,
    week_start: pd.Timestamp,
    *,
    orders_file: Path | None = None,
    harvest: pd.DataFrame | None = None,
    share_params: Any = None,
    past: pd.DataFrame | None = None,
    supply_change: Any = None,
) -> WeekGoods:
    """The week's orders, supply, fair sharing of what is short and farm pickups (the
    arguments are :func:`run_week`'s)."""
    from routing import sharing

    orders = week_orders(territory, week_start, orders_file)
    supply = week_supply(territory, week_start, orders, harvest)
    if supply_change is not None:
        supply = supply_change(supply, orders)
    products = territory.products.set_index("product_id")
    unit_kg = {
        str(p): float(products.at[p, "kg_per_unit"])
        for p in orders["product_id"].unique()
        if products.at[p, "unit"] != KG
    }
    shops = territory.sites.set_index("site_id")
    weights = {
        str(s): float(shops.at[s, "share_weight"]) if "share_weight" in shops.columns else 1.0
        for s in orders["site_id"].unique()
    }
    capacity = _hub_capacity(territory)
    problem = sharing.ShareProblem(
        orders=orders,
        supply=available_kg(supply),
        capacity=capacity,
        weights=weights,
        unit_kg=unit_kg,
        past=past,
    )
    shared = sharing.share(problem, share_params)
    lines = shared.lines.copy()
    hub_id = str(territory.hub["site_id"])
    allocated = lines.groupby("product_id")["allocated_kg"].sum()
    pickups = farm_pickups(supply, allocated, hub_id, kept_shares(territory))
    deliveries = lines.loc[lines["allocated_kg"] > 1e-9].rename(columns={"allocated_kg": "kg"})
    route_pickups = pickups.loc[
        pickups["kg"] > 1e-9, ["site_id", "product_id", "storage_class", "kg"]
    ]
    return WeekGoods(
        supply=supply,
        sharing=shared,
        lines=lines,
        pickups=pickups,
        deliveries=deliveries[["site_id", "product_id", "storage_class", "kg"]],
        pickups_to_route=route_pickups,
    )


def run_week(
    territory: Territory,
    week_start: pd.Timestamp,
    route_params: Any,
    *,
    orders_file: Path | None = None,
    harvest: pd.DataFrame | None = None,
    share_params: Any = None,
    past: pd.DataFrame | None = None,
    network: Any = None,
    supply_change: Any = None,
) -> WeekStage:
    """Build the delivery week from its orders, share what is short, route the allocations.

    ``share_params``: a ``sharing.ShareParams``; ``past``: ``site_id, ordered_kg,
    allocated_kg`` carried from earlier weeks (``fill_history.csv``); ``supply_change``: a
    callable ``(supply, orders) → supply`` (the what-if hook, ``api.week_whatif``: a farm
    delivering nothing, a product at 60 %).
    """
    import routing
    from api.pipeline import RouteStage

    started = time.perf_counter()
    goods = week_goods(
        territory,
        week_start,
        orders_file=orders_file,
        harvest=harvest,
        share_params=share_params,
        past=past,
        supply_change=supply_change,
    )
    supply, shared, lines, pickups = goods.supply, goods.sharing, goods.lines, goods.pickups
    problem_r = routing.build_week_problem(
        territory,
        goods.deliveries,
        goods.pickups_to_route,
        week_start=week_start,
        params=route_params,
    )
    result = routing.solve_week(problem_r, route_params, network=network)
    stage_r = RouteStage(result=result, problem=problem_r, network=network)
    lines = _account(lines, problem_r, result, route_params)
    summary = _summary(week_start, lines, shared, pickups, result, time.perf_counter() - started)
    summary["stock_set_aside_kg"] = round(float(supply["set_aside_kg"].sum()), 3)
    summary["supply_sources"] = {
        str(k): int(v)
        for k, v in supply.drop_duplicates("product_id")["source"].value_counts().items()
    }
    stage = WeekStage(
        week_start=week_start,
        supply=supply,
        sharing=shared,
        lines=lines,
        pickups=pickups,
        routes=stage_r,
        summary=summary,
    )
    return replace(stage, history=carried_history(stage, past))


def _hub_capacity(territory: Territory) -> dict[str, float]:
    storage = territory.storage
    if storage is None or storage.empty:
        return {}
    hub = storage.loc[storage["site_id"] == territory.hub["site_id"]]
    return {
        str(c): float(kg) for c, kg in zip(hub["storage_class"], hub["capacity_kg"], strict=True)
    }


def _account(lines: pd.DataFrame, problem: Any, result: Any, params: Any) -> pd.DataFrame:
    """Split each shop's unserved delivery kilos over its lines (by cold/dry job, pro rata)
    and check the route stops carry exactly the rest."""
    cold = set(params.refrigerated_classes)
    lines = lines.assign(cold=lines["storage_class"].isin(cold))
    jobs = problem.jobs.loc[problem.jobs["kind"] == "delivery"].set_index("job_id")
    unserved = result.unserved  # a job cut into trips is unserved as job_id#k
    unserved = unserved.assign(job_id=unserved["job_id"].astype(str).str.split("#").str[0])
    unserved = unserved.loc[unserved["job_id"].isin(jobs.index)]
    lost = unserved.groupby("job_id")["kg"].sum()
    why = unserved.groupby("job_id")["reason"].agg(lambda r: ", ".join(sorted(set(r))))
    key = jobs.reset_index().set_index(["site_id", "cold"])
    fleet_share = np.zeros(len(lines))
    reason = np.full(len(lines), "", dtype=object)
    for i, (site, is_cold) in enumerate(zip(lines["site_id"], lines["cold"], strict=True)):
        if (site, is_cold) in key.index:
            job = key.loc[(site, is_cold)]
            job_id, job_kg = str(job["job_id"]), float(job["kg"])
            if job_id in lost.index and job_kg > 0:
                fleet_share[i] = min(1.0, float(lost[job_id]) / job_kg)
                reason[i] = why[job_id]
    lines["fleet_kg"] = lines["allocated_kg"] * fleet_share
    lines["fleet_reason"] = reason
    lines["delivered_kg"] = lines["allocated_kg"] - lines["fleet_kg"]
    return lines.drop(columns="cold")


def delivered_on_routes(result: Any) -> float:
    """Kilos dropped at the shops on the week's route stops."""
    stops = result.stops
    if stops.empty:
        return 0.0
    return float(stops.loc[stops["kind"].isin(POINT_OF_SALE_KINDS), "drop_kg"].sum())


def _summary(
    week_start: pd.Timestamp,
    lines: pd.DataFrame,
    shared: Any,
    pickups: pd.DataFrame,
    result: Any,
    seconds: float,
) -> dict:
    reported = {
        "short_supply": float(lines["short_supply_kg"].sum()),
        "storage": float(lines["storage_kg"].sum()),
        "fleet": float(lines["fleet_kg"].sum()),
    }
    ordered = float(lines["ordered_kg"].sum())
    delivered = float(lines["delivered_kg"].sum())
    on_routes = delivered_on_routes(result)
    unserved_pickups = result.unserved.loc[result.unserved["kind"] == "pickup", "kg"].sum()
    return {
        "week": week_label(week_start),
        "week_start": str(week_start.date()),
        "shops": int(lines["site_id"].nunique()),
        "order_lines": len(lines),
        "ordered_kg": round(ordered, 3),
        "allocated_kg": round(float(lines["allocated_kg"].sum()), 3),
        "delivered_kg": round(delivered, 3),
        "delivered_on_routes_kg": round(on_routes, 3),
        "reported_kg": {k: round(v, 3) for k, v in reported.items()},
        "unaccounted_kg": round(ordered - delivered - sum(reported.values()), 3),
        "sharing": shared.method,
        "shared_products": list(shared.shared),
        "min_fill_rate": round(shared.min_fill_rate, 6),
        "gini": round(shared.gini, 6),
        "undistributed_kg": round(shared.undistributed_kg, 3),
        "picked_up_kg": round(float(pickups["kg"].sum()), 3),
        "surplus_left_at_farms_kg": round(float(pickups["surplus_kg"].sum()), 3),
        "committed_kg": round(float(pickups["committed_kg"].sum()), 3),
        "committed_to_stock_kg": round(float(pickups["to_stock_kg"].sum()), 3),
        "pickups_not_collected_kg": round(float(unserved_pickups), 3),
        "routes": {
            k: result.kpis[k] for k in ("km", "cost_eur", "co2_kg", "unserved", "unserved_kg")
        },
        "seconds": round(seconds, 2),
    }


def carried_history(stage: WeekStage, past: pd.DataFrame | None) -> pd.DataFrame:
    """The running ordered/allocated kilos per shop of the shared products, to carry into the
    next week (``--carry``)."""
    part = stage.lines.loc[stage.lines["product_id"].isin(stage.sharing.shared)]
    now = part.groupby("site_id")[["ordered_kg", "allocated_kg"]].sum()
    if past is not None and len(past):
        now = now.add(past.groupby("site_id")[["ordered_kg", "allocated_kg"]].sum(), fill_value=0)
    return now.reset_index()


def read_history(path: Path | None) -> pd.DataFrame | None:
    """A ``fill_history.csv`` written by an earlier week (``site_id, ordered_kg,
    allocated_kg``)."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--carry {path}: file not found")
    frame = read_csv_any(path)
    missing = {"site_id", "ordered_kg", "allocated_kg"} - set(frame.columns)
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    for col in ("ordered_kg", "allocated_kg"):
        values = pd.to_numeric(frame[col].astype(str).str.replace(",", "."), errors="coerce")
        bad = ~(values >= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                [RowError(file=path.name, row=i + 2, column=col, message="must be a number >= 0")]
            )
        frame[col] = values
    return frame[["site_id", "ordered_kg", "allocated_kg"]].assign(
        site_id=frame["site_id"].astype(str)
    )
