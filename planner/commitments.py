"""What a plan keeps from earlier ones: frozen contracts and the base plan of a what-if.

*Frozen contracts* (the territory's ``contracts`` table, ``core.schema.CONTRACTS``) fix the
beds of a farm's plantings bed for bed: a signed contract, a crop, or the weeks already
planted. The latest version of each contract holds; every planting option in its scope is
fixed to the contract's beds (0 where the contract has no line), so the plan is built around
it and the contract comes out identical, line for line.

The *base plan* of a what-if gives the stability term: each of the base's beds the what-if
keeps (same farm, crop and planting week) earns ``PlanParams.stability_eur_per_bed``, so a
scenario differs from the base only where the change pays for it (see
``planner.formulation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.errors import InputError, RowError
from core.schema import CONTRACTS

if TYPE_CHECKING:
    from planner.inputs import PlanInputs

#: Columns of the contracts table, in file order.
CONTRACT_COLUMNS = [c.name for c in CONTRACTS.columns]


@dataclass(frozen=True, slots=True, kw_only=True)
class FrozenBeds:
    """Per planting option: the beds a frozen contract fixes (NaN: free) and which contract."""

    beds: np.ndarray  # float, NaN where the option is free
    contract: np.ndarray  # object, the contract id fixing the option ("" where free)
    outside: pd.DataFrame  # contract lines outside this plan's weeks (not kept here)

    @property
    def fixed(self) -> np.ndarray:
        """Mask of the options a contract fixes."""
        return ~np.isnan(self.beds)


def active(contracts: pd.DataFrame | None) -> pd.DataFrame:
    """The latest version of each contract (empty frame when there is none)."""
    if contracts is None or contracts.empty:
        return pd.DataFrame(columns=[*CONTRACT_COLUMNS, "row"])
    latest = contracts.groupby("contract_id")["version"].transform("max")
    return contracts.loc[contracts["version"] == latest].reset_index(drop=True)


def _option_index(options: pd.DataFrame) -> dict[tuple[str, str, int], int]:
    """Planting option position by (producer, crop, season week)."""
    keys = zip(
        options["producer_id"], options["crop_id"], options["plant_t"].astype(int), strict=True
    )
    return {key: i for i, key in enumerate(keys)}


def season_week(dates: pd.Series, week_start: pd.DatetimeIndex, cyclic: bool) -> np.ndarray:
    """Season week (0-based) of each date's Monday; in a 52-week plan the calendar wraps
    (a planting of a year earlier is the same week); -1 outside a plan that does not wrap."""
    days = (
        pd.to_datetime(pd.Series(dates)).to_numpy("datetime64[D]")
        - np.datetime64(week_start[0].date(), "D")
    ).astype(int)
    t = np.floor_divide(days, 7)
    n = len(week_start)
    if cyclic:
        return np.mod(t, n)
    return np.where((t >= 0) & (t < n), t, -1)


def frozen_beds(
    options: pd.DataFrame,
    week_start: pd.DatetimeIndex,
    cyclic: bool,
    contracts: pd.DataFrame | None,
    *,
    file: str = "contracts.csv",
) -> FrozenBeds:
    """Map the active contracts onto planting options (``producer_id, crop_id, plant_t,
    max_beds``); an InputError names every line that cannot be kept and why."""
    beds = np.full(len(options), np.nan)
    owner = np.full(len(options), "", dtype=object)
    lines = active(contracts)
    if lines.empty:
        return FrozenBeds(beds=beds, contract=owner, outside=lines)
    t = season_week(lines["plant_date"], week_start, cyclic)
    outside = lines.loc[t < 0]
    lines = lines.assign(t=t).loc[t >= 0]
    index = _option_index(options)
    option_date = week_start[options["plant_t"].to_numpy(int)]
    errors: list[RowError] = []
    for contract_id, rows in lines.groupby("contract_id", sort=True):
        first = rows.iloc[0]
        mine = (options["producer_id"] == first["producer_id"]).to_numpy()
        if first["scope"] == "crop":
            mine &= options["crop_id"].isin(rows["crop_id"]).to_numpy()
        elif first["scope"] == "line":
            mine[:] = False
        if first["until"] is not None and not pd.isna(first["until"]):
            mine &= np.asarray(option_date <= pd.Timestamp(first["until"]))
        clash = mine & ~np.isnan(beds) & (owner != contract_id)
        for i in np.flatnonzero(clash)[:5]:
            errors.append(
                RowError(
                    file=file,
                    row=int(first["row"]),
                    column="contract_id",
                    message=f"contracts {owner[i]} and {contract_id} both freeze "
                    f"{options['crop_id'].iat[i]} at {first['producer_id']} in week "
                    f"{int(options['plant_t'].iat[i]) + 1}",
                    value=contract_id,
                )
            )
        beds[mine] = 0.0
        owner[mine] = contract_id
        for _, line in rows.iterrows():
            key = (line["producer_id"], line["crop_id"], int(line["t"]))
            i = index.get(key)
            if i is None:
                if line["beds"] > 0:
                    errors.append(
                        RowError(
                            file=file,
                            row=int(line["row"]),
                            column="plant_date",
                            message=f"{line['producer_id']} cannot plant {line['crop_id']} that "
                            f"week in this plan (not among its crops, outside the crop's "
                            f"planting window or no demand it could serve)",
                            value=str(pd.Timestamp(line["plant_date"]).date()),
                        )
                    )
                continue
            if line["beds"] > options["max_beds"].iat[i]:
                errors.append(
                    RowError(
                        file=file,
                        row=int(line["row"]),
                        column="beds",
                        message=f"more beds than {line['producer_id']}'s land holds "
                        f"({int(options['max_beds'].iat[i])})",
                        value=int(line["beds"]),
                    )
                )
            beds[i] = float(line["beds"])
            owner[i] = contract_id
    if errors:
        raise InputError(errors)
    return FrozenBeds(beds=beds, contract=owner, outside=outside)


def base_beds(
    options: pd.DataFrame, week_start: pd.DatetimeIndex, cyclic: bool, base_plan: pd.DataFrame
) -> np.ndarray:
    """The base plan's beds on this model's planting options (0 where the base has none)."""
    beds = np.zeros(len(options))
    if base_plan is None or base_plan.empty:
        return beds
    t = season_week(base_plan["plant_date"], week_start, cyclic)
    index = _option_index(options)
    for producer, crop, week, n in zip(
        base_plan["producer_id"], base_plan["crop_id"], t, base_plan["beds"], strict=True
    ):
        i = index.get((producer, crop, int(week)))
        if i is not None and week >= 0:
            beds[i] += float(n)
    return np.minimum(beds, options["max_beds"].to_numpy(float))


def freeze(
    plan: pd.DataFrame,
    contracts: pd.DataFrame | None,
    *,
    producer_id: str,
    contract_id: str | None = None,
    crops: tuple[str, ...] = (),
    until: date | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    """A new contract version from a plan table: ``producer_id``'s lines (of ``crops`` when
    given, planted up to ``until`` when given). Returns the rows to add to ``contracts``."""
    lines = plan.loc[plan["producer_id"] == producer_id]
    if crops:
        unknown = sorted(set(crops) - set(plan["crop_id"]))
        if unknown:
            raise InputError(f"the plan has no line of crop(s) {', '.join(unknown)}")
        lines = lines.loc[lines["crop_id"].isin(crops)]
    if until is not None:
        lines = lines.loc[pd.to_datetime(lines["plant_date"]) <= pd.Timestamp(until)]
    if lines.empty and not crops:
        raise InputError(f"the plan has no line for producer {producer_id!r}")
    contract_id = contract_id or producer_id
    earlier = (
        contracts.loc[contracts["contract_id"] == contract_id]
        if contracts is not None and len(contracts)
        else pd.DataFrame()
    )
    version = int(earlier["version"].max()) + 1 if len(earlier) else 1
    if len(earlier) and (earlier["producer_id"] != producer_id).any():
        raise InputError(f"contract {contract_id!r} belongs to another producer")
    grouped = (
        lines.groupby(["crop_id", "plant_date"], as_index=False)["beds"]
        .sum()
        .sort_values(["plant_date", "crop_id"])
    )
    if grouped.empty:  # a crop frozen at zero beds: one line says so
        grouped = pd.DataFrame(
            {"crop_id": list(crops), "plant_date": [None] * len(crops), "beds": 0}
        )
    out = pd.DataFrame(
        {
            "contract_id": contract_id,
            "version": version,
            "frozen_on": pd.Timestamp(today or date.today()).date(),
            "producer_id": producer_id,
            "scope": "crop" if crops else "farm",
            "until": None if until is None else pd.Timestamp(until).date(),
            "crop_id": grouped["crop_id"].to_numpy(),
            "plant_date": [
                None if d is None else pd.Timestamp(d).date() for d in grouped["plant_date"]
            ],
            "beds": grouped["beds"].astype(int).to_numpy(),
        }
    )
    if out["plant_date"].isna().any():
        raise InputError(
            "a crop with no line in the plan cannot be frozen at zero beds without a planting date"
        )
    return out[CONTRACT_COLUMNS]


def with_version(contracts: pd.DataFrame | None, rows: pd.DataFrame) -> pd.DataFrame:
    """The contracts table with a new version's ``rows`` (from :func:`freeze`) appended, in
    file order with ISO dates: what both doors store."""
    table = (
        rows
        if contracts is None
        else pd.concat([contracts.drop(columns="row", errors="ignore"), rows], ignore_index=True)
    )
    table = table[CONTRACT_COLUMNS].copy()
    for column in ("frozen_on", "until", "plant_date"):
        table[column] = [
            None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in table[column]
        ]
    return table


def diff(
    contracts: pd.DataFrame, contract_id: str, old: int | None = None, new: int | None = None
) -> pd.DataFrame:
    """Lines of two versions of a contract side by side (default: the last two), with the
    change in beds: ``crop_id, plant_date, beds_<old>, beds_<new>, change``."""
    mine = contracts.loc[contracts["contract_id"] == contract_id]
    if mine.empty:
        raise InputError(f"no contract {contract_id!r}")
    versions = sorted(int(v) for v in mine["version"].unique())
    new = versions[-1] if new is None else new
    old = (versions[-2] if len(versions) > 1 else versions[-1]) if old is None else old
    for v in (old, new):
        if v not in versions:
            raise InputError(
                f"contract {contract_id!r} has no version {v} "
                f"(versions: {', '.join(map(str, versions))})"
            )
    key = ["crop_id", "plant_date"]

    def beds(v: int) -> pd.Series:
        rows = mine.loc[mine["version"] == v]
        return (
            rows.assign(plant_date=pd.to_datetime(rows["plant_date"]).dt.date)
            .groupby(key)["beds"]
            .sum()
        )

    table = (
        pd.concat([beds(old), beds(new)], axis=1, keys=[f"beds_v{old}", f"beds_v{new}"])
        .fillna(0)
        .astype(int)
    )
    if old == new:
        table = table.iloc[:, :1]
        table[f"beds_v{new}"] = table.iloc[:, 0]
    table["change"] = table.iloc[:, -1] - table.iloc[:, 0]
    return table.reset_index().sort_values(key).reset_index(drop=True)


def why_not_kept(inputs: PlanInputs, budget_eur: float | None) -> list[str]:
    """Why the frozen plantings cannot all be kept together: each farm's land (per type) or
    labour they exceed in some week, or the purchase budget they exceed (``inputs`` is
    ``planner.inputs.PlanInputs``)."""
    opts = inputs.options
    beds = np.nan_to_num(inputs.frozen.beds)
    num_t = inputs.num_weeks
    held = np.zeros((len(opts), num_t), dtype=bool)
    for o in np.flatnonzero(beds > 0):
        weeks = int(opts["plant_t"].iat[o]) + np.arange(int(opts["dur"].iat[o]))
        held[o, np.mod(weeks, num_t) if inputs.cyclic else weeks[weeks < num_t]] = True
    reasons = []
    farms = inputs.farms
    for f, farm in farms.iterrows():
        mine = (opts["f"].to_numpy(int) == f) & (beds > 0)
        if not mine.any():
            continue
        for land_type in ("open_field", "greenhouse", "orchard"):
            of_type = mine & (opts["land_type"] == land_type).to_numpy()
            use = (beds[of_type] * opts["bed_m2"].to_numpy(float)[of_type]) @ held[of_type]
            if len(use) and use.max() > farm[f"{land_type}_m2"] + 1e-6:
                t = int(np.argmax(use))
                reasons.append(
                    f"{farm['producer_id']}: the frozen plantings hold "
                    f"{use.max():,.0f} m² of {land_type} in week {t + 1}, the farm "
                    f"has {farm[f'{land_type}_m2']:,.0f} m²"
                )
        labour = (beds[mine] * opts["labour_h_per_bed_week"].to_numpy(float)[mine]) @ held[mine]
        if len(labour) and labour.max() > farm["labour_h_per_week"] + 1e-6:
            t = int(np.argmax(labour))
            reasons.append(
                f"{farm['producer_id']}: the frozen plantings need {labour.max():,.0f} "
                f"h of work in week {t + 1}, the farm has "
                f"{farm['labour_h_per_week']:,.0f} h a week"
            )
    spend = float(beds @ (opts["kg_per_bed"] * opts["price_eur_per_kg"]).to_numpy(float))
    if budget_eur is not None and spend > budget_eur:
        reasons.append(
            f"the frozen contracts cost {spend:,.0f} € at fair prices, over the "
            f"{budget_eur:,.0f} € budget"
        )
    return reasons
