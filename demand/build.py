"""Weekly demand per point of sale and product, from grocery orders and caisse spending.

How caisse money becomes demand without double counting
-------------------------------------------------------
Caisse money is spent in approved shops whose shelves are stocked by their orders to the hub:
the food households buy with their allocation is already in those orders. So:

1. **Orders are the demand of record**: in a week where a shop ordered through the hub (any
   line), its demand is what it ordered (``orders_kg``), whatever the caisse spent there.
2. **Caisse spending fills the gaps**: in a week where an approved shop received caisse
   payments but ordered nothing through the hub (a shop that does not order through the hub,
   or not every week), the euros spent are turned into kilos through the shop's basket (value
   shares and prices learnt from its own orders, else from shops of its kind, else the
   catalogue) and become its demand.
3. ``caisse_kg`` is always reported (the basket conversion of that week's caisse spending), so
   the caisse's share of each shop's demand can be read: :attr:`DemandBuild.caisse_share`.

Payments flagged ``not_approved`` are left out of demand (the shop is outside the caisse);
payments over a household's allocation still are food bought, and count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputError
from core.territory import Territory, read_activity
from demand.caisse import (
    FLAG_COLUMNS,
    FLAG_NOT_APPROVED,
    flag_transactions,
    normalise_transactions,
    shop_baskets,
    spending_to_kg,
)
from demand.caisses import caisse_of_households, caisses_of, household_allocations
from demand.grid import approved_for_households
from demand.orders import (
    OrderCheckParams,
    normalise_orders,
    rejects_frame,
    week_start,
    with_kept,
)

log = logging.getLogger(__name__)

WEEKLY_COLUMNS = ("week_start", "site_id", "product_id", "kg", "orders_kg", "caisse_kg")
TX_KEY = ("timestamp", "household_id", "site_id", "amount", "currency")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemandBuild:
    """Weekly demand history and what was set aside on the way.

    Attributes
    ----------
    weekly
        ``week_start`` (Monday), ``site_id``, ``product_id``, ``kg`` (demand of record),
        ``orders_kg``, ``caisse_kg``; dense: every (site, product) seen has every week of the
        history, zero when nothing was ordered.
    rejects
        ``file, row, column, reason, kept`` and the raw fields of every rejected order or
        payment; ``kept`` lines (absurd quantities without a promotion, unless
        ``OrderCheckParams.drop_outliers``) are only flagged and stay in the demand.
    duplicates
        Exact repeated lines (``file, row, first_row`` and the line's fields), dropped.
    flags
        Caisse payments flagged ``not_approved``, ``over_allocation`` or ``not_enrolled``
        (``file, row, timestamp, household_id, site_id, amount_eur, flag, detail``).
    caisse_share
        Per approved shop: ``site_id, orders_kg, caisse_kg, caisse_weeks, caisse_share`` (the
        caisse's share of its demand over the weeks the caisse ran, capped at 1).
    """

    weekly: pd.DataFrame
    rejects: pd.DataFrame
    duplicates: pd.DataFrame
    flags: pd.DataFrame
    caisse_share: pd.DataFrame = field(default_factory=pd.DataFrame)


def _activity(
    source: pd.DataFrame | str | Path | None,
    table: str,
    territory: Territory,
) -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """Return (parsed rows, reader rejects, file name) for an activity table."""
    if source is None:
        frame = getattr(territory, table)
        earlier = territory.rejects.get(table)
        file = territory.file_of(table)
        rejects = rejects_frame(earlier, file) if earlier is not None else pd.DataFrame()
        return frame, rejects, file
    if isinstance(source, str | Path):
        path = Path(source)
        result = read_activity(path, table, territory)
        return result.valid, rejects_frame(result.rejects, path.name), path.name
    return source, pd.DataFrame(), f"{table}.csv"


def _duplicates(
    df: pd.DataFrame, key: tuple[str, ...], file: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = [c for c in key if c in df.columns]
    dup = df.duplicated(cols, keep="first")
    first_row = df.groupby(cols, dropna=False, sort=False)["row"].transform("first")
    found = df.loc[dup, ["row", *cols]].assign(first_row=first_row[dup])
    found.insert(0, "file", file)
    return df.loc[~dup], found.reset_index(drop=True)


def build_weekly_demand(
    territory: Territory,
    *,
    orders: pd.DataFrame | str | Path | None = None,
    transactions: pd.DataFrame | str | Path | None = None,
    params: OrderCheckParams | None = None,
) -> DemandBuild:
    """Build the weekly demand of every point of sale and product.

    Parameters
    ----------
    territory
        A loaded territory (its catalogue, sites, households and caisse rule are used).
    orders
        Orders to use instead of ``territory.orders``: parsed rows, or a CSV/Excel file read
        leniently (bad rows go to ``rejects``).
    transactions
        Caisse payments to use instead of ``territory.caisse_transactions`` (same forms).
    params
        Thresholds of the order checks.

    Returns
    -------
    DemandBuild
        See the module docstring for how orders and caisse spending are combined.
    """
    raw_orders, order_rejects, order_file = _activity(orders, "orders", territory)
    if raw_orders is None or raw_orders.empty:
        raise InputError.of_file(order_file, _nothing_left(order_rejects))
    history = None
    if orders is not None and territory.orders is not None and len(territory.orders):
        # a new export is checked against the territory's order history too: a site's usual
        # quantities are known even if the file holds one week
        history = normalise_orders(territory.orders, territory.products, params=params).valid
    norm = normalise_orders(
        raw_orders, territory.products, file=order_file, history=history, params=params
    )
    rejects = [order_rejects, norm.rejects]
    duplicates = [norm.duplicates]
    o = norm.valid
    if o.empty:
        raise InputError.of_file(order_file, _nothing_left(order_rejects, norm.rejects))
    orders_kg = o.groupby(["week_start", "site_id", "product_id"], as_index=False)["kg"].sum()
    orders_kg = orders_kg.rename(columns={"kg": "orders_kg"})

    flags = pd.DataFrame(columns=list(FLAG_COLUMNS))
    caisse_kg = pd.DataFrame(columns=["week_start", "site_id", "product_id", "caisse_kg"])
    raw_tx, tx_rejects, tx_file = _activity(transactions, "caisse_transactions", territory)
    households = territory.households
    has_caisse = raw_tx is not None and not raw_tx.empty and households is not None
    if has_caisse and households is not None:
        # without a rule file, payments still become demand; only the allocation check is lost
        caisses = caisses_of(territory.caisses, territory.caisse_rule)
        rule = next(iter(caisses.values())).rule if len(caisses) == 1 else None
        allocations = household_allocations(households, caisses) if len(caisses) > 1 else None
        raw_tx, tx_dups = _duplicates(raw_tx, TX_KEY, tx_file)
        duplicates.append(tx_dups)
        tx, currency_rejects = normalise_transactions(
            raw_tx, rule=rule, file=tx_file, currencies=tuple(c.currency for c in caisses.values())
        )
        rejects += [tx_rejects, currency_rejects]
        # the conventionnement grid of the household's own caisse says which payments count
        thresholds = {c.caisse_id: c.approval_threshold_pct for c in caisses.values()}
        own_caisse = pd.Series(
            caisse_of_households(households, caisses).to_numpy() if caisses else None,
            index=households["household_id"].to_numpy(),
            dtype=object,
        )
        approved = approved_for_households(
            tx,
            own_caisse,
            territory.sites,
            territory.caisse_criteria,
            territory.shop_assessments,
            thresholds,
        )
        flags = flag_transactions(
            tx,
            households,
            territory.sites,
            rule,
            file=tx_file,
            allocations=allocations,
            approved=approved,
        )
        off = flags.loc[flags["flag"] == FLAG_NOT_APPROVED, "row"]
        spend = tx.loc[~tx["row"].isin(off)].assign(week_start=lambda d: week_start(d["timestamp"]))
        spend = spend.groupby(["week_start", "site_id"], as_index=False)["amount_eur"].sum()
        baskets = shop_baskets(o, territory.products, territory.sites, spend["site_id"].unique())
        caisse_kg = spending_to_kg(spend, baskets).rename(columns={"kg": "caisse_kg"})
    elif raw_tx is not None and not raw_tx.empty:
        log.warning("caisse payments ignored: the territory has no households.csv")

    weekly = _dense_weekly(orders_kg, caisse_kg)
    ordered = orders_kg[["week_start", "site_id"]].drop_duplicates().assign(_ordered=True)
    weekly = weekly.merge(ordered, on=["week_start", "site_id"], how="left")
    has_orders = weekly.pop("_ordered").notna().to_numpy()
    weekly["kg"] = np.where(has_orders, weekly["orders_kg"], weekly["caisse_kg"])
    weekly = (
        weekly[list(WEEKLY_COLUMNS)]
        .sort_values(["site_id", "product_id", "week_start"])
        .reset_index(drop=True)
    )

    share = (
        _caisse_share(weekly, territory)
        if has_caisse
        else pd.DataFrame(
            columns=["site_id", "orders_kg", "caisse_kg", "caisse_weeks", "caisse_share"]
        )
    )
    all_rejects = [r for r in rejects if len(r)]
    rejects_df = with_kept(
        pd.concat(all_rejects, ignore_index=True)
        if all_rejects
        else pd.DataFrame(columns=["file", "row", "column", "reason"])
    )
    dups = [d for d in duplicates if len(d)]
    dup_df = (
        pd.concat(dups, ignore_index=True)
        if dups
        else pd.DataFrame(columns=["file", "row", "first_row"])
    )
    log.info(
        "weekly demand: %d series × %d weeks; %d rejects, %d duplicates, %d flags",
        weekly.groupby(["site_id", "product_id"]).ngroups,
        weekly["week_start"].nunique(),
        len(rejects_df),
        len(dup_df),
        len(flags),
    )
    return DemandBuild(
        weekly=weekly, rejects=rejects_df, duplicates=dup_df, flags=flags, caisse_share=share
    )


def _nothing_left(*rejects: pd.DataFrame) -> str:
    """Why no order line is left: the count of rejected lines and their commonest reason."""
    found = (
        pd.concat([r for r in rejects if len(r)], ignore_index=True)
        if any(len(r) for r in rejects)
        else pd.DataFrame(columns=["column", "reason"])
    )
    if found.empty:
        return "no order lines; weekly demand needs orders"
    counts = found.groupby(["column", "reason"], sort=False).size().sort_values(ascending=False)
    (column, reason), n = next(iter(counts.items()))
    return (
        f"no order line left after cleaning: {len(found)} line(s) rejected, most often "
        f"column {column!r}: {reason} ({n} lines)"
    )


def _dense_weekly(orders_kg: pd.DataFrame, caisse_kg: pd.DataFrame) -> pd.DataFrame:
    """Every (site, product) seen, every week of the history; missing cells are zero."""
    keys = ["week_start", "site_id", "product_id"]
    # an empty caisse table would change the concat's dtypes (pandas FutureWarning)
    both = (
        pd.concat([orders_kg[keys], caisse_kg[keys]], ignore_index=True)
        if len(caisse_kg)
        else orders_kg[keys]
    )
    # the history is the span of the orders: caisse payments past it (a few days of a week
    # whose orders are not in yet) would pass for a whole week of demand
    weeks = pd.date_range(orders_kg["week_start"].min(), orders_kg["week_start"].max(), freq="7D")
    both = both.loc[both["week_start"].between(weeks[0], weeks[-1])]
    pairs = both[["site_id", "product_id"]].drop_duplicates()
    grid = pd.DataFrame(
        {
            "site_id": np.repeat(pairs["site_id"].to_numpy(), len(weeks)),
            "product_id": np.repeat(pairs["product_id"].to_numpy(), len(weeks)),
            "week_start": np.tile(weeks.to_numpy(), len(pairs)),
        }
    )
    caisse_kg = caisse_kg.loc[caisse_kg["week_start"].between(weeks[0], weeks[-1])]
    grid = grid.merge(orders_kg, on=keys, how="left").merge(
        caisse_kg.astype({"caisse_kg": float}), on=keys, how="left"
    )
    grid[["orders_kg", "caisse_kg"]] = grid[["orders_kg", "caisse_kg"]].fillna(0.0)
    return grid


def _caisse_share(weekly: pd.DataFrame, territory: Territory) -> pd.DataFrame:
    site_week = weekly.groupby(["site_id", "week_start"], as_index=False)[
        ["kg", "orders_kg", "caisse_kg"]
    ].sum()
    ran = site_week.loc[site_week["caisse_kg"] > 0]
    share = ran.groupby("site_id", as_index=False).agg(
        orders_kg=("orders_kg", "sum"),
        caisse_kg=("caisse_kg", "sum"),
        kg=("kg", "sum"),
        caisse_weeks=("week_start", "size"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        share["caisse_share"] = np.clip(
            np.where(share["kg"] > 0, share["caisse_kg"] / share["kg"], 1.0), 0, 1
        )
    return share.drop(columns="kg").sort_values("site_id").reset_index(drop=True)
