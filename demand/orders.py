"""Grocery orders in: unit normalisation to kg, business checks, duplicates.

Row-level checks (unknown site or product, unknown unit, negative quantity, unparseable date)
are done by the territory reader (``core.territory.read_activity``); this module adds what needs
the catalogue or the history: unit conversion through ``products.kg_per_unit``, absurd
quantities compared with the site's own history (flagged and kept unless asked, never for a line
sold on promotion), dates outside any plausible range, and exact duplicate lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from core.tables import DATE_MAX, DATE_MIN
from core.units import order_kg

log = logging.getLogger(__name__)

#: Columns of every rejects table (raw fields follow).
REJECT_COLUMNS = ("file", "row", "column", "reason")
#: Columns of the parsed orders compared to find exact duplicate lines.
ORDER_KEY = ("date", "site_id", "product_id", "quantity", "unit", "unit_price_eur")
#: Earliest and latest plausible order dates: the readers' range, so ``vivres check`` and the
#: demand stage agree (the check here catches frames passed without the reader).
MIN_DATE = DATE_MIN
MAX_DATE = DATE_MAX


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCheckParams:
    """Thresholds of the business checks on order lines.

    Attributes
    ----------
    absurd_factor
        A line is absurd when its kilos exceed this many times the median of the site's lines
        for the product (or, with too little site history, the product's median over all sites).
    absurd_min_kg
        Lines below this many kilos are never called absurd (a 2 kg line against a 0.03 kg
        median is odd but harmless).
    min_history
        Lines of history a site needs for a product before its own median is trusted.
    promo_price_ratio
        A line whose price per kilo is below this fraction of the product's usual (median)
        price is a promotion: never called absurd. An explicit ``promo`` column (true/oui/1)
        marks promotions too.
    drop_outliers
        Drop absurd lines (without a promotion) instead of keeping them; either way they are
        listed in the rejects (``kept`` says which).
    """

    absurd_factor: float = 50.0
    absurd_min_kg: float = 20.0
    min_history: int = 3
    promo_price_ratio: float = 0.8
    drop_outliers: bool = False

    def __post_init__(self) -> None:
        if not self.absurd_factor > 1:
            raise InputError(f"absurd_factor must be > 1; got {self.absurd_factor!r}")
        if not self.absurd_min_kg >= 0:
            raise InputError(f"absurd_min_kg must be >= 0; got {self.absurd_min_kg!r}")
        if not self.min_history >= 1:
            raise InputError(f"min_history must be >= 1; got {self.min_history!r}")
        if not 0 < self.promo_price_ratio <= 1:
            raise InputError(f"promo_price_ratio must be in (0, 1]; got {self.promo_price_ratio!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalisedOrders:
    """Order lines with their kilos, and the lines set aside.

    Attributes
    ----------
    valid
        Parsed order columns plus ``kg``, ``promo`` (sold on promotion) and ``week_start``
        (Monday).
    rejects
        ``file, row, column, reason`` and the raw fields of each rejected line.
    duplicates
        ``file, row, first_row`` and the order columns of every repeated exact line (the first
        copy is kept in ``valid``; the repeats are dropped).
    """

    valid: pd.DataFrame
    rejects: pd.DataFrame
    duplicates: pd.DataFrame


def week_start(dates: pd.Series) -> pd.Series:
    """Return the Monday (midnight) of each date's week."""
    dates = pd.to_datetime(dates).dt.normalize()
    return dates - pd.to_timedelta(dates.dt.weekday, unit="D")


def rejects_frame(rejects: pd.DataFrame, file: str) -> pd.DataFrame:
    """Put a reader's rejects in the common layout: file, row, column, reason, raw fields."""
    out = rejects.copy()
    out.insert(0, "file", file)
    first = ["file", "row", "column", "reason"]
    for name in first:
        if name not in out.columns:
            out[name] = pd.Series(dtype=object)
    return out[first + [c for c in out.columns if c not in first]]


def _reject(
    df: pd.DataFrame, mask: pd.Series, file: str, column: str, reasons: pd.Series | str
) -> pd.DataFrame:
    bad = df.loc[mask]
    out = pd.DataFrame(
        {
            "file": file,
            "row": bad["row"].to_numpy(),
            "column": column,
            "reason": (reasons[mask] if isinstance(reasons, pd.Series) else reasons),
        }
    )
    out.index = bad.index
    for name in ORDER_KEY:
        if name in bad.columns:
            out[name] = bad[name].astype(str).where(bad[name].notna(), "")
    return out.reset_index(drop=True)


def normalise_orders(
    orders: pd.DataFrame,
    products: pd.DataFrame,
    *,
    file: str = "orders.csv",
    history: pd.DataFrame | None = None,
    params: OrderCheckParams | None = None,
) -> NormalisedOrders:
    """Convert parsed order lines to kilos and set aside the lines that cannot be demand.

    Parameters
    ----------
    orders
        Parsed orders (columns of ``core.schema.ORDERS`` plus ``row``), as read by
        ``core.territory.read_activity`` or found in ``Territory.orders``.
    products
        The catalogue (``product_id``, ``unit``, ``kg_per_unit``).
    file
        File name used in rejects.
    history
        Earlier normalised orders (with ``kg``) the absurd-quantity check also compares with.
    params
        Check thresholds.

    Returns
    -------
    NormalisedOrders
        Valid lines with ``kg`` and ``week_start``; rejects with one reason each; duplicates.
    """
    params = params or OrderCheckParams()
    df = orders.reset_index(drop=True).copy()
    rejected: list[pd.DataFrame] = []
    catalogue = products.set_index("product_id")

    # exact duplicates first: a re-exported line is not a second order
    key = [c for c in ORDER_KEY if c in df.columns]
    dup = df.duplicated(key, keep="first")
    first_row = df.groupby(key, dropna=False, sort=False)["row"].transform("first")
    duplicates = df.loc[dup, ["row", *key]].assign(first_row=first_row[dup])
    duplicates.insert(0, "file", file)
    duplicates = duplicates.reset_index(drop=True)
    df = df.loc[~dup]

    bad_date = (df["date"] < MIN_DATE) | (df["date"] >= MAX_DATE)
    if bad_date.any():
        rejected.append(
            _reject(df, bad_date, file, "date", f"date outside {MIN_DATE.year}-{MAX_DATE.year - 1}")
        )
        df = df.loc[~bad_date]
    stray = _stray_dates(df["date"])
    if stray.any():
        median = df["date"].median().date()
        rejected.append(
            _reject(
                df,
                stray,
                file,
                "date",
                f"date far from the file's other dates (median {median}); a typo in the year?",
            )
        )
        df = df.loc[~stray]

    unit = df["unit"].astype(str).str.lower()
    cat_unit = df["product_id"].map(catalogue["unit"])
    unknown_product = cat_unit.isna()
    if unknown_product.any():
        rejected.append(
            _reject(df, unknown_product, file, "product_id", "unknown product_id (not in products)")
        )
    convertible = (unit == "kg") | (unit == cat_unit)
    no_conversion = ~convertible & ~unknown_product
    if no_conversion.any():
        reasons = (
            "unit "
            + unit
            + " cannot be converted to kg for "
            + df["product_id"]
            + " (catalogue unit "
            + cat_unit.astype(str)
            + "; use kg or "
            + cat_unit.astype(str)
            + ")"
        )
        rejected.append(_reject(df, no_conversion, file, "unit", reasons))
    keep = convertible & ~unknown_product
    df = df.loc[keep].copy()
    df["kg"] = order_kg(df.assign(unit=unit[keep]), catalogue)

    df["promo"] = _promotions(df, history, params)
    absurd, reference = _absurd(df, history, params)
    # a promotion explains a huge line (half price, chain-wide): it is demand, not a typo
    outlier = absurd & ~df["promo"]
    if outlier.any():
        action = (
            "dropped (--drop-outliers)"
            if params.drop_outliers
            else "kept (--drop-outliers drops it)"
        )
        reasons = (
            "absurd quantity: "
            + df["kg"].round(1).astype(str)
            + " kg is more than "
            + f"{params.absurd_factor:g}× the usual "
            + reference.round(2).astype(str)
            + f" kg of this site for this product, at no promotional price; {action}"
        )
        flagged = _reject(df, outlier, file, "quantity", reasons)
        rejected.append(flagged.assign(kept=not params.drop_outliers))
        if params.drop_outliers:
            df = df.loc[~outlier]

    df["week_start"] = week_start(df["date"])
    rejects = (
        pd.concat(rejected, ignore_index=True)
        if rejected
        else pd.DataFrame(columns=[*REJECT_COLUMNS, *key])
    )
    rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
    rejects = with_kept(rejects)
    if len(rejects) or len(duplicates):
        log.info(
            "%s: %d lines kept, %d rejected, %d duplicates",
            file,
            len(df),
            len(rejects),
            len(duplicates),
        )
    return NormalisedOrders(valid=df.reset_index(drop=True), rejects=rejects, duplicates=duplicates)


def with_kept(rejects: pd.DataFrame) -> pd.DataFrame:
    """Add (or complete) the ``kept`` column after ``reason``: True for lines only flagged."""
    kept = (
        rejects["kept"].eq(True)
        if "kept" in rejects.columns
        else pd.Series(False, index=rejects.index, dtype=bool)
    )
    out = rejects.drop(columns="kept", errors="ignore")
    at = list(out.columns).index("reason") + 1 if "reason" in out.columns else len(out.columns)
    out.insert(at, "kept", kept)
    return out


_TRUE = {"1", "true", "yes", "y", "oui", "o", "vrai", "x", "promo"}


def _promotions(
    df: pd.DataFrame, history: pd.DataFrame | None, params: OrderCheckParams
) -> pd.Series:
    """Lines sold on promotion: an explicit ``promo`` column, or a price per kilo well below
    the product's usual one (its median over the file and the history)."""
    promo = pd.Series(False, index=df.index)
    if "promo" in df.columns:
        promo |= df["promo"].astype(str).str.strip().str.lower().isin(_TRUE)
    if "unit_price_eur" not in df.columns:
        return promo

    def per_kg(frame: pd.DataFrame) -> pd.Series:
        price = pd.to_numeric(frame["unit_price_eur"], errors="coerce")
        with np.errstate(divide="ignore", invalid="ignore"):
            return (price * frame["quantity"] / frame["kg"]).where(frame["kg"] > 0)

    own = per_kg(df)
    pool = pd.DataFrame({"product_id": df["product_id"], "eur_kg": own})
    if history is not None and len(history) and "unit_price_eur" in history.columns:
        pool = pd.concat(
            [pool, pd.DataFrame({"product_id": history["product_id"], "eur_kg": per_kg(history)})],
            ignore_index=True,
        )
    usual = pool.dropna().groupby("product_id")["eur_kg"].median()
    reference = df["product_id"].map(usual)
    cheap = own.notna() & reference.notna() & (own < params.promo_price_ratio * reference)
    return promo | cheap


def _stray_dates(dates: pd.Series) -> pd.Series:
    """Dates far outside the bulk of the file's dates (a mistyped year, e.g. 2052).

    Far means more than twice the interquartile range plus 180 days from the median: a file of
    two years of orders keeps all its dates; a stray year stands out.
    """
    if len(dates) < 3:
        return pd.Series(False, index=dates.index)
    days = (dates - dates.min()).dt.days.astype(float)
    q1, median, q3 = np.quantile(days, [0.25, 0.5, 0.75])
    return (days - median).abs() > 2 * (q3 - q1) + 180


def _absurd(
    df: pd.DataFrame, history: pd.DataFrame | None, params: OrderCheckParams
) -> tuple[pd.Series, pd.Series]:
    """Mask of lines whose kilos are absurd against the usual line, and that usual line."""
    pool = df[["site_id", "product_id", "kg"]]
    if history is not None and len(history):
        pool = pd.concat([pool, history[["site_id", "product_id", "kg"]]], ignore_index=True)
    pool = pool.loc[pool["kg"] > 0]
    # medians are robust to the absurd lines themselves as long as they are rare
    site = pool.groupby(["site_id", "product_id"])["kg"].agg(["median", "size"])
    product = pool.groupby("product_id")["kg"].median()
    idx = pd.MultiIndex.from_frame(df[["site_id", "product_id"]])
    site_median = site["median"].reindex(idx).to_numpy()
    site_size = site["size"].reindex(idx).fillna(0).to_numpy()
    product_median = df["product_id"].map(product).to_numpy(dtype=float)
    reference = np.where(site_size >= params.min_history, site_median, product_median)
    reference = pd.Series(reference, index=df.index)
    absurd = (
        (df["kg"] > params.absurd_factor * reference)
        & (df["kg"] >= params.absurd_min_kg)
        & reference.notna()
    )
    return absurd, reference
