"""Turn a territory and the week's goods into a :class:`WeekProblem`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.errors import InputError, RowError
from core.schema import STORAGE_CLASSES
from core.territory import Territory
from routing.model import RouteParams, WeekProblem

_GOODS_COLUMNS = ("site_id", "product_id", "storage_class", "kg")
_TRANSFER_COLUMNS = ("from_site_id", "to_site_id", "storage_class", "kg")


def _check_frame(
    frame: pd.DataFrame,
    name: str,
    columns: tuple[str, ...],
    site_ids: set[str],
    site_columns: tuple[str, ...],
) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)}")
    errors: list[RowError] = []
    kg = pd.to_numeric(frame["kg"], errors="coerce")
    for i in np.flatnonzero(~(kg >= 0)):
        errors.append(
            RowError(
                file=name,
                row=int(i) + 2,
                column="kg",
                message="must be a number >= 0",
                value=frame["kg"].iloc[i],
            )
        )
    for i in np.flatnonzero(~frame["storage_class"].isin(STORAGE_CLASSES)):
        errors.append(
            RowError(
                file=name,
                row=int(i) + 2,
                column="storage_class",
                message=f"must be one of {', '.join(STORAGE_CLASSES)}",
                value=frame["storage_class"].iloc[i],
            )
        )
    for col in site_columns:
        for i in np.flatnonzero(~frame[col].astype(str).isin(site_ids)):
            errors.append(
                RowError(
                    file=name,
                    row=int(i) + 2,
                    column=col,
                    message="unknown site",
                    value=frame[col].iloc[i],
                )
            )
    if errors:
        raise InputError(errors)
    return frame.assign(kg=kg)


def _detail(rows: pd.DataFrame) -> str:
    label = rows["product_id"] if "product_id" in rows.columns else rows["storage_class"]
    parts = [f"{p} {kg:.0f} kg" for p, kg in zip(label, rows["kg"], strict=True) if kg >= 0.5]
    return ", ".join(parts)


def build_week_problem(
    territory: Territory,
    deliveries: pd.DataFrame,
    pickups: pd.DataFrame,
    *,
    week_start: pd.Timestamp,
    params: RouteParams,
    transfers: pd.DataFrame | None = None,
) -> WeekProblem:
    """Gather the week's deliveries, farm pickups and direct transfers into jobs.

    Parameters
    ----------
    territory
        A loaded :class:`core.territory.Territory`.
    deliveries
        ``site_id, product_id, storage_class, kg``: the week's goods for each point of sale.
    pickups
        ``site_id, product_id, storage_class, kg``: the week's harvest to bring to the hub.
    week_start
        Monday of the week.
    params
        Routing parameters (pallet sizes, refrigerated classes, farm pickup frequency).
    transfers
        Optional direct farm → shop pairs: ``from_site_id, to_site_id, storage_class, kg``.
    """
    sites = territory.sites.copy()
    site_ids = set(sites["site_id"].astype(str))
    deliveries = _check_frame(deliveries, "deliveries", _GOODS_COLUMNS, site_ids, ("site_id",))
    pickups = _check_frame(pickups, "pickups", _GOODS_COLUMNS, site_ids, ("site_id",))
    if transfers is None:
        transfers = pd.DataFrame(columns=list(_TRANSFER_COLUMNS))
    transfers = _check_frame(
        transfers, "transfers", _TRANSFER_COLUMNS, site_ids, ("from_site_id", "to_site_id")
    )
    hub_id = str(territory.hub["site_id"])
    by_site = sites.set_index("site_id")
    cold_classes = set(params.refrigerated_classes)

    def visits_of(site_id: str) -> tuple[int, tuple[str, ...]]:
        row = by_site.loc[site_id]
        fixed = tuple(d for d in str(row["delivery_days"] or "").split(",") if d)
        per_week = int(row["deliveries_per_week"])
        if row["kind"] == "farm" and per_week == 0:
            per_week = params.farm_pickups_per_week
        if fixed:
            per_week = len(fixed)
        return max(per_week, 1), fixed

    jobs: list[dict] = []

    def add(kind: str, stop: str, src: str, dst: str, rows: pd.DataFrame) -> None:
        for cold, part in rows.groupby(rows["storage_class"].isin(cold_classes)):
            kg = float(part["kg"].sum())
            if kg <= 0:
                continue
            pallets = float(
                sum(
                    kg_ / params.kg_per_pallet[c]
                    for c, kg_ in zip(part["storage_class"], part["kg"], strict=True)
                )
            )
            visits, fixed = visits_of(stop)
            jobs.append(
                {
                    "job_id": f"{kind[:3]}_{stop}_{'cold' if cold else 'dry'}"
                    + (f"_{src}" if kind == "transfer" else ""),
                    "kind": kind,
                    "site_id": stop,
                    "from_site_id": src,
                    "to_site_id": dst,
                    "cold": bool(cold),
                    "kg": kg,
                    "pallets": math.ceil(pallets * 10) / 10,
                    "visits": visits,
                    "fixed_days": fixed,
                    "detail": _detail(part),
                    "kg_by_class": {
                        str(c): float(k)
                        for c, k in part.groupby("storage_class")["kg"].sum().items()
                        if k > 0
                    },
                }
            )

    for site_id, rows in deliveries.groupby("site_id", sort=True):
        add("delivery", str(site_id), hub_id, str(site_id), rows)
    for site_id, rows in pickups.groupby("site_id", sort=True):
        add("pickup", str(site_id), str(site_id), hub_id, rows)
    for (src, dst), rows in transfers.groupby(["from_site_id", "to_site_id"], sort=True):
        add("transfer", str(dst), str(src), str(dst), rows)

    job_frame = pd.DataFrame(
        jobs,
        columns=[
            "job_id",
            "kind",
            "site_id",
            "from_site_id",
            "to_site_id",
            "cold",
            "kg",
            "pallets",
            "visits",
            "fixed_days",
            "detail",
            "kg_by_class",
        ],
    )
    hours: dict[tuple[str, str], list[tuple[float, float]]] = {}
    oh = territory.opening_hours
    for site_id, day, open_, close in zip(
        oh["site_id"], oh["weekday"], oh["open"], oh["close"], strict=True
    ):
        hours.setdefault((str(site_id), str(day)), []).append((float(open_), float(close)))
    frozen_hours = {k: tuple(sorted(v)) for k, v in hours.items()}
    keep = [
        "site_id",
        "name",
        "kind",
        "address",
        "commune",
        "lat",
        "lon",
        "service_min",
        "contact",
        "notes",
        "deliveries_per_week",
        "delivery_days",
    ]
    vehicles = territory.vehicles.copy()
    vehicles["days"] = vehicles["days"].map(
        lambda v: (
            tuple(v)
            if isinstance(v, list | tuple)
            else tuple(d for d in str(v or "").split(",") if d)
        )
    )
    return WeekProblem(
        week_start=pd.Timestamp(week_start).normalize(),
        hub_id=hub_id,
        sites=sites[[c for c in keep if c in sites.columns]].reset_index(drop=True),
        vehicles=vehicles.reset_index(drop=True),
        jobs=job_frame,
        hours=frozen_hours,
        sites_with_hours=frozenset(str(s) for s in oh["site_id"]),
    )
