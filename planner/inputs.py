"""From a territory and hub demand to the planner's arrays: season, demand, planting options.

Everything the model needs is computed here once, vectorised: the season's weeks, the weekly
demand of each planned product, and the *planting options* (farm, crop, planting week) that
survive early filtering (the farm grows the crop, the week is in the crop's planting window, the
harvest falls in the season and can reach some demand within its shelf life).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InputError, RowError
from core.geo import haversine_km
from core.schema import LAND_TYPES
from core.territory import Territory
from core.units import order_kg
from planner.commitments import FrozenBeds, frozen_beds
from planner.contracts import farm_terms, pickup_hours
from planner.params import PlanParams
from planner.storage import network_capacity

#: Great-circle distance × this factor approximates road km (transport proxy).
CIRCUITY = 1.3
_HUB_COLUMNS = ("week_start", "product_id", "kg")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanInputs:
    """The planning data in array form (see module docstring)."""

    week_start: pd.DatetimeIndex  # T season weeks (Mondays)
    cyclic: bool  # a 52-week plan wraps around: autumn plantings harvest in winter
    products: pd.DataFrame  # planned products, position = p (product_id, name, price, ...)
    demand_kg: np.ndarray  # (P, T)
    farms: pd.DataFrame  # position = f (producer_id, site_id, name, land, labour, floor, km)
    options: pd.DataFrame  # position = o (f, producer_id, crop_id, p, plant_t, dur, ...)
    harvest_o: np.ndarray  # harvest entries: option,
    harvest_t: np.ndarray  # season week,
    harvest_kg_per_bed: np.ndarray  # kg per bed that week (yield shocks applied)
    unplanned: pd.DataFrame  # demanded products no crop produces: product_id, name, kg
    no_grower: tuple[str, ...]  # planned products no partner farm can grow
    source: str  # "forecast" or "history"
    frozen: FrozenBeds  # beds fixed by frozen contracts, per option
    storage_kg: dict[str, float] = field(default_factory=dict)  # capacity per class

    @property
    def num_weeks(self) -> int:
        """Number of season weeks."""
        return len(self.week_start)


def season_start(territory: Territory) -> pd.Timestamp:
    """Monday after the last order date (season week 1), or this week's Monday."""
    if territory.orders is not None and len(territory.orders):
        last = pd.Timestamp(territory.orders["date"].max())
    else:
        last = pd.Timestamp.today().normalize() - pd.Timedelta(days=7)
    return (last - pd.Timedelta(days=last.weekday())) + pd.Timedelta(weeks=1)


def history_demand(territory: Territory, *, horizon_weeks: int = 52) -> pd.DataFrame:
    """Hub demand for the season from the last year of orders, by ISO week.

    Each season week gets the kilos ordered in the same ISO week one year earlier (week 53 is
    folded into week 52). Returns the columns of the demand forecast's hub table (``low`` and
    ``high`` equal ``kg``: history carries no interval).
    """
    orders = territory.orders
    if orders is None or orders.empty:
        raise InputError(
            "orders.csv is missing or empty: the planner needs the order history "
            "(or a demand forecast) to know what to grow"
        )
    products = territory.products.set_index("product_id")
    start = season_start(territory)
    dates = pd.to_datetime(orders["date"])
    recent = (dates >= start - pd.Timedelta(weeks=52)).to_numpy()
    orders = orders.loc[recent]
    dates = dates.loc[recent]
    kg = order_kg(orders, products)
    iso = np.minimum(dates.dt.isocalendar()["week"].to_numpy(dtype=int), 52)
    by_week = (
        pd.DataFrame(
            {"iso": iso, "product_id": orders["product_id"].to_numpy(), "kg": kg.to_numpy()}
        )
        .groupby(["iso", "product_id"], as_index=False)["kg"]
        .sum()
    )
    weeks = pd.date_range(start, periods=horizon_weeks, freq="7D")
    season = pd.DataFrame(
        {"week_start": weeks, "iso": np.minimum(weeks.isocalendar()["week"].to_numpy(int), 52)}
    )
    ids = pd.DataFrame({"product_id": sorted(by_week["product_id"].unique())})
    hub = (
        season.merge(ids, how="cross")
        .merge(by_week, on=["iso", "product_id"], how="left")
        .drop(columns="iso")
        .fillna({"kg": 0.0})
    )
    hub["storage_class"] = hub["product_id"].map(products["storage_class"])
    hub["low"] = hub["kg"]
    hub["high"] = hub["kg"]
    return (
        hub[["week_start", "product_id", "storage_class", "kg", "low", "high"]]
        .sort_values(["week_start", "product_id"])
        .reset_index(drop=True)
    )


def _check_hub_demand(hub: pd.DataFrame, territory: Territory) -> pd.DataFrame:
    missing = [c for c in _HUB_COLUMNS if c not in hub.columns]
    if missing:
        raise InputError(f"hub demand: missing column(s) {', '.join(missing)}")
    hub = hub.assign(
        week_start=pd.to_datetime(hub["week_start"]), kg=pd.to_numeric(hub["kg"], errors="coerce")
    )
    errors = []
    bad = hub["kg"].isna() | (hub["kg"] < 0)
    for idx in np.flatnonzero(bad.to_numpy())[:10]:
        errors.append(
            RowError(
                file="hub demand",
                row=int(idx) + 2,
                column="kg",
                message="expected a number >= 0",
                value=hub["kg"].iloc[idx],
            )
        )
    unknown = ~hub["product_id"].isin(territory.products["product_id"])
    for idx in np.flatnonzero(unknown.to_numpy())[:10]:
        errors.append(
            RowError(
                file="hub demand",
                row=int(idx) + 2,
                column="product_id",
                message="not in products",
                value=hub["product_id"].iloc[idx],
            )
        )
    if errors:
        raise InputError(errors)
    return hub


def _in_window(iso_week: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Planting windows as ISO weeks; ``last < first`` spans the new year."""
    straight = (first <= last) & (iso_week >= first) & (iso_week <= last)
    wrapped = (first > last) & ((iso_week >= first) | (iso_week <= last))
    return straight | wrapped


def prepare_inputs(
    territory: Territory, hub_demand: pd.DataFrame | None, params: PlanParams
) -> PlanInputs:
    """Turn the territory and hub demand into the planner's arrays (see :class:`PlanInputs`)."""
    source = "forecast"
    if hub_demand is None:
        hub_demand = history_demand(territory, horizon_weeks=params.horizon_weeks)
        source = "history"
    hub = _check_hub_demand(hub_demand, territory)
    if hub.empty:
        raise InputError("hub demand has no weeks to plan")
    # the season runs from the first week of the demand table, week after week; weeks the
    # table does not list have no demand
    weeks = pd.date_range(hub["week_start"].min(), periods=params.horizon_weeks, freq="7D")
    num_weeks = len(weeks)
    cyclic = num_weeks == 52
    hub = hub.loc[hub["week_start"].isin(weeks)]

    crops = territory.crops.reset_index(drop=True)
    catalogue = territory.products.set_index("product_id")
    planned_ids = sorted(set(crops["product_id"]))
    products = catalogue.loc[
        planned_ids,
        ["name", "category", "storage_class", "shelf_life_days", "fair_price_eur_per_kg"],
    ]
    products = products.reset_index()
    # the shelf price per kg, for the fair-price gap (what accessible prices leave to finance)
    products["shelf_eur_per_kg"] = (
        catalogue.loc[planned_ids, "retail_price_eur_per_unit"]
        / catalogue.loc[planned_ids, "kg_per_unit"]
    ).to_numpy()
    products["shelf_weeks"] = np.minimum(products["shelf_life_days"] // 7, num_weeks)
    p_of = {pid: i for i, pid in enumerate(products["product_id"])}
    t_of = {w: i for i, w in enumerate(weeks)}

    planned = hub.loc[hub["product_id"].isin(p_of)]
    demand = np.zeros((len(products), num_weeks))
    np.add.at(
        demand,
        (
            planned["product_id"].map(p_of).to_numpy(int),
            planned["week_start"].map(t_of).to_numpy(int),
        ),
        planned["kg"].to_numpy(float),
    )
    others = hub.loc[~hub["product_id"].isin(p_of)]
    unplanned = others.groupby("product_id", as_index=False)["kg"].sum()
    unplanned = unplanned.loc[unplanned["kg"] > 0]
    unplanned.insert(1, "name", unplanned["product_id"].map(catalogue["name"]))

    # farms
    producers = territory.producers.reset_index(drop=True)
    sites = territory.sites.set_index("site_id")
    hub_site = territory.hub
    farm_sites = sites.loc[producers["site_id"]]
    farms = producers[
        [
            "producer_id",
            "site_id",
            "name",
            "open_field_m2",
            "greenhouse_m2",
            "orchard_m2",
            "labour_h_per_week",
            "min_revenue_eur",
        ]
    ].copy()
    farms["lat"] = farm_sites["lat"].to_numpy()
    farms["lon"] = farm_sites["lon"].to_numpy()
    farms["km_to_hub"] = CIRCUITY * haversine_km(
        farms["lat"], farms["lon"], hub_site["lat"], hub_site["lon"], radius_km=6371.0
    )
    f_of = {pid: i for i, pid in enumerate(farms["producer_id"])}
    terms = farm_terms(farms["producer_id"], territory.contract_terms)
    farms = farms.join(terms, on="producer_id")
    farms["pickup_hours"] = [
        pickup_hours(site, territory.opening_hours) for site in farms["site_id"]
    ]

    # crop calendars: occupancy from planting to the last listed harvest week; orchards are
    # perennial and hold their land all year
    yields = territory.crop_yields
    last_week = yields.groupby("crop_id")["week_after_planting"].max()
    crops = crops.assign(
        c=np.arange(len(crops)),
        p=crops["product_id"].map(p_of).to_numpy(int),
        dur=np.minimum(crops["crop_id"].map(last_week).to_numpy(int) + 1, num_weeks),
    )
    crops.loc[crops["land_type"] == "orchard", "dur"] = num_weeks

    # planting options: (farm, crop) pairs × season weeks in the planting window
    iso = np.minimum(weeks.isocalendar()["week"].to_numpy(int), 53)
    pairs = territory.producer_crops[["producer_id", "crop_id"]].drop_duplicates()
    pairs = pairs.loc[pairs["producer_id"].isin(f_of)]
    pairs = pairs.merge(crops, on="crop_id")
    pairs["f"] = pairs["producer_id"].map(f_of).to_numpy(int)
    grown = set(pairs["product_id"])
    no_grower = tuple(
        pid for pid in products["product_id"] if pid not in grown and demand[p_of[pid]].sum() > 0
    )
    window = _in_window(
        iso[None, :],
        crops["plant_week_first"].to_numpy(int)[:, None],
        crops["plant_week_last"].to_numpy(int)[:, None],
    )  # (C, T)
    crop_idx, plant_t = np.nonzero(window)
    by_crop = pd.DataFrame({"c": crop_idx, "plant_t": plant_t})
    options = pairs.merge(by_crop, on="c")
    options = options.sort_values(["f", "c", "plant_t"]).reset_index(drop=True)
    land = farms[[f"{lt}_m2" for lt in LAND_TYPES]].to_numpy()
    land_col = options["land_type"].map({lt: i for i, lt in enumerate(LAND_TYPES)})
    options["land_m2"] = land[options["f"].to_numpy(int), land_col.to_numpy(int)]
    # the smallest line a farm signs for (its contract terms): that many m² or none
    min_line = farms["min_line_m2"].to_numpy(float)[options["f"].to_numpy(int)]
    options["min_beds"] = np.maximum(
        options["min_beds"], np.ceil(min_line / options["bed_m2"] - 1e-9)
    )
    options["max_beds"] = np.floor(options["land_m2"] / options["bed_m2"] + 1e-9)
    options = options.loc[options["max_beds"] >= options["min_beds"]].reset_index(drop=True)
    frozen = frozen_beds(
        options,
        weeks,
        cyclic,
        territory.contracts,
        file="contracts.csv" if territory.contracts is None else territory.file_of("contracts"),
    )

    # harvest entries of every option: (option, season week, kg per bed)
    cal = yields[["crop_id", "week_after_planting", "yield_kg_per_m2"]]
    cal = cal.loc[cal["yield_kg_per_m2"] > 0]
    entries = options[["crop_id", "plant_t", "bed_m2", "p"]].assign(o=np.arange(len(options)))
    entries = entries.merge(cal, on="crop_id")
    t = entries["plant_t"].to_numpy(int) + entries["week_after_planting"].to_numpy(int)
    if cyclic:
        t = t % num_weeks
        keep = np.ones(len(t), dtype=bool)
    else:
        keep = t < num_weeks
    entries = entries.loc[keep].assign(t=t[keep])
    kg = entries["yield_kg_per_m2"].to_numpy(float) * entries["bed_m2"].to_numpy(float)
    kg = kg * _shock_factors(entries, products, params)
    entries = entries.assign(kg=kg)

    # filter: an option is useful if some of its harvest can serve some demand in its shelf life
    shelf = products["shelf_weeks"].to_numpy(int)
    reach = np.zeros_like(demand, dtype=bool)
    for p in range(len(products)):
        positive = demand[p] > 0
        for k in range(shelf[p] + 1):
            if cyclic:
                reach[p] |= np.roll(positive, -k)
            else:
                reach[p, : num_weeks - k] |= positive[k:]
    useful_entry = reach[entries["p"].to_numpy(int), entries["t"].to_numpy(int)] & (kg > 0)
    useful = np.zeros(len(options), dtype=bool)
    useful[entries.loc[useful_entry, "o"].to_numpy(int)] = True
    useful |= np.nan_to_num(frozen.beds) > 0  # a signed planting stays, demand or not
    frozen = FrozenBeds(
        beds=frozen.beds[useful], contract=frozen.contract[useful], outside=frozen.outside
    )
    new_index = np.cumsum(useful) - 1
    options = options.loc[useful].reset_index(drop=True)
    entries = entries.loc[useful[entries["o"].to_numpy(int)]]
    harvest_o = new_index[entries["o"].to_numpy(int)]
    harvest_t = entries["t"].to_numpy(int)
    harvest_kg = entries["kg"].to_numpy(float)

    options["kg_per_bed"] = np.bincount(harvest_o, weights=harvest_kg, minlength=len(options))
    options["labour_h_per_bed_week"] = (
        options["labour_h_per_m2"] * options["bed_m2"] / options["dur"]
    )
    options["price_eur_per_kg"] = products["fair_price_eur_per_kg"].to_numpy()[options["p"]]
    options = options[
        [
            "f",
            "producer_id",
            "c",
            "crop_id",
            "p",
            "product_id",
            "family",
            "land_type",
            "plant_t",
            "dur",
            "bed_m2",
            "min_beds",
            "max_beds",
            "kg_per_bed",
            "labour_h_per_bed_week",
            "price_eur_per_kg",
        ]
    ]
    return PlanInputs(
        week_start=weeks,
        cyclic=cyclic,
        products=products,
        demand_kg=demand,
        farms=farms,
        options=options,
        harvest_o=harvest_o,
        harvest_t=harvest_t,
        harvest_kg_per_bed=harvest_kg,
        unplanned=unplanned.reset_index(drop=True),
        no_grower=no_grower,
        source=source,
        frozen=frozen,
        storage_kg=network_capacity(territory),
    )


def _shock_factors(entries: pd.DataFrame, products: pd.DataFrame, params: PlanParams) -> np.ndarray:
    """Multiplier of each harvest entry from the yield shocks (1 where none applies)."""
    factor = np.ones(len(entries))
    t = entries["t"].to_numpy(int)
    for shock in params.yield_shocks:
        first, last = shock.weeks
        in_weeks = (t >= first - 1) & (t <= last - 1)
        hit = in_weeks.copy()
        if shock.crop_id is not None:
            hit &= (entries["crop_id"] == shock.crop_id).to_numpy()
        if shock.product_id is not None:
            pids = products["product_id"].to_numpy()[entries["p"].to_numpy(int)]
            hit &= pids == shock.product_id
        factor[hit] *= shock.factor
    return factor
