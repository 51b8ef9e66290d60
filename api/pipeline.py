"""The one place that chains demand → planner → routing.

The packages never import each other; this module passes plain DataFrames between them:
demand's hub-level forecast feeds the planner, the planner's weekly harvest becomes the
routing's farm pickups, and the demand of a week becomes the routing's deliveries.

Every door goes through here: ``vivres plan`` and ``vivres routes`` (``api/commands``),
``vivres demo`` (:func:`run_demo`) and the HTTP jobs (``api/jobs/runners.py``). A door builds
its settings from its options with ``api.params`` (``demand_settings``, ``plan_params``,
``route_params``: defaults live in the settings types), then calls the stage functions:
``run_demand`` / ``write_demand``, ``plan_demand`` / ``run_plan`` / ``write_plan``,
``run_routes`` / ``write_routes``. Each stage's outputs are written by its ``write_*`` only.
The hub's real delivery week (this week's orders, confirmed supply, fair sharing, routes of
the allocations) is the stage in ``api/week.py`` (``run_week``; ``api/week_outputs.py``
``write_week``), kept apart for size; mutualisation (every coalition of organisations' week,
the split of the pooled cost) is ``api/mutual.py`` (``run_mutual``; ``write_mutual``).
A stage whose package fails to import fails the run: nothing is skipped silently.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from api.caisse import CaisseStage, run_caisse, write_caisse  # noqa: F401  (the caisse stage)
from api.messages import say
from api.mutual import MutualStage, run_mutual  # noqa: F401  (the mutualisation stage)
from api.mutual_report import write_mutual  # noqa: F401
from api.params import DemandSettings
from core.csvio import DEFAULT_LANG, Lang, write_user_csv
from core.errors import InputError
from core.territory import SAMPLE_DIR, Territory, load_territory
from core.units import order_kg

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


def load(data_dir: Path | str = SAMPLE_DIR, *, strict: bool = True) -> Territory:
    """Load and validate a territory folder."""
    return load_territory(Path(data_dir), strict=strict)


# --------------------------------------------------------------------------- demand


@dataclass(frozen=True, slots=True, kw_only=True)
class DemandStage:
    """Weekly demand history, the per-site forecast and its hub-level aggregate."""

    weekly: pd.DataFrame
    forecast: pd.DataFrame  # week_start, site_id, product_id, kg, low, high
    hub: pd.DataFrame  # week_start, product_id, storage_class, kg, low, high
    rejects: pd.DataFrame
    build: Any = None  # demand.DemandBuild (duplicates, caisse flags)
    ledger: pd.DataFrame | None = None  # monthly caisse ledger, when the territory has one


def run_demand(territory: Territory, settings: DemandSettings | None = None) -> DemandStage:
    """Build weekly demand from orders and caisse spending, forecast the season, and keep the
    caisse ledger when the territory has a caisse."""
    import demand

    settings = settings or DemandSettings()
    build = demand.build_weekly_demand(territory)
    families = territory.products.set_index("product_id")["category"]
    key = _forecast_key(build.weekly, families, settings)
    forecast = _FORECASTS.get(key)
    if forecast is None:
        forecast = demand.forecast_demand(
            build.weekly,
            horizon_weeks=settings.horizon_weeks,
            level=settings.level,
            families=families,
        )
        _FORECASTS[key] = forecast
        while len(_FORECASTS) > _FORECASTS_KEPT:
            _FORECASTS.pop(next(iter(_FORECASTS)))
    forecast = forecast.copy()
    hub = demand.hub_demand(forecast, territory.products)
    ledger = None
    if territory.households is not None and territory.caisse_transactions is not None:
        ledger = caisse_ledger(territory)
    return DemandStage(
        weekly=build.weekly,
        forecast=forecast,
        hub=hub,
        rejects=build.rejects,
        build=build,
        ledger=ledger,
    )


#: The latest forecasts of this process, by their inputs: a what-if, a second plan or a sweep
#: run of the same history gets the same forecast without choosing and fitting the models again
#: (the choice is deterministic: same history, same forecast).
_FORECASTS: dict[str, pd.DataFrame] = {}
_FORECASTS_KEPT = 4


def _forecast_key(weekly: pd.DataFrame, families: pd.Series, settings: DemandSettings) -> str:
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(weekly, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(families, index=True).to_numpy().tobytes())
    digest.update(repr((list(weekly.columns), settings)).encode())
    return digest.hexdigest()


def demand_summary(stage: DemandStage) -> dict[str, Any]:
    """The demand stage in figures (history and forecast weeks, season kilos, rejects)."""
    return {
        "history_weeks": int(stage.weekly["week_start"].nunique()),
        "forecast_weeks": int(stage.forecast["week_start"].nunique()),
        "season_kg": float(stage.hub["kg"].sum()),
        **_reject_counts(stage.rejects),
    }


def _reject_counts(rejects: pd.DataFrame) -> dict[str, int]:
    """Lines left out of the demand, and lines only flagged (an extreme quantity kept)."""
    kept = rejects["kept"].eq(True) if "kept" in rejects.columns else pd.Series(False)
    return {"rejected_rows": int(len(rejects) - kept.sum()), "flagged_rows": int(kept.sum())}


def write_demand(stage: DemandStage, out_dir: Path, *, lang: Lang = DEFAULT_LANG) -> list[Path]:
    """Write weekly.csv, forecast.csv, hub_forecast.csv, rejects.csv (and caisse_ledger.csv)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "weekly": stage.weekly,
        "forecast": stage.forecast,
        "hub_forecast": stage.hub,
        "rejects": stage.rejects,
    }
    if stage.ledger is not None:
        tables["caisse_ledger"] = stage.ledger
    files = []
    for name, frame in tables.items():
        files += write_user_csv(frame, out_dir / f"{name}.csv", lang=lang)
    return files


def caisse_ledger(
    territory: Territory, *, rule: str | None = None, extra_households: int = 0
) -> pd.DataFrame:
    """Monthly caisse ledger (contributions, allocations, spending, co-financing)."""
    import demand

    if territory.households is None or territory.caisse_transactions is None:
        raise InputError(
            "this territory has no caisse (households.csv and caisse_transactions.csv are missing)"
        )
    what_if = {"extra_households": extra_households} if extra_households else None
    chosen_rule = rule if rule is not None else territory.caisse_rule
    return demand.caisse_ledger(
        territory.households, territory.caisse_transactions, chosen_rule, what_if=what_if
    )


# --------------------------------------------------------------------------- planner


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanStage:
    """A solved season plan with the problem it answers and its KPIs."""

    result: Any  # planner.PlanResult
    problem: Any  # planner.PlanProblem
    kpis: dict = field(default_factory=dict)


def plan_demand(territory: Territory, params: Any, *, forecast: bool = True) -> pd.DataFrame | None:
    """The hub demand a plan answers: the forecast over the plan's ``horizon_weeks`` (None
    with ``forecast=False``: the planner then plans against the last year of orders)."""
    if not forecast:
        return None
    return run_demand(territory, DemandSettings(horizon_weeks=params.horizon_weeks)).hub


def run_plan(
    territory: Territory,
    hub_demand: pd.DataFrame | None,
    params: Any,
    *,
    scenario: Any = None,
    base_plan: pd.DataFrame | None = None,
    on_progress: Callable[[dict], None] | None = None,
) -> PlanStage:
    """Plan which farm grows and supplies what over the season.

    ``params`` is a ``planner.PlanParams`` (``api.params.plan_params`` builds it from a
    door's options); ``scenario`` a what-if (``planner.Scenario``, or the path of its YAML
    file) applied to the inputs and the params; ``base_plan`` the plan of another run it
    starts from (each of its beds kept earns the stability term).
    """
    import planner

    if isinstance(scenario, str | Path):
        scenario = planner.load_scenario(Path(scenario))
    spared: set[str] = set()
    if scenario is not None:
        reach = None if base_plan is None else scenario.affected_farms(base_plan, territory)
        if reach is not None:  # farms the change cannot reach weigh more in the stability term
            spared = set(territory.producers["producer_id"]) - reach
        territory, hub_demand = planner.apply_scenario(territory, hub_demand, scenario)
        params = scenario.adjust_params(params)  # yield shocks and budget
    problem = planner.build_plan_problem(
        territory, hub_demand, params=params, base_plan=base_plan, spared_farms=spared
    )
    result = planner.solve_plan(problem, params, on_progress=on_progress)
    return PlanStage(result=result, problem=problem, kpis=planner.kpis(result, problem))


def write_plan(stage: PlanStage, out_dir: Path, *, lang: Lang = DEFAULT_LANG) -> list[Path]:
    """Write the plan, harvest, coverage, report and producer contracts."""
    import planner

    return planner.write_plan_outputs(stage.result, stage.problem, Path(out_dir), lang=lang)


# --------------------------------------------------------------------------- routing


def week_start_of(territory: Territory, week: int) -> pd.Timestamp:
    """Monday of season week ``week`` (1-based): the season starts after the order history."""
    if week < 1 or week > 53:
        raise InputError(f"--week must be between 1 and 53; got {week}")
    if territory.orders is not None and len(territory.orders):
        last = pd.Timestamp(territory.orders["date"].max())
        first_monday = (last - pd.Timedelta(days=last.weekday())) + pd.Timedelta(weeks=1)
    else:
        today = pd.Timestamp.today().normalize()
        first_monday = today - pd.Timedelta(days=today.weekday())
    return first_monday + pd.Timedelta(weeks=week - 1)


def _kg_orders(territory: Territory) -> pd.DataFrame:
    orders = territory.orders
    if orders is None or orders.empty:
        raise InputError("no orders: the territory needs orders.csv to know what to deliver")
    products = territory.products.set_index("product_id")
    return orders.assign(
        kg=order_kg(orders, products),
        storage_class=orders["product_id"].map(products["storage_class"]),
    )


def route_inputs(
    territory: Territory,
    week: int,
    *,
    forecast: pd.DataFrame | None = None,
    harvest: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Return (deliveries, pickups, week_start) for season week ``week``.

    Deliveries are the demand forecast for that week when given, else the orders of the same
    ISO week one year earlier (the most recent actual orders of that season). Pickups are the
    planner's harvest for that week when given, else the farm supply needed to cover those
    deliveries, split over the farms able to grow each product in proportion to their land.
    """
    week_start = week_start_of(territory, week)
    products = territory.products.set_index("product_id")
    if forecast is not None:
        rows = forecast.loc[forecast["week_start"] == week_start]
        deliveries = rows.assign(storage_class=rows["product_id"].map(products["storage_class"]))
    else:
        orders = _kg_orders(territory)
        iso = pd.to_datetime(orders["date"]).dt.isocalendar()
        target = (week_start - pd.Timedelta(weeks=52)).isocalendar()
        mask = (iso["year"] == target.year) & (iso["week"] == target.week)
        deliveries = orders.loc[mask.to_numpy()]
    deliveries = deliveries.groupby(["site_id", "product_id", "storage_class"], as_index=False)[
        "kg"
    ].sum()
    deliveries = deliveries.loc[deliveries["kg"] > 0].reset_index(drop=True)

    if harvest is not None:
        rows = harvest.loc[pd.to_datetime(harvest["week_start"]) == week_start]
        pickups = rows.groupby(["site_id", "product_id", "storage_class"], as_index=False)[
            "kg"
        ].sum()
    else:
        pickups = _pickups_from_land(territory, deliveries)
    pickups = pickups.loc[pickups["kg"] > 0].reset_index(drop=True)
    return deliveries, pickups, week_start


def _pickups_from_land(territory: Territory, deliveries: pd.DataFrame) -> pd.DataFrame:
    """Split the week's crop-product deliveries over the farms able to grow them."""
    crops = territory.crops[["crop_id", "product_id", "land_type"]]
    growers = territory.producer_crops.merge(crops, on="crop_id")
    land = territory.producers.melt(
        id_vars=["producer_id", "site_id"],
        value_vars=["open_field_m2", "greenhouse_m2", "orchard_m2"],
        var_name="land_col",
        value_name="m2",
    )
    land["land_type"] = land["land_col"].str.removesuffix("_m2")
    growers = growers.merge(
        land[["producer_id", "site_id", "land_type", "m2"]], on=["producer_id", "land_type"]
    )
    growers = growers.groupby(["product_id", "site_id"], as_index=False)["m2"].sum()
    growers["share"] = growers["m2"] / growers.groupby("product_id")["m2"].transform("sum")
    needed = deliveries.groupby(["product_id", "storage_class"], as_index=False)["kg"].sum()
    pickups = needed.merge(growers, on="product_id")
    pickups["kg"] = pickups["kg"] * pickups["share"]
    return pickups[["site_id", "product_id", "storage_class", "kg"]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteStage:
    """A solved week of routes with the problem it answers."""

    result: Any  # routing.WeekRoutes
    problem: Any  # routing.WeekProblem
    network: Any = None


def load_network(source: Path | str, *, cache_dir: Path | None = None) -> Any:
    """The road network of an OSM file, or ``place:NAME`` / ``bbox:W,S,E,N`` (downloaded and
    cached)."""
    import routing

    return routing.load_network(source, cache_dir=cache_dir)


def run_routes(
    territory: Territory,
    week: int,
    params: Any,
    *,
    forecast: pd.DataFrame | None = None,
    harvest: pd.DataFrame | None = None,
    network: Any = None,
    transfers: pd.DataFrame | None = None,
) -> RouteStage:
    """Build and solve the shared-truck routes of season week ``week``.

    ``params`` is a ``routing.RouteParams`` (``api.params.route_params`` builds it from a
    door's options); ``network`` a road network (``load_network``; without one, great-circle
    estimates, flagged); ``transfers`` direct farm → shop pairs (``from_site_id, to_site_id,
    storage_class, kg``).
    """
    import routing

    deliveries, pickups, week_start = route_inputs(
        territory, week, forecast=forecast, harvest=harvest
    )
    problem = routing.build_week_problem(
        territory, deliveries, pickups, week_start=week_start, params=params, transfers=transfers
    )
    result = routing.solve_week(problem, params, network=network)
    return RouteStage(result=result, problem=problem, network=network)


def write_routes(stage: RouteStage, out_dir: Path, *, lang: Lang = DEFAULT_LANG) -> list[Path]:
    """Write route sheets, GeoJSON, the day maps, KPIs and the unserved stops."""
    import routing

    return routing.write_route_outputs(
        stage.result, stage.problem, Path(out_dir), network=stage.network, lang=lang
    )


def producer_pickups(territory: Territory, stage: RouteStage) -> dict[str, list[dict]]:
    """Per producer, the week's pickups at its farm (day, date, vehicle, times, kilos)."""
    from routing.outputs import hhmm

    stops = stage.result.stops
    pickups = {}
    for producer_id, site_id in territory.producers[["producer_id", "site_id"]].itertuples(
        index=False
    ):
        rows = stops.loc[(stops["site_id"] == site_id) & (stops["pick_kg"] > 0)]
        pickups[producer_id] = [
            {
                "day": r.day,
                "date": str(r.date)[:10],
                "vehicle_id": r.vehicle_id,
                "arrival": hhmm(r.arrival_min),
                "departure": hhmm(r.departure_min),
                "pick_kg": round(float(r.pick_kg), 1),
                "what": r.detail,
            }
            for r in rows.itertuples()
        ]
    return pickups


# --------------------------------------------------------------------------- the weekly job


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSummary:
    """What ``vivres demo`` did, stage by stage."""

    out_dir: Path
    stages: dict[str, dict] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def write_sites_geojson(territory: Territory, path: Path) -> Path:
    """Write every site as a GeoJSON point with its kind and caisse approval."""
    import geopandas as gpd

    sites = territory.sites.drop(columns=["row"])
    frame = gpd.GeoDataFrame(
        sites, geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326"
    )
    frame.to_file(path, driver="GeoJSON")
    return path


def run_demo(
    data_dir: Path | str,
    out_dir: Path | str,
    *,
    week: int = 1,
    plan_params: Any = None,
    route_params: Any = None,
    osm: Path | None = None,
    progress: Progress = _noop,
    lang: Lang = DEFAULT_LANG,
) -> DemoSummary:
    """Run the whole weekly job on a territory: demand → plan → routes, writing every output.

    ``plan_params`` / ``route_params`` default to ``PlanParams()`` / ``RouteParams()``; the
    demand forecast covers the plan's weeks.
    """
    import planner
    import routing

    plan_params = plan_params if plan_params is not None else planner.plan_params()
    route_params = route_params if route_params is not None else routing.RouteParams()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = DemoSummary(out_dir=out_dir)

    progress(say("loading", lang))
    territory = load(data_dir)
    summary.stages["territory"] = {
        "points_of_sale": len(territory.points_of_sale),
        "farms": len(territory.farms),
        "products": len(territory.products),
        "vehicles": len(territory.vehicles),
        "households": 0 if territory.households is None else len(territory.households),
        "order_rows": 0 if territory.orders is None else len(territory.orders),
    }
    summary.files.append(write_sites_geojson(territory, out_dir / "sites.geojson"))

    progress(say("demand", lang))
    demand = run_demand(territory, DemandSettings(horizon_weeks=plan_params.horizon_weeks))
    summary.files.extend(write_demand(demand, out_dir / "demand", lang=lang))
    summary.stages["demand"] = demand_summary(demand)

    progress(say("planner", lang))
    plan = run_plan(territory, demand.hub, plan_params)
    summary.files.extend(write_plan(plan, out_dir / "plan", lang=lang))
    summary.stages["plan"] = {
        "status": str(getattr(plan.result.status, "value", plan.result.status)),
        "objective": plan.result.objective,
        "gap_pct": None if plan.result.gap is None else 100 * plan.result.gap,
        **{k: v for k, v in plan.kpis.items() if isinstance(v, int | float | str)},
    }

    progress(say("routing", lang, week=week))
    network = load_network(osm, cache_dir=route_params.cache_dir) if osm is not None else None
    routes = run_routes(
        territory,
        week,
        route_params,
        forecast=demand.forecast,
        harvest=plan.result.harvest,
        network=network,
    )
    summary.files.extend(write_routes(routes, out_dir / "routes", lang=lang))
    summary.stages["routes"] = dict(routes.result.kpis)
    return summary
