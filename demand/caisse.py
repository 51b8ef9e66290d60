"""The caisse commune: allocation rules, payment checks and basket conversion (the ledger:
:mod:`demand.ledger`).

The allocation rule is data: a ``caisse_rule`` row (first person + each further person), or a
short text given on the command line: ``"100+50"`` (100 € for the first person, 50 € for each
further one: Nantes), ``"150/person"`` (150 € for every member, children included: the national
SSA proposal).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError, RowError
from core.units import kg_per_order_unit

log = logging.getLogger(__name__)

FLAG_NOT_APPROVED = "not_approved"
FLAG_OVER_ALLOCATION = "over_allocation"
FLAG_NOT_ENROLLED = "not_enrolled"
#: Columns of the flagged-payments table (:func:`flag_transactions`).
FLAG_COLUMNS = (
    "file",
    "row",
    "timestamp",
    "household_id",
    "site_id",
    "amount_eur",
    "flag",
    "detail",
)

_PLUS = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*\+\s*(\d+(?:[.,]\d+)?)\s*$")
_PER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*/\s*(person|personne|pers|p)\s*$", re.I)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaisseRule:
    """A monthly allocation rule: ``first_person_eur + (size - 1) * additional_person_eur``."""

    name: str
    first_person_eur: float
    additional_person_eur: float
    local_currency: str = ""

    def __post_init__(self) -> None:
        if self.first_person_eur < 0 or self.additional_person_eur < 0:
            raise InputError(
                f"caisse rule {self.name!r}: amounts must be >= 0; got "
                f"{self.first_person_eur} + {self.additional_person_eur}"
            )

    def allocation_eur(self, size: pd.Series | np.ndarray | int) -> np.ndarray:
        """Monthly allocation of households of ``size`` members."""
        size = np.asarray(size, dtype=float)
        return self.first_person_eur + np.maximum(size - 1, 0) * self.additional_person_eur


def parse_rule(rule: CaisseRule | pd.DataFrame | pd.Series | str | None) -> CaisseRule:
    """Return the rule given as a ``caisse_rule`` table (first row), a row, or a short text.

    Texts: ``"100+50"`` (first person + each further person) or ``"150/person"``.
    """
    if isinstance(rule, CaisseRule):
        return rule
    if rule is None:
        raise InputError(
            "no caisse allocation rule: add caisse_rule.csv or give --rule "
            "(e.g. '100+50' or '150/person')"
        )
    if isinstance(rule, pd.DataFrame):
        if rule.empty:
            raise InputError([_rule_error("caisse_rule.csv has no row")])
        rule = rule.iloc[0]
    if isinstance(rule, pd.Series):
        currency = rule.get("local_currency", "")
        return CaisseRule(
            name=str(rule["name"]),
            first_person_eur=float(rule["first_person_eur"]),
            additional_person_eur=float(rule["additional_person_eur"]),
            local_currency="" if pd.isna(currency) else str(currency),
        )
    text = str(rule)
    if m := _PLUS.match(text):
        first, extra = (float(g.replace(",", ".")) for g in m.groups())
        return CaisseRule(name=text.strip(), first_person_eur=first, additional_person_eur=extra)
    if m := _PER.match(text):
        each = float(m.group(1).replace(",", "."))
        return CaisseRule(name=text.strip(), first_person_eur=each, additional_person_eur=each)
    raise InputError(
        f"--rule: expected 'FIRST+FURTHER' (e.g. '100+50') or 'AMOUNT/person' "
        f"(e.g. '150/person'); got {text!r}"
    )


def _rule_error(message: str) -> RowError:
    return RowError(file="caisse_rule.csv", row=None, column=None, message=message)


def month_of(timestamps: pd.Series) -> pd.Series:
    """Return the first day of each timestamp's month."""
    return pd.to_datetime(timestamps).dt.to_period("M").dt.to_timestamp()


def enrolment_month(joined: pd.Series, *, cutoff_day: int = 10) -> pd.Series:
    """First month a household receives its allocation.

    A household joining on or before ``cutoff_day`` gets that month's allocation; later in the
    month, its allocation starts the next month. Unknown join dates count as always enrolled.
    """
    joined = pd.to_datetime(joined)
    month = joined.dt.to_period("M").dt.to_timestamp()
    late = joined.dt.day > cutoff_day
    return month.where(~late, month + pd.offsets.MonthBegin(1))


def normalise_transactions(
    transactions: pd.DataFrame,
    *,
    rule: CaisseRule | None,
    file: str = "caisse_transactions.csv",
    currencies: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert amounts to euros (local currency 1:1: the rule's and ``currencies``, the
    territory's caisses') and reject unknown currencies.

    Returns
    -------
    (valid, rejects)
        Valid payments with ``amount_eur`` and ``month``; rejects as ``file, row, column,
        reason`` plus the raw fields.
    """
    df = transactions.reset_index(drop=True).copy()
    currency = df["currency"].fillna("EUR").astype(str).str.strip().str.upper()
    accepted = {"EUR", "€", ""}
    if rule is not None and rule.local_currency:
        accepted.add(rule.local_currency.strip().upper())
    accepted |= {c.strip().upper() for c in currencies if c.strip()}
    bad = ~currency.isin(accepted)
    rejects = pd.DataFrame(
        {
            "file": file,
            "row": df.loc[bad, "row"].to_numpy(),
            "column": "currency",
            "reason": "unknown currency (accepted: "
            + ", ".join(sorted(accepted - {"", "€"}))
            + ")",
        }
    )
    for name in ("timestamp", "household_id", "site_id", "amount", "currency"):
        rejects[name] = df.loc[bad, name].astype(str).to_numpy()
    valid = df.loc[~bad].copy()
    valid["amount_eur"] = valid["amount"].astype(float)
    valid["month"] = month_of(valid["timestamp"])
    return valid.reset_index(drop=True), rejects


def flag_transactions(
    transactions: pd.DataFrame,
    households: pd.DataFrame,
    sites: pd.DataFrame,
    rule: CaisseRule | None,
    *,
    file: str = "caisse_transactions.csv",
    cutoff_day: int = 10,
    allocations: pd.Series | None = None,
    approved: pd.Series | None = None,
) -> pd.DataFrame:
    """Flag payments at non-approved shops, beyond the allocation, or before enrolment.

    A payment is ``over_allocation`` when the household's spending in the month, payments taken
    in time order, passes its allocation: the payment that crosses the line and every later one
    of that month are flagged.

    Parameters
    ----------
    transactions
        Normalised payments (``amount_eur``, ``month``, ``row``).
    households, sites
        Territory tables (``size``, ``joined``; ``conventionne``).
    rule
        The allocation rule; without one, allocations are not checked.
    allocations
        Monthly allocation per household id, instead of one rule (households of several
        caisses).
    approved
        Per payment (index of ``transactions``): is the shop approved by the household's own
        caisse (:func:`demand.grid.approved_for_households`); default: ``sites.conventionne``.

    Returns
    -------
    pandas.DataFrame
        ``file, row, timestamp, household_id, site_id, amount_eur, flag, detail``; a payment may
        carry several flags (one line each).
    """
    columns = list(FLAG_COLUMNS)
    if transactions.empty:
        return pd.DataFrame(columns=columns)
    tx = transactions.sort_values(["timestamp", "row"], kind="stable")
    if approved is None:
        conventionne = sites.set_index("site_id")["conventionne"].astype(bool)
        approved = tx["site_id"].map(conventionne).fillna(False).astype(bool)
    out: list[pd.DataFrame] = []

    not_approved = ~approved.reindex(tx.index).fillna(False).astype(bool)
    if not_approved.any():
        out.append(
            tx.loc[not_approved].assign(
                flag=FLAG_NOT_APPROVED,
                detail=tx.loc[not_approved, "site_id"] + " is not approved (conventionné) by the "
                "household's caisse",
            )
        )

    hh = households.set_index("household_id")
    if allocations is None and rule is not None:
        allocations = pd.Series(rule.allocation_eur(hh["size"]), index=hh.index)
    if allocations is not None:
        allocation = allocations
        cum = tx.groupby(["household_id", "month"], sort=False)["amount_eur"].cumsum()
        alloc = tx["household_id"].map(allocation)
        over = (cum > alloc + 1e-9) & alloc.notna()
    else:
        over = pd.Series(False, index=tx.index)
    if over.any():
        total = tx.groupby(["household_id", "month"])["amount_eur"].transform("sum")
        rows = tx.loc[over]
        detail = (
            "household spent "
            + total[over].map("{:.2f}".format)
            + " € in "
            + rows["month"].dt.strftime("%Y-%m")
            + " for an allocation of "
            + alloc[over].map("{:.2f}".format)
            + " €"
        )
        out.append(rows.assign(flag=FLAG_OVER_ALLOCATION, detail=detail))

    if "joined" in hh.columns:
        first = enrolment_month(hh["joined"], cutoff_day=cutoff_day)
        start = tx["household_id"].map(first)
        early = start.notna() & (tx["month"] < start)
        if early.any():
            rows = tx.loc[early]
            out.append(
                rows.assign(
                    flag=FLAG_NOT_ENROLLED,
                    detail="payment before the household's first allocation month "
                    + start[early].dt.strftime("%Y-%m"),
                )
            )
    if not out:
        return pd.DataFrame(columns=columns)
    flags = pd.concat(out, ignore_index=True).assign(file=file)
    return flags[columns].sort_values(["row", "flag"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- basket


def shop_baskets(
    orders: pd.DataFrame,
    products: pd.DataFrame,
    sites: pd.DataFrame,
    site_ids: list[str] | np.ndarray,
) -> pd.DataFrame:
    """Product mix (value shares) and price per kilo of the shops in ``site_ids``.

    A shop's basket is learnt from its own orders (value shares by product, at the prices it
    paid); a shop without orders gets the basket of the shops of its kind, else of all shops,
    else the whole catalogue in equal value shares, at catalogue retail prices.

    Returns
    -------
    pandas.DataFrame
        ``site_id, product_id, value_share, eur_per_kg`` (shares sum to 1 per site).
    """
    catalogue = products.set_index("product_id")
    retail_eur_per_kg = catalogue["retail_price_eur_per_unit"] / catalogue["kg_per_unit"]
    o = orders[["site_id", "product_id", "kg"]].copy()
    price = None
    if "unit_price_eur" in orders.columns:
        # the order's price is per order unit: per kg when ordered in kg
        unit_kg = kg_per_order_unit(orders, catalogue)
        price = pd.to_numeric(orders["unit_price_eur"], errors="coerce") / unit_kg
    fallback = o["product_id"].map(retail_eur_per_kg)
    o["eur_per_kg"] = fallback if price is None else price.fillna(fallback)
    o["eur"] = o["kg"] * o["eur_per_kg"]
    kind = sites.set_index("site_id")["kind"]
    o["kind"] = o["site_id"].map(kind)

    def shares(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        g = frame.groupby([*by, "product_id"], as_index=False)[["eur", "kg"]].sum()
        g = g.loc[g["eur"] > 0]
        g["value_share"] = g["eur"] / g.groupby(by)["eur"].transform("sum")
        g["eur_per_kg"] = g["eur"] / g["kg"]
        return g

    own = shares(o, ["site_id"])
    by_kind = shares(o, ["kind"])
    overall = shares(o.assign(all=1), ["all"])
    baskets = [
        own.loc[
            own["site_id"].isin(site_ids), ["site_id", "product_id", "value_share", "eur_per_kg"]
        ]
    ]
    missing = [s for s in site_ids if s not in set(own["site_id"])]
    for site in missing:
        k = kind.get(site)
        if k in set(by_kind["kind"]):
            b = by_kind.loc[by_kind["kind"] == k]
        elif len(overall):
            b = overall
        else:
            b = pd.DataFrame(
                {
                    "product_id": catalogue.index,
                    "value_share": 1.0 / len(catalogue),
                    "eur_per_kg": retail_eur_per_kg.to_numpy(),
                }
            )
        baskets.append(b[["product_id", "value_share", "eur_per_kg"]].assign(site_id=site))
    out = pd.concat(baskets, ignore_index=True)
    return out[["site_id", "product_id", "value_share", "eur_per_kg"]]


def spending_to_kg(spending: pd.DataFrame, baskets: pd.DataFrame) -> pd.DataFrame:
    """Turn euros spent per (week_start, site_id) into kilos per product through the baskets."""
    m = spending.merge(baskets, on="site_id", how="inner")
    m["kg"] = m["amount_eur"] * m["value_share"] / m["eur_per_kg"]
    return m[["week_start", "site_id", "product_id", "kg"]]
