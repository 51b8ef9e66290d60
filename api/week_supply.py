"""The delivery week's supply: where each ordered product comes from, and what to collect
from each farm (signed contracts first). Part of the week stage (:mod:`api.week`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.territory import Territory

#: the hub's stock of a product keeping fewer days is not counted on (shelf life)
MIN_STOCK_SHELF_DAYS = 7


def week_supply(
    territory: Territory,
    week_start: pd.Timestamp,
    orders: pd.DataFrame,
    harvest: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Where each ordered product comes from: ``site_id, product_id, storage_class, kg,
    source, set_aside_kg`` (availability | plan | orders | hub; ``hub`` rows are not limited,
    kg NaN; the hub's stock of a product keeping less than a week is set aside)."""
    products = territory.products.set_index("product_id")
    hub_id = str(territory.hub["site_id"])
    grown = set(territory.crops["product_id"])
    rows: list[pd.DataFrame] = []
    done: set[str] = set()
    for source, frame in (
        ("availability", territory.availability),
        ("plan", harvest),
    ):
        if frame is None or frame.empty:
            continue
        part = frame.loc[pd.to_datetime(frame["week_start"]) == week_start]
        part = part.loc[~part["product_id"].isin(done)]
        if part.empty:
            continue
        part = part.groupby(["site_id", "product_id"], as_index=False)["kg"].sum()
        rows.append(part.assign(source=source))
        done |= set(part["product_id"])
    ordered = orders.groupby("product_id")["ordered_kg"].sum()
    rest = [p for p in ordered.index if p not in done]
    from_land = [p for p in rest if p in grown]
    if from_land:
        need = orders.loc[orders["product_id"].isin(from_land)].rename(columns={"ordered_kg": "kg"})
        land = _land_split(territory, need)
        rows.append(land.assign(source="orders"))
        rest = [p for p in rest if p not in set(land["product_id"])]
    if rest:
        rows.append(
            pd.DataFrame({"site_id": hub_id, "product_id": rest, "kg": np.nan, "source": "hub"})
        )
    supply = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    supply["storage_class"] = supply["product_id"].map(products["storage_class"])
    supply["committed_kg"] = _committed_kg(supply, harvest, week_start)
    # shelf life: the hub's stock of a product that does not keep a week is set aside (its
    # age is unknown: it may not last until the week's last delivery)
    perishable = supply["product_id"].map(products["shelf_life_days"]) < MIN_STOCK_SHELF_DAYS
    aside = (supply["site_id"] == hub_id) & (supply["source"] != "hub") & perishable
    supply["set_aside_kg"] = supply["kg"].where(aside, 0.0).fillna(0.0)
    supply.loc[aside, "kg"] = 0.0
    supply = supply.sort_values(["product_id", "site_id"], kind="mergesort")
    cols = ["site_id", "product_id", "storage_class", "kg", "source", "set_aside_kg"]
    return supply[[*cols, "committed_kg"]].reset_index(drop=True)


def _committed_kg(
    supply: pd.DataFrame, harvest: pd.DataFrame | None, week_start: pd.Timestamp
) -> pd.Series:
    """Kilos of each supply row a frozen (signed) contract commits the hub to buy this week:
    the plan harvest's ``committed_kg``, at most what the farm confirmed."""
    if harvest is None or "committed_kg" not in harvest.columns:
        return pd.Series(0.0, index=supply.index)
    week = harvest.loc[pd.to_datetime(harvest["week_start"]) == week_start]
    signed = week.groupby(["site_id", "product_id"])["committed_kg"].sum()
    keys = pd.MultiIndex.from_arrays([supply["site_id"], supply["product_id"]])
    committed = pd.Series(signed.reindex(keys).fillna(0.0).to_numpy(), index=supply.index)
    return committed.clip(upper=supply["kg"].fillna(0.0))


def _land_split(territory: Territory, need: pd.DataFrame) -> pd.DataFrame:
    from api.pipeline import _pickups_from_land

    split = _pickups_from_land(territory, need)
    return split.groupby(["site_id", "product_id"], as_index=False)["kg"].sum()


def available_kg(supply: pd.DataFrame) -> dict[str, float]:
    """Kilos available per limited product (every source but ``hub``)."""
    limited = supply.loc[supply["source"] != "hub"]
    return {str(p): float(kg) for p, kg in limited.groupby("product_id")["kg"].sum().items()}


def farm_pickups(
    supply: pd.DataFrame,
    allocated: pd.Series,
    hub_id: str,
    kept_share: dict[str, float] | None = None,
) -> pd.DataFrame:
    """What to collect from each farm: the hub's stock serves first; then the kilos of signed
    contracts (``committed_kg``): at least ``kept_share`` of them (1 − the farm's volume
    tolerance) are bought even when the shops need less — the rest goes to the hub's stock,
    ``to_stock_kg`` —, the others before any unsigned kilo; then each farm gives the same share
    of its unsigned kilos. Returns ``site_id, product_id, storage_class, kg, surplus_kg,
    committed_kg, to_stock_kg`` (``surplus_kg``: confirmed but not needed, left at the farm)."""
    kept_share = kept_share or {}
    out = []
    for p, rows in supply.loc[supply["source"] != "hub"].groupby("product_id", sort=True):
        need = float(allocated.get(p, 0.0))
        stock = rows.loc[rows["site_id"] == hub_id]
        need -= min(need, float(stock["kg"].sum()))
        farms = rows.loc[rows["site_id"] != hub_id]
        kg = farms["kg"].to_numpy(float)
        signed = farms.get("committed_kg", pd.Series(0.0, index=farms.index)).to_numpy(float)
        floor = signed * farms["site_id"].map(kept_share).fillna(1.0).to_numpy(float)
        take = floor.copy()
        for room in (signed - floor, kg - signed):  # signed kilos first, then the others
            rest = max(0.0, need - float(take.sum()))
            total = float(room.sum())
            take += room * (min(1.0, rest / total) if total > 0 else 0.0)
        beyond = max(0.0, float(take.sum()) - need)
        signed_floor = float(floor.sum())
        to_stock = floor * (beyond / signed_floor) if signed_floor > 0 else np.zeros(len(kg))
        out.append(
            farms.assign(kg=take, surplus_kg=kg - take, committed_kg=signed, to_stock_kg=to_stock)
        )
    cols = ["site_id", "product_id", "storage_class", "kg", "surplus_kg"]
    cols += ["committed_kg", "to_stock_kg"]
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.concat(out, ignore_index=True)[cols]


def kept_shares(territory: Territory) -> dict[str, float]:
    """Per farm site: the share of its signed kilos the hub buys at least (1 − its contract's
    volume tolerance, ``contract_terms.csv``; applied week by week)."""
    from planner.contracts import farm_terms

    producers = territory.producers
    terms = farm_terms(list(producers["producer_id"]), territory.contract_terms)
    tolerance = terms["volume_tolerance_pct"].astype(float).to_numpy()
    return dict(zip(producers["site_id"].astype(str), 1.0 - tolerance / 100.0, strict=True))
