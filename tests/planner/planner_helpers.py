"""Tiny in-memory territories for the planner tests, small enough to solve by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.territory import Territory

#: Season week 1 of the hand-made instances: Monday of ISO week 10 of 2026.
SEASON_START = pd.Timestamp("2026-03-02")
HUB_LAT, HUB_LON = 47.19, -1.58


def product(
    pid: str, *, price: float = 2.0, shelf_days: int = 3, category: str = "vegetable"
) -> dict:
    return {
        "product_id": pid,
        "name": pid.title(),
        "category": category,
        "unit": "kg",
        "kg_per_unit": 1.0,
        "storage_class": "fresh",
        "shelf_life_days": shelf_days,
        "fair_price_eur_per_kg": price,
        "retail_price_eur_per_unit": price * 1.4,
    }


def crop(
    cid: str,
    pid: str,
    *,
    family: str = "asteraceae",
    land_type: str = "open_field",
    bed_m2: float = 10.0,
    min_beds: int = 1,
    window: tuple[int, int] = (10, 10),
    labour_h_per_m2: float = 0.0,
) -> dict:
    return {
        "crop_id": cid,
        "name": cid.title(),
        "product_id": pid,
        "family": family,
        "land_type": land_type,
        "bed_m2": bed_m2,
        "min_beds": min_beds,
        "plant_week_first": window[0],
        "plant_week_last": window[1],
        "labour_h_per_m2": labour_h_per_m2,
    }


def farm(
    pid: str,
    *,
    open_field_m2: float = 1000.0,
    greenhouse_m2: float = 0.0,
    orchard_m2: float = 0.0,
    labour_h_per_week: float = 1000.0,
    min_revenue_eur: float = 0.0,
    km_east: float = 0.0,
) -> dict:
    return {
        "producer_id": pid,
        "site_id": f"site_{pid}",
        "name": f"Ferme {pid}",
        "open_field_m2": open_field_m2,
        "greenhouse_m2": greenhouse_m2,
        "orchard_m2": orchard_m2,
        "labour_h_per_week": labour_h_per_week,
        "min_revenue_eur": min_revenue_eur,
        "organic": True,
        "contact": "",
        "_km_east": km_east,
    }


def territory(
    *,
    products: list[dict],
    crops: list[dict],
    yields: dict[str, dict[int, float]],
    farms: list[dict],
    grows: list[tuple[str, str]],
) -> Territory:
    """A territory with a hub, the given farms (``km_east`` of the hub) and nothing else."""
    sites = [{"site_id": "HUB", "name": "Pôle", "kind": "hub", "lat": HUB_LAT, "lon": HUB_LON}]
    for f in farms:
        # one degree of longitude at 47.19° is about 75.6 km
        sites.append(
            {
                "site_id": f["site_id"],
                "name": f["name"],
                "kind": "farm",
                "lat": HUB_LAT,
                "lon": HUB_LON + f["_km_east"] / 75.6,
            }
        )
    producers = pd.DataFrame([{k: v for k, v in f.items() if k != "_km_east"} for f in farms])
    rows = [
        {"crop_id": c, "week_after_planting": k, "yield_kg_per_m2": y}
        for c, cal in yields.items()
        for k, y in cal.items()
    ]
    empty = pd.DataFrame()
    frames = {
        "sites": pd.DataFrame(sites),
        "products": pd.DataFrame(products),
        "crops": pd.DataFrame(crops),
        "crop_yields": pd.DataFrame(rows),
        "producers": producers,
        "producer_crops": pd.DataFrame(grows, columns=["producer_id", "crop_id"]),
    }
    # hand-made beds are small (10 m²): any line is signed for, any weekly kilo delivered
    frames["contract_terms"] = pd.DataFrame(
        [
            {
                "producer_id": "*",
                "vat_rate_pct": 5.5,
                "payment_days": 30,
                "volume_tolerance_pct": 10.0,
                "failure_share_pct": 50.0,
                "min_line_m2": 0.0,
                "min_weekly_kg": 0.0,
            }
        ]
    )
    for frame in frames.values():
        frame["row"] = np.arange(2, len(frame) + 2)
    return Territory(folder=Path("hand"), opening_hours=empty, vehicles=empty, **frames)


def demand(weekly: dict[str, dict[int, float]], *, weeks: int = 8) -> pd.DataFrame:
    """Hub demand: ``{product: {season week (1-based): kg}}`` over ``weeks`` weeks."""
    starts = pd.date_range(SEASON_START, periods=weeks, freq="7D")
    rows = []
    for pid, by_week in weekly.items():
        for w, start in enumerate(starts, start=1):
            kg = by_week.get(w, 0.0)
            rows.append(
                {
                    "week_start": start,
                    "product_id": pid,
                    "storage_class": "fresh",
                    "kg": kg,
                    "low": kg,
                    "high": kg,
                }
            )
    return pd.DataFrame(rows)


def salad(**farm_kw) -> Territory:
    """One farm at the hub, one crop: 10 m² beds planted in season week 1 (ISO 10) that give
    2 kg/m² two weeks later, i.e. 20 kg per bed in season week 3; sells at 2 €/kg, keeps 3 days.
    """
    return territory(
        products=[product("salade")],
        crops=[crop("salade_c", "salade", **farm_kw.pop("crop_kw", {}))],
        yields={"salade_c": {2: 2.0}},
        farms=[farm("A", **farm_kw)],
        grows=[("A", "salade_c")],
    )


def occupancy(
    plan: pd.DataFrame, crops: pd.DataFrame, yields: pd.DataFrame, num_weeks: int, *, cyclic: bool
) -> dict[tuple[str, str], np.ndarray]:
    """m² held per (farm, land type) and season week, recomputed from the plan table."""
    last = yields.groupby("crop_id")["week_after_planting"].max()
    held: dict[tuple[str, str], np.ndarray] = {}
    for r in plan.itertuples():
        dur = num_weeks if r.land_type == "orchard" else min(int(last[r.crop_id]) + 1, num_weeks)
        weeks = r.plant_week - 1 + np.arange(dur)
        weeks = weeks % num_weeks if cyclic else weeks[weeks < num_weeks]
        key = (r.producer_id, r.land_type)
        held.setdefault(key, np.zeros(num_weeks))
        held[key][weeks] += r.area_m2
    return held
