"""The caisse's monthly ledger: contributions, allocations, spending and co-financing per
month, and its what-ifs (more households, another rule, other contributions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from demand.caisse import CaisseRule, enrolment_month, month_of, parse_rule


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIf:
    """A scenario for the ledger: more households, another rule, other contributions.

    Attributes
    ----------
    extra_households
        Households added from the first month; they copy the enrolled households' sizes and
        contributions in turn (household 1, 2, … then again), so the mix is kept.
    rule
        Another allocation rule (same forms as :func:`parse_rule`).
    contribution_factor
        Multiplies every contribution (e.g. 1.2 for +20 %).
    contribution_eur
        When set, every household contributes this flat amount instead.
    """

    extra_households: int = 0
    rule: CaisseRule | str | None = None
    contribution_factor: float = 1.0
    contribution_eur: float | None = None

    def __post_init__(self) -> None:
        if self.extra_households < 0:
            raise InputError(f"what-if: extra households must be >= 0; got {self.extra_households}")
        if self.contribution_factor < 0 or (
            self.contribution_eur is not None and self.contribution_eur < 0
        ):
            raise InputError("what-if: contributions must be >= 0")


LEDGER_COLUMNS = (
    "month",
    "households",
    "members",
    "contributions_eur",
    "allocations_eur",
    "spent_eur",
    "unspent_eur",
    "cofinancing_eur",
    "flagged_eur",
)


def caisse_ledger(
    households: pd.DataFrame,
    transactions: pd.DataFrame,
    rule: CaisseRule | pd.DataFrame | pd.Series | str | None,
    *,
    months: list | pd.DatetimeIndex | None = None,
    what_if: WhatIf | dict | None = None,
    cutoff_day: int = 10,
    sites: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Monthly ledger of the caisse commune.

    For each month, the households enrolled (joined on or before the ``cutoff_day`` of the
    month, or earlier), and:

    - ``contributions_eur``: what they pay in (their ``monthly_contribution_eur``);
    - ``allocations_eur``: what the rule credits them (first person + each further person);
    - ``spent_eur``: payments made with the allocation that month (every payment in € or local
      currency, flagged ones included: the money left the caisse; ``flagged_eur`` is the part at
      non-approved shops, given when ``sites`` is);
    - ``unspent_eur`` = allocations − spent (negative when households overspend);
    - ``cofinancing_eur`` = allocations − contributions: what public and private co-funders must
      bring so that the caisse can credit every allocation. What balances is
      ``contributions + cofinancing = allocations = spent + unspent``; if unspent allocations
      are not carried over, the cash actually needed is ``spent − contributions``
      (``cash_gap_eur``).

    Parameters
    ----------
    households
        ``household_id, size, monthly_contribution_eur`` and optionally ``joined``.
    transactions
        Payments (``timestamp``, ``household_id``, ``amount`` or ``amount_eur``; ``site_id``).
    rule
        Allocation rule (``caisse_rule`` table or row, :class:`CaisseRule`, ``"100+50"``…).
    months
        Months to report (any day in the month); default: every month with payments.
    what_if
        A :class:`WhatIf` (or a dict of its fields): adds ``whatif_*`` columns (households,
        members, contributions, allocations, expected spending at the observed spending rate,
        cofinancing) and ``whatif_extra_cofinancing_eur``, the monthly gap beyond today's.
    cutoff_day
        Day of the month up to which a new household gets that month's allocation.
    sites
        The sites table, to report ``flagged_eur`` (spending at non-approved shops).

    Returns
    -------
    pandas.DataFrame
        One row per month, columns :data:`LEDGER_COLUMNS` plus ``cash_gap_eur`` (and the
        what-if columns).
    """
    rule = parse_rule(rule)
    tx = transactions.copy()
    if "amount_eur" not in tx.columns:
        tx["amount_eur"] = tx["amount"].astype(float)
    tx["month"] = month_of(tx["timestamp"])
    if months is None:
        if tx.empty:
            raise InputError("caisse ledger: no payments and no months given")
        month_index = pd.date_range(tx["month"].min(), tx["month"].max(), freq="MS")
    else:
        month_index = pd.DatetimeIndex(
            sorted({pd.Timestamp(m).to_period("M").to_timestamp() for m in months})
        )
    hh = households.copy()
    start = (
        enrolment_month(hh["joined"], cutoff_day=cutoff_day)
        if "joined" in hh.columns
        else pd.Series(pd.NaT, index=hh.index)
    )
    enrolled = _enrolled(start, month_index)  # months × households bool
    sizes = hh["size"].to_numpy(dtype=float)
    contrib = hh["monthly_contribution_eur"].to_numpy(dtype=float)
    alloc = rule.allocation_eur(sizes)

    spent = tx.groupby("month")["amount_eur"].sum().reindex(month_index, fill_value=0.0)
    ledger = pd.DataFrame(
        {
            "month": month_index,
            "households": enrolled.sum(axis=1),
            "members": enrolled @ sizes,
            "contributions_eur": enrolled @ contrib,
            "allocations_eur": enrolled @ alloc,
            "spent_eur": spent.to_numpy(),
        }
    )
    ledger["unspent_eur"] = ledger["allocations_eur"] - ledger["spent_eur"]
    ledger["cofinancing_eur"] = ledger["allocations_eur"] - ledger["contributions_eur"]
    ledger["cash_gap_eur"] = ledger["spent_eur"] - ledger["contributions_eur"]
    if sites is not None and "site_id" in tx.columns:
        approved = sites.set_index("site_id")["conventionne"].astype(bool)
        off = ~tx["site_id"].map(approved).fillna(False).astype(bool)
        flagged = tx.loc[off].groupby("month")["amount_eur"].sum()
        ledger["flagged_eur"] = flagged.reindex(month_index, fill_value=0.0).to_numpy()
    else:
        ledger["flagged_eur"] = np.nan

    if what_if is not None:
        if isinstance(what_if, dict):
            what_if = WhatIf(**what_if)
        ledger = _what_if(ledger, hh, enrolled, rule, what_if)
    ledger["month"] = ledger["month"].dt.strftime("%Y-%m")
    return ledger.reset_index(drop=True)


def _enrolled(start: pd.Series, months: pd.DatetimeIndex) -> np.ndarray:
    s = start.to_numpy(dtype="datetime64[ns]")
    m = months.to_numpy(dtype="datetime64[ns]")
    return (np.isnat(s)[None, :] | (s[None, :] <= m[:, None])).astype(float)


def _what_if(
    ledger: pd.DataFrame, hh: pd.DataFrame, enrolled: np.ndarray, rule: CaisseRule, scenario: WhatIf
) -> pd.DataFrame:
    new_rule = parse_rule(scenario.rule) if scenario.rule is not None else rule
    sizes = hh["size"].to_numpy(dtype=float)
    contrib = hh["monthly_contribution_eur"].to_numpy(dtype=float)
    n_extra = scenario.extra_households
    if n_extra and len(hh):
        pick = np.arange(n_extra) % len(hh)
        sizes = np.concatenate([sizes, sizes[pick]])
        contrib = np.concatenate([contrib, contrib[pick]])
        enrolled = np.hstack([enrolled, np.ones((enrolled.shape[0], n_extra))])
    contrib = contrib * scenario.contribution_factor
    if scenario.contribution_eur is not None:
        contrib = np.full_like(contrib, scenario.contribution_eur)
    alloc = new_rule.allocation_eur(sizes)
    out = ledger.copy()  # scenarios never alter the base ledger
    out["whatif_households"] = enrolled.sum(axis=1)
    out["whatif_members"] = enrolled @ sizes
    out["whatif_contributions_eur"] = enrolled @ contrib
    out["whatif_allocations_eur"] = enrolled @ alloc
    # households spend the same share of their allocation as today
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(
            ledger["allocations_eur"] > 0, ledger["spent_eur"] / ledger["allocations_eur"], 0.0
        )
    out["whatif_spent_eur"] = out["whatif_allocations_eur"] * rate
    out["whatif_cofinancing_eur"] = out["whatif_allocations_eur"] - out["whatif_contributions_eur"]
    out["whatif_extra_cofinancing_eur"] = out["whatif_cofinancing_eur"] - out["cofinancing_eur"]
    out.attrs["whatif_rule"] = new_rule.name
    return out
