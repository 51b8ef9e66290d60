"""Mutualisation: what each organisation would spend alone, what pooling saves, and how the
pooled cost is shared (the "économies d'intégration" report).

Part of the one pipeline (``api.pipeline`` re-exports :func:`run_mutual`); every door
(``vivres mutualisation``, the HTTP ``mutualisation`` job, ``vivres bench mutualisation``)
calls :func:`run_mutual` then :func:`api.mutual_report.write_mutual`.

A coalition's week is the delivery week's routing problem restricted to its members: the
goods of their shops (the week's fair allocation, :func:`api.week.week_goods`, is computed
once for everyone, so pooling changes the trucks, not who gets what), their share of each
farm pickup (a farm sells to whoever buys: the pickup kilos of a product are split by the
members' share of that product's allocation) and their own vehicles, each starting from its
depot. The goods pass through the hub in every coalition (it is the market where the farms'
produce is gathered). What a coalition's vehicles cannot carry (no refrigerated van, no room,
no vehicle at all) is counted at a carrier's rate (``MutualParams.outsourced_eur_per_kg``).

A coalition's cost = the routes' € (km × the vehicle's €/km + hours × its €/h, vehicles.csv)
+ vehicle-days × ``vehicle_day_eur`` + outsourced kilos × ``outsourced_eur_per_kg``.
The 2ⁿ − 1 coalitions (exact Shapley up to ``exact_up_to`` organisations, else the coalitions
of sampled orders) are solved in a process pool, each with the routing's repeatable settings:
the same inputs and seed give the same report. The game maths is :mod:`routing.coalitions`.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from core.errors import InputError
from core.territory import Territory

#: Default routing cap per coalition week (s): a safety cap, the days stop at local optima
#: (the week's own 45 s default can cut a day on a busy machine, and the report must repeat)
ROUTING_CAP_S = 600.0
#: What a coalition's vehicles do not carry is "outsourced": its reason when it has none.
NO_VEHICLE = "no vehicle"


@dataclass(frozen=True, slots=True, kw_only=True)
class MutualParams:
    """Cost rates and knobs of the comparison (defaults and sources: data/README.md)."""

    #: fixed cost of a vehicle used on a day (lease or depreciation, insurance, upkeep)
    vehicle_day_eur: float = 45.0
    #: a carrier's price for the kilos a coalition's own vehicles cannot carry
    outsourced_eur_per_kg: float = 0.35
    workers: int = 2  # routing solves run in a process pool of this size
    exact_up_to: int = 10  # exact Shapley up to this many organisations, sampled beyond
    num_orders: int = 200  # sampled Shapley: random orders of arrival
    seed: int = 1  # sampled orders

    def __post_init__(self) -> None:
        for name in ("vehicle_day_eur", "outsourced_eur_per_kg"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a number >= 0; got {value!r}")
        if not 1 <= self.workers <= 64:
            raise InputError(f"workers must be in 1..64; got {self.workers}")
        if not 1 <= self.exact_up_to <= 12:
            raise InputError(f"exact_up_to must be in 1..12; got {self.exact_up_to}")
        if self.num_orders < 2:
            raise InputError(f"num_orders must be >= 2; got {self.num_orders}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MutualStage:
    """The comparison of one or more delivery weeks (costs summed over the weeks)."""

    weeks: tuple[str, ...]
    organisations: pd.DataFrame  # organisation_id, name, kind (the players)
    assessable: bool  # False: one organisation owns everything (or none is declared)
    reason: str = ""  # why pooling cannot be assessed
    coalitions: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per coalition
    split: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per organisation
    summary: dict = field(default_factory=dict)
    params: MutualParams = field(default_factory=MutualParams)


# --------------------------------------------------------------------------- owners


def owners(territory: Territory) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """The organisations, the owner of each site and of each vehicle."""
    orgs = territory.organisations
    if orgs is None or orgs.empty:
        return pd.DataFrame(columns=["organisation_id", "name", "kind"]), {}, {}
    sites, vehicles = territory.sites, territory.vehicles
    site_owner = dict(zip(sites["site_id"], sites["organisation_id"].fillna(""), strict=True))
    vehicle_owner = dict(
        zip(vehicles["vehicle_id"], vehicles["organisation_id"].fillna(""), strict=True)
    )
    return (
        orgs[["organisation_id", "name", "kind"]].reset_index(drop=True),
        site_owner,
        vehicle_owner,
    )


def _goods_by_owner(goods: Any, site_owner: dict[str, str], players: list[str]) -> dict:
    """Deliveries and each member's share of the farm pickups, per organisation."""
    deliveries = goods.deliveries.assign(org=goods.deliveries["site_id"].map(site_owner))
    by_product = deliveries.pivot_table(
        index="product_id", columns="org", values="kg", aggfunc="sum", fill_value=0.0
    ).reindex(columns=players, fill_value=0.0)
    overall = by_product.sum() / max(float(by_product.to_numpy().sum()), 1e-12)
    shares = by_product.div(by_product.sum(axis=1).replace(0.0, math.nan), axis=0)
    pickups = goods.pickups_to_route
    share_rows = shares.reindex(pickups["product_id"]).fillna(overall)
    return {
        o: {
            "deliveries": deliveries.loc[deliveries["org"] == o].drop(columns="org"),
            "pickups": pickups.assign(kg=pickups["kg"].to_numpy() * share_rows[o].to_numpy()),
        }
        for o in players
    }


def _coalition_goods(parts: dict, members: frozenset[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    deliveries = pd.concat([parts[o]["deliveries"] for o in sorted(members)], ignore_index=True)
    pickups = parts[sorted(members)[0]]["pickups"].copy()
    pickups["kg"] = sum(parts[o]["pickups"]["kg"].to_numpy() for o in members)
    return deliveries, pickups.loc[pickups["kg"] > 1e-6].reset_index(drop=True)


# --------------------------------------------------------------------------- solving


def _solve(job: tuple[Any, Any, Any]) -> Any:
    """One coalition's week (top level: runs in the process pool)."""
    import warnings

    import routing

    problem, params, network = job
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pooled week's run reports them
        return routing.solve_week(problem, params, network=network)


def _solve_all(jobs: list[tuple[Any, Any, Any]], workers: int) -> list[Any]:
    if multiprocessing.current_process().daemon:  # a job's child may not have children
        workers = 1
    if workers == 1 or len(jobs) <= 1:
        return [_solve(job) for job in jobs]
    # spawn: OR-Tools and BLAS threads make fork unsafe; results keep the jobs' order
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_solve, jobs))


def _figures(members: frozenset[str], routes: Any, kg_total: float, params: MutualParams) -> dict:
    """A coalition's week in figures (``routes`` None: it has no vehicle)."""
    if routes is None:
        km = hours = route_eur = co2 = kg_moved = 0.0
        vehicles = vehicle_days = 0
        unserved = {NO_VEHICLE: kg_total}
        repeatable = True
    else:
        used = routes.vehicle_kpis.loc[routes.vehicle_kpis["stops"] > 0]
        km, hours = float(used["km"].sum()), float(used["hours"].sum())
        route_eur, co2 = float(used["cost_eur"].sum()), float(used["co2_kg"].sum())
        stops = routes.stops
        kg_moved = float(stops["drop_kg"].sum() + stops["pick_kg"].sum()) / 2 if len(stops) else 0
        vehicles, vehicle_days = int(used["vehicle_id"].nunique()), len(used)
        unserved = routes.unserved.groupby("reason")["kg"].sum().to_dict()
        repeatable = all(s.repeatable for s in routes.day_status.values())
    outsourced = float(sum(unserved.values()))
    fixed = vehicle_days * params.vehicle_day_eur
    return {
        "coalition": "+".join(sorted(members)),
        "size": len(members),
        "kg_to_move": round(kg_total, 1),
        "km": round(km, 1),
        "driver_h": round(hours, 2),
        "vehicles": vehicles,
        "vehicle_days": vehicle_days,
        "route_eur": round(route_eur, 2),
        "fixed_eur": round(fixed, 2),
        "outsourced_kg": round(outsourced, 1),
        "outsourced_eur": round(outsourced * params.outsourced_eur_per_kg, 2),
        "cost_eur": round(route_eur + fixed + outsourced * params.outsourced_eur_per_kg, 2),
        "co2_kg": round(co2, 1),
        "kg_per_km": round(kg_moved / km, 2) if km > 0 else 0.0,
        "not_served": "; ".join(f"{r} {kg:.0f} kg" for r, kg in sorted(unserved.items())),
        "repeatable": repeatable,
    }


def _week_game(
    territory: Territory,
    week_start: pd.Timestamp,
    route_params: Any,
    params: MutualParams,
    players: list[str],
    needed: list[frozenset[str]],
    owner_maps: tuple[dict, dict],
    week_kwargs: dict,
) -> tuple[pd.DataFrame, dict]:
    """Every needed coalition's figures for one week, and the pooled routes' km per member."""
    import routing
    from api.week import week_goods

    site_owner, vehicle_owner = owner_maps
    network = week_kwargs.pop("network", None)
    goods = week_goods(territory, week_start, **week_kwargs)
    parts = _goods_by_owner(goods, site_owner, players)
    jobs, index, kg_total = [], {}, {}
    for members in needed:
        deliveries, pickups = _coalition_goods(parts, members)
        kg_total[members] = float(deliveries["kg"].sum() + pickups["kg"].sum())
        fleet = territory.vehicles.loc[
            territory.vehicles["vehicle_id"].map(vehicle_owner).isin(members)
        ]
        if fleet.empty:
            continue
        problem = routing.build_week_problem(
            replace(territory, vehicles=fleet),
            deliveries,
            pickups,
            week_start=week_start,
            params=route_params,
        )
        index[members] = len(jobs)
        jobs.append((problem, route_params, network))
    solved = _solve_all(jobs, params.workers)
    rows = []
    for members in needed:
        routes = solved[index[members]] if members in index else None
        rows.append(_figures(members, routes, kg_total[members], params))
    grand = frozenset(players)
    km_for = _km_for(solved[index[grand]], parts, site_owner, players) if grand in index else {}
    storage = {
        o: parts[o]["deliveries"].groupby("storage_class")["kg"].sum().round(1).to_dict()
        for o in players
    }
    extra = {
        "km_for": km_for,
        "kg": {o: float(parts[o]["deliveries"]["kg"].sum()) for o in players},
        "stops": {o: int(parts[o]["deliveries"]["site_id"].nunique()) for o in players},
        "storage_kg": storage,
    }
    return pd.DataFrame(rows), extra


def _km_for(routes: Any, parts: dict, site_owner: dict, players: list[str]) -> dict[str, float]:
    """The pooled routes' km split by the kilos each member has on each vehicle-day (drops
    at its shops; pickups by its share of the farm's pickup)."""
    stops = routes.stops
    if stops.empty:
        return dict.fromkeys(players, 0.0)
    farm_kg = {o: parts[o]["pickups"].groupby("site_id")["kg"].sum() for o in players}
    farm_all = sum(farm_kg.values())
    out = dict.fromkeys(players, 0.0)
    for _, route in stops.groupby(["day", "vehicle_id"], sort=True):
        km = float(route["dist_m"].sum()) / 1000
        weight = {}
        for o in players:
            drops = route.loc[route["site_id"].map(site_owner) == o, "drop_kg"].sum()
            share = (farm_kg[o] / farm_all).reindex(route["site_id"]).fillna(0.0).to_numpy()
            weight[o] = float(drops + (route["pick_kg"].to_numpy() * share).sum())
        mass = sum(weight.values())
        for o in players:
            out[o] += km * weight[o] / mass if mass > 0 else km / len(players)
    return out


# --------------------------------------------------------------------------- the stage


def run_mutual(
    territory: Territory,
    weeks: list[pd.Timestamp],
    route_params: Any,
    params: MutualParams | None = None,
    **week_kwargs: Any,
) -> MutualStage:
    """Solve every coalition's weeks, share the pooled cost (Shapley, core, simple keys).

    ``week_kwargs``: :func:`api.week.week_goods`' options (``orders_file``, ``harvest``,
    ``share_params``) and ``network``.
    """
    from api.mutual_split import split_table
    from api.week import week_label
    from routing import coalitions as game

    params = params or MutualParams()
    started = time.perf_counter()
    if not weeks:
        raise InputError("--week: give at least one delivery week")
    labels = tuple(week_label(w) for w in weeks)
    orgs, site_owner, vehicle_owner = owners(territory)
    players = [str(o) for o in orgs["organisation_id"]]
    pos = territory.points_of_sale
    with_shops = sorted({site_owner.get(s, "") for s in pos["site_id"]} - {""})
    if len(players) < 2 or len(with_shops) < 2:
        why = (
            "no organisations.csv: one organisation owns every shop and vehicle"
            if not players
            else "fewer than two organisations own points of sale"
        )
        return MutualStage(
            weeks=labels, organisations=orgs, assessable=False, reason=why, params=params
        )
    exact = len(players) <= params.exact_up_to
    if exact:
        needed = game.coalitions(players)
        orders: list[tuple[str, ...]] = []
    else:
        orders = game.sample_orders(players, params.num_orders, params.seed)
        needed = sorted(game.prefixes(orders), key=lambda c: (len(c), sorted(c)))
    week_files = {k: v for k, v in week_kwargs.items() if k != "network"}
    frames, extras = [], []
    for week_start in weeks:
        frame, extra = _week_game(
            territory,
            week_start,
            route_params,
            params,
            players,
            needed,
            (site_owner, vehicle_owner),
            {**week_files, "network": week_kwargs.get("network")},
        )
        frames.append(frame.assign(week=week_label(week_start)))
        extras.append(extra)
    per_week = pd.concat(frames, ignore_index=True)
    table = _sum_weeks(per_week)
    cost = {
        frozenset(c.split("+")): float(v)
        for c, v in zip(table["coalition"], table["cost_eur"], strict=True)
    }
    split, summary = split_table(players, cost, table, extras, orders, exact)
    names = dict(zip(orgs["organisation_id"], orgs["name"], strict=True))
    table.insert(
        1, "members", [", ".join(names[o] for o in c.split("+")) for c in table["coalition"]]
    )
    summary.update(
        weeks=list(labels),
        organisations=len(players),
        coalitions=len(needed),
        seconds=round(time.perf_counter() - started, 1),
        rates={
            "vehicle_day_eur": params.vehicle_day_eur,
            "outsourced_eur_per_kg": params.outsourced_eur_per_kg,
        },
        repeatable=bool(per_week["repeatable"].all()),
    )
    season = season_weeks(territory)
    summary.update(
        season_weeks=season,
        season_pooled_eur=round(summary["pooled_eur"] / len(weeks) * season, 0),
        season_standalone_eur=round(summary["standalone_eur"] / len(weeks) * season, 0),
    )
    return MutualStage(
        weeks=labels,
        organisations=orgs,
        assessable=True,
        coalitions=table,
        split=split,
        summary=summary,
        params=params,
    )


def season_weeks(territory: Territory) -> int:
    """Delivery weeks in the season: weeks with orders in the last 52 weeks of orders (the
    season's figures are the weeks' mean times this: an estimate, said so in the report)."""
    orders = territory.orders
    if orders is None or orders.empty:
        return 0
    last = orders["date"].max()
    recent = orders.loc[orders["date"] > last - pd.Timedelta(weeks=52), "date"]
    return int(recent.dt.to_period("W-SUN").nunique())


def _sum_weeks(per_week: pd.DataFrame) -> pd.DataFrame:
    """Coalition figures summed over the weeks (kg per km recomputed)."""
    if per_week["week"].nunique() == 1:
        return per_week.drop(columns="week").reset_index(drop=True)
    numeric = [
        "kg_to_move", "km", "driver_h", "vehicles", "vehicle_days", "route_eur", "fixed_eur",
        "outsourced_kg", "outsourced_eur", "cost_eur", "co2_kg",
    ]  # fmt: skip
    grouped = per_week.groupby(["coalition", "size"], sort=False)
    table = grouped[numeric].sum().reset_index()
    table["vehicles"] = grouped["vehicles"].max().to_numpy()  # the fleet needed at most
    moved = per_week["kg_per_km"] * per_week["km"]
    table["kg_per_km"] = (
        (
            moved.groupby([per_week["coalition"]], sort=False).sum().to_numpy()
            / table["km"].where(table["km"] > 0)
        )
        .fillna(0.0)
        .round(2)
    )
    table["not_served"] = (
        grouped["not_served"].agg(lambda s: " | ".join(x for x in s if x)).to_numpy()
    )
    table["repeatable"] = grouped["repeatable"].all().to_numpy()
    return table.round(2)
