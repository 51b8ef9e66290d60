"""Several caisses communes per territory: their rules, contributions by means, the month by
month balance and its sizing, and the payment operator's monthly credit file.

A territory lists its caisses in ``caisses.csv`` (area, currency, start, allocation rule,
minimum contribution per person, what becomes of unspent credit); a territory with a single
``caisse_rule.csv`` has one caisse, ``caisse``. Households name their caisse
(``households.caisse_id``; optional with one caisse).

The balance keeps the caisse's cash to the cent: ``opening + contributions + co-funding −
credited + returned = closing``, where ``credited`` is the month's allocations loaded on the
households' accounts and ``returned`` the credit left unspent at the end of the month when the
caisse's rule is ``expire`` (with ``carry`` the household keeps it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from demand.caisse import CaisseRule, enrolment_month, month_of, parse_rule

#: The caisse of a territory that gives ``caisse_rule.csv`` instead of ``caisses.csv``.
DEFAULT_CAISSE = "caisse"

#: Indicative contribution scale (illustrative, not a territory's): share of the household's
#: monthly *reste à vivre* per consumption unit asked as contribution, by band of means
#: (upper bound of the band in € per consumption unit, share). Households choose their own
#: contribution; the scale only guides them, and the caisse's minimum per person applies.
INDICATIVE_BANDS: tuple[tuple[float, float], ...] = (
    (300.0, 0.0),
    (600.0, 0.05),
    (1000.0, 0.10),
    (math.inf, 0.15),
)

BALANCE_COLUMNS = (
    "caisse_id",
    "month",
    "households",
    "members",
    "opening_cash_eur",
    "contributions_eur",
    "cofunding_eur",
    "credited_eur",
    "spent_eur",
    "returned_eur",
    "closing_cash_eur",
    "outstanding_credit_eur",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Caisse:
    """One caisse commune and its rules."""

    caisse_id: str
    name: str
    rule: CaisseRule
    start: pd.Timestamp | None = None
    currency: str = "EUR"
    area: str = ""
    min_contribution_per_person_eur: float = 0.0
    unspent: str = "carry"  # carry | expire
    approval_threshold_pct: float = 60.0

    def __post_init__(self) -> None:
        if self.unspent not in ("carry", "expire"):
            raise InputError(f"caisse {self.caisse_id}: unspent must be carry or expire")


def caisses_of(caisses: pd.DataFrame | None, caisse_rule: pd.DataFrame | None) -> dict[str, Caisse]:
    """The territory's caisses by id: from ``caisses.csv``, else the one of
    ``caisse_rule.csv`` (id :data:`DEFAULT_CAISSE`), else none."""
    if caisses is not None and len(caisses):
        found = {}
        for row in caisses.itertuples(index=False):
            rule = CaisseRule(
                name=str(row.name),
                first_person_eur=float(row.first_person_eur),
                additional_person_eur=float(row.additional_person_eur),
                local_currency=str(row.currency),
            )
            found[str(row.caisse_id)] = Caisse(
                caisse_id=str(row.caisse_id),
                name=str(row.name),
                rule=rule,
                start=month_of(pd.Series([row.start])).iloc[0],
                currency=str(row.currency),
                area=str(row.area),
                min_contribution_per_person_eur=float(row.min_contribution_per_person_eur),
                unspent=str(row.unspent),
                approval_threshold_pct=float(row.approval_threshold_pct),
            )
        return found
    if caisse_rule is not None and len(caisse_rule):
        rule = parse_rule(caisse_rule)
        return {
            DEFAULT_CAISSE: Caisse(
                caisse_id=DEFAULT_CAISSE,
                name=rule.name,
                rule=rule,
                currency=rule.local_currency or "EUR",
            )
        }
    return {}


def caisse_of_households(households: pd.DataFrame, caisses: dict[str, Caisse]) -> pd.Series:
    """Each household's caisse id (its own, or the only caisse's)."""
    given = (
        households["caisse_id"].replace("", None)
        if "caisse_id" in households.columns
        else pd.Series(None, index=households.index, dtype=object)
    )
    if len(caisses) == 1:
        return given.fillna(next(iter(caisses))).astype(str)
    if given.isna().any():
        raise InputError("households.csv: caisse_id is needed, the territory has several caisses")
    return given.astype(str)


def household_allocations(households: pd.DataFrame, caisses: dict[str, Caisse]) -> pd.Series:
    """Each household's monthly allocation under its caisse's rule (index: household id)."""
    ids = caisse_of_households(households, caisses)
    amounts = [
        float(caisses[c].rule.allocation_eur(size))
        for c, size in zip(ids, households["size"], strict=True)
    ]
    return pd.Series(amounts, index=households["household_id"].to_numpy(), dtype=float)


def members_of(
    households: pd.DataFrame, caisses: dict[str, Caisse], caisse_id: str
) -> pd.DataFrame:
    """The households of one caisse."""
    if caisse_id not in caisses:
        raise InputError(f"unknown caisse {caisse_id!r}; known: {', '.join(sorted(caisses))}")
    return households.loc[(caisse_of_households(households, caisses) == caisse_id).to_numpy()]


def consumption_units(size: pd.Series | np.ndarray) -> np.ndarray:
    """OECD-modified consumption units from the household size alone: 1 for the first
    person, 0.5 for each other (ages are not known: children counted as adults)."""
    return 1.0 + 0.5 * np.maximum(np.asarray(size, dtype=float) - 1, 0)


def contribution_check(households: pd.DataFrame, caisses: dict[str, Caisse]) -> pd.DataFrame:
    """Per household: its own contribution, the caisse's minimum (per person × size), the
    indicative contribution from its reste à vivre (when given), its band of means and a flag
    ``under_minimum``. Contributions are the household's choice: nothing is changed."""
    ids = caisse_of_households(households, caisses)
    size = households["size"].to_numpy(dtype=float)
    minimum_pp = ids.map(lambda c: caisses[c].min_contribution_per_person_eur).to_numpy(float)
    units = consumption_units(size)
    rav = (
        households["reste_a_vivre_eur"].to_numpy(dtype=float)
        if "reste_a_vivre_eur" in households.columns
        else np.full(len(households), np.nan)
    )
    per_unit = rav / units
    uppers = np.array([upper for upper, _ in INDICATIVE_BANDS])
    shares = np.array([share for _, share in INDICATIVE_BANDS])
    band = np.searchsorted(uppers, np.nan_to_num(per_unit, nan=0.0), side="right").clip(
        0, len(uppers) - 1
    )
    minimum = minimum_pp * size
    indicative = np.where(np.isnan(rav), np.nan, np.maximum(shares[band] * rav, minimum))
    own = households["monthly_contribution_eur"].to_numpy(dtype=float)
    labels = [_band_label(i) for i in range(len(INDICATIVE_BANDS))]
    return pd.DataFrame(
        {
            "row": households["row"].to_numpy() if "row" in households.columns else None,
            "household_id": households["household_id"].to_numpy(),
            "caisse_id": ids.to_numpy(),
            "size": size.astype(int),
            "contribution_eur": own,
            "minimum_eur": minimum,
            "indicative_eur": np.round(indicative, 2),
            "means_band": np.where(np.isnan(rav), "", np.array(labels, dtype=object)[band]),
            "under_minimum": own < minimum - 1e-9,
        }
    )


def _band_label(i: int) -> str:
    lower = 0.0 if i == 0 else INDICATIVE_BANDS[i - 1][0]
    upper = INDICATIVE_BANDS[i][0]
    top = "+" if math.isinf(upper) else f"–{upper:.0f}"
    return f"{lower:.0f}{top} €/UC"


def _cents(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float) * 100).astype(np.int64)


def balance(
    caisse: Caisse,
    members: pd.DataFrame,
    transactions: pd.DataFrame | None = None,
    funders: pd.DataFrame | None = None,
    *,
    months: pd.DatetimeIndex | None = None,
    opening_cash_eur: float = 0.0,
    cutoff_day: int = 10,
) -> pd.DataFrame:
    """The caisse's cash month by month (columns :data:`BALANCE_COLUMNS`), to the cent.

    ``members`` are this caisse's households (:func:`members_of`); ``transactions`` may hold
    every caisse's: only the members' payments count. Months: given, else from the caisse's
    start (or its first payment) to its last payment or co-funding. A household is credited
    from the month it joined (by ``cutoff_day``) and never before the caisse's start.
    """
    tx = transactions if transactions is not None else pd.DataFrame(columns=["timestamp"])
    if len(tx):
        tx = tx.loc[tx["household_id"].isin(set(members["household_id"]))]
        amount = tx["amount_eur"] if "amount_eur" in tx.columns else tx["amount"]
        tx = tx.assign(month=month_of(tx["timestamp"]), cents=_cents(amount))
    funds = funders.loc[funders["caisse_id"] == caisse.caisse_id] if funders is not None else None
    if funds is not None and len(funds):
        funds = funds.assign(month=month_of(funds["month"]), cents=_cents(funds["amount_eur"]))
    if months is None:
        firsts = [m for m in (caisse.start,) if m is not None]
        lasts = []
        for frame in (tx, funds):
            if frame is not None and len(frame):
                firsts.append(frame["month"].min())
                lasts.append(frame["month"].max())
        if not firsts or not lasts:
            raise InputError(f"caisse {caisse.caisse_id}: no payments nor co-funding: give months")
        months = pd.date_range(min(firsts), max(lasts), freq="MS")
    months = pd.DatetimeIndex([m.to_period("M").to_timestamp() for m in months])

    joined = (
        enrolment_month(members["joined"], cutoff_day=cutoff_day)
        if "joined" in members.columns
        else pd.Series(pd.NaT, index=members.index)
    )
    if caisse.start is not None:
        joined = joined.fillna(caisse.start).clip(lower=caisse.start)
    start = joined.to_numpy(dtype="datetime64[ns]")
    month_values = months.to_numpy(dtype="datetime64[ns]")
    enrolled = np.isnat(start)[None, :] | (start[None, :] <= month_values[:, None])
    sizes = members["size"].to_numpy(dtype=float)
    allocation = _cents(caisse.rule.allocation_eur(sizes))
    contribution = _cents(members["monthly_contribution_eur"])

    def per_month(frame: pd.DataFrame | None) -> np.ndarray:
        if frame is None or not len(frame):
            return np.zeros(len(months), dtype=np.int64)
        summed = frame.groupby("month")["cents"].sum()
        return summed.reindex(months, fill_value=0).to_numpy(dtype=np.int64)

    spent, cofunding = per_month(tx), per_month(funds)
    credited = enrolled.astype(np.int64) @ allocation
    contributions = enrolled.astype(np.int64) @ contribution
    rows = []
    cash, outstanding = round(opening_cash_eur * 100), 0
    for i, month in enumerate(months):
        opening = cash
        outstanding += int(credited[i]) - int(spent[i])
        returned = max(outstanding, 0) if caisse.unspent == "expire" else 0
        outstanding -= returned
        cash = opening + int(contributions[i]) + int(cofunding[i]) - int(credited[i]) + returned
        rows.append(
            (
                caisse.caisse_id,
                month.strftime("%Y-%m"),
                int(enrolled[i].sum()),
                int(sizes[enrolled[i]].sum()),
                opening / 100,
                int(contributions[i]) / 100,
                int(cofunding[i]) / 100,
                int(credited[i]) / 100,
                int(spent[i]) / 100,
                returned / 100,
                cash / 100,
                outstanding / 100,
            )
        )
    return pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))


def runs_out(book: pd.DataFrame) -> str | None:
    """The first month the caisse's cash goes below zero (``YYYY-MM``), or None."""
    short = book.loc[book["closing_cash_eur"] < 0, "month"]
    return None if short.empty else str(short.iloc[0])


def solidarity_by_band(check: pd.DataFrame, caisses: dict[str, Caisse]) -> pd.DataFrame:
    """Monthly solidarity transfer (allocation − contribution) by band of means, from
    :func:`contribution_check` (households without a reste à vivre: band ``unknown``)."""
    allocation = [
        float(caisses[c].rule.allocation_eur(s))
        for c, s in zip(check["caisse_id"], check["size"], strict=True)
    ]
    frame = check.assign(
        allocation_eur=allocation,
        means_band=check["means_band"].replace("", "unknown"),
    )
    frame["transfer_eur"] = frame["allocation_eur"] - frame["contribution_eur"]
    out = frame.groupby(["caisse_id", "means_band"], as_index=False).agg(
        households=("household_id", "size"),
        allocations_eur=("allocation_eur", "sum"),
        contributions_eur=("contribution_eur", "sum"),
        transfer_eur=("transfer_eur", "sum"),
    )
    return out.round(2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizing:
    """How many people and households a budget carries, for how many months, under a rule."""

    budget_eur: float
    months: int
    people: int
    households: int | None
    allocation_eur_per_month: float  # what the households sized cost each month
    rule: str

    def as_dict(self) -> dict:
        return {
            "people": self.people,
            "households": self.households,
            "months": self.months,
            "budget_eur": self.budget_eur,
            "allocation_eur_per_month": self.allocation_eur_per_month,
            "rule": self.rule,
        }


def size_for_budget(
    budget_eur: float, rule: CaisseRule, months: int, sizes: pd.Series | None = None
) -> Sizing:
    """The most people a budget of allocations carries for ``months`` months.

    With a household mix (``sizes``: one size per household of the territory), households of
    that mix are counted (the mix repeated in proportion, rounded down); without one the rule
    must give every person the same amount (``"100/person"``) and only people are counted.
    """
    if budget_eur < 0 or months < 1:
        raise InputError("sizing: the budget must be >= 0 and months >= 1")
    per_person = math.isclose(rule.first_person_eur, rule.additional_person_eur)
    if sizes is None or not len(sizes):
        if not per_person:
            raise InputError(
                f"sizing: rule {rule.name!r} depends on the household size: give a territory "
                "with households (its mix of sizes) or a per-person rule"
            )
        if rule.first_person_eur <= 0:
            raise InputError("sizing: the rule allocates nothing")
        people = math.floor(budget_eur / (months * rule.first_person_eur) + 1e-9)
        return Sizing(
            budget_eur=budget_eur,
            months=months,
            people=people,
            households=None,
            allocation_eur_per_month=people * rule.first_person_eur,
            rule=rule.name,
        )
    size = np.asarray(sizes, dtype=float)
    mean_allocation = float(rule.allocation_eur(size).mean())
    if mean_allocation <= 0:
        raise InputError("sizing: the rule allocates nothing")
    if per_person:  # every person costs the same: count people exactly, households of the mix
        people = math.floor(budget_eur / (months * rule.first_person_eur) + 1e-9)
        return Sizing(
            budget_eur=budget_eur,
            months=months,
            people=people,
            households=math.floor(people / float(size.mean()) + 1e-9),
            allocation_eur_per_month=people * rule.first_person_eur,
            rule=rule.name,
        )
    households = math.floor(budget_eur / (months * mean_allocation) + 1e-9)
    return Sizing(
        budget_eur=budget_eur,
        months=months,
        people=round(households * float(size.mean())),
        households=households,
        allocation_eur_per_month=round(households * mean_allocation, 2),
        rule=rule.name,
    )


def months_for_budget(budget_eur: float, rule: CaisseRule, sizes: pd.Series) -> float:
    """How many months a budget of allocations lasts for these households (one size each)."""
    monthly = float(rule.allocation_eur(np.asarray(sizes, dtype=float)).sum())
    if monthly <= 0:
        raise InputError("sizing: these households are allocated nothing")
    return budget_eur / monthly


def credit_file(caisse: Caisse, members: pd.DataFrame, month: pd.Timestamp) -> pd.DataFrame:
    """What the payment operator credits each member household of the caisse for ``month``:
    ``household_id, amount, month, currency`` (households enrolled by then)."""
    book_month = pd.Timestamp(month).to_period("M").to_timestamp()
    if caisse.start is not None and book_month < caisse.start:
        raise InputError(
            f"caisse {caisse.caisse_id} starts in {caisse.start:%Y-%m}: no credit in "
            f"{book_month:%Y-%m}"
        )
    mine = members
    if "joined" in mine.columns:
        start = enrolment_month(mine["joined"])
        mine = mine.loc[start.isna() | (start <= book_month)]
    amount = np.round(caisse.rule.allocation_eur(mine["size"].to_numpy(dtype=float)), 2)
    return pd.DataFrame(
        {
            "household_id": mine["household_id"].to_numpy(),
            "amount": amount,
            "month": book_month.strftime("%Y-%m"),
            "currency": caisse.currency,
        }
    ).sort_values("household_id", kind="stable", ignore_index=True)
