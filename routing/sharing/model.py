"""Problem, params and result of sharing a short week's supply among the shops."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from core.errors import InputError

Method = Literal["maxmin", "proportional"]
METHODS: tuple[str, ...] = ("maxmin", "proportional")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareParams:
    """How short supply is shared.

    ``maxmin``: lexicographic max-min fair fill rate (raise the worst-served shop, fix it,
    repeat; then hand out what is left), weighted by ``ShareProblem.weights``.
    ``proportional``: every shop gets the same share of its order of a short product (the
    food banks' "fair share"). Both hand out whole units where a product is sold in units.
    """

    method: Method = "maxmin"
    #: shops within this of the level are held at it (LP tolerance, in fill-rate points / 100)
    tolerance: float = 1e-7

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"sharing: method must be one of {', '.join(METHODS)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareProblem:
    """One week's orders against limited supply.

    ``orders``: ``site_id, product_id, storage_class, ordered_kg`` (one row per shop and
    product, kg > 0). ``supply``: kilos available per product (products absent are not
    limited: bought in, or enough). ``capacity``: kilos the hub can hold per storage class
    (absent: unbounded). ``weights``: per shop (default 1). ``unit_kg``: kilos of one unit for
    products handed out in whole units. ``past``: per shop, ``ordered_kg, allocated_kg`` of
    the short products of earlier weeks (its carried fill rate).
    """

    orders: pd.DataFrame
    supply: dict[str, float]
    capacity: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    unit_kg: dict[str, float] = field(default_factory=dict)
    past: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        need = {"site_id", "product_id", "storage_class", "ordered_kg"}
        missing = need - set(self.orders.columns)
        if missing:
            raise InputError(f"sharing orders: missing column(s) {', '.join(sorted(missing))}")
        kg = self.orders["ordered_kg"].to_numpy(float)
        if not np.isfinite(kg).all() or (kg <= 0).any():
            raise InputError("sharing orders: ordered_kg must be a number > 0")
        if self.orders.duplicated(["site_id", "product_id"]).any():
            raise InputError("sharing orders: one row per shop and product")
        for name, values in (("supply", self.supply), ("capacity", self.capacity)):
            bad = [k for k, v in values.items() if not np.isfinite(v) or v < 0]
            if bad:
                raise InputError(f"sharing {name}: kilos must be >= 0 (see {bad[0]})")
        bad = [k for k, v in self.weights.items() if not np.isfinite(v) or v <= 0]
        if bad:
            raise InputError(f"sharing weights: must be > 0 (see {bad[0]})")
        bad = [k for k, v in self.unit_kg.items() if not np.isfinite(v) or v <= 0]
        if bad:
            raise InputError(f"sharing unit_kg: must be > 0 (see {bad[0]})")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareResult:
    """The allocation and its fairness figures.

    ``lines``: ``site_id, product_id, storage_class, ordered_kg, allocated_kg,
    short_supply_kg, storage_kg`` (every order line; ordered = allocated + the two reasons).
    ``shops``: ``site_id, weight, ordered_kg, allocated_kg, fill_rate`` over the shared
    products (with the carried past), ``products``: ``product_id, ordered_kg, available_kg,
    allocated_kg, short_kg, undistributed_kg``. ``min_fill_rate`` and ``gini`` are over the
    shops' fill rates (1.0 and 0.0 when nothing is short).
    """

    method: str
    lines: pd.DataFrame
    shops: pd.DataFrame
    products: pd.DataFrame
    min_fill_rate: float
    gini: float
    undistributed_kg: float
    levels: int = 0  # LP rounds of the lexicographic max-min
    shared: tuple[str, ...] = ()  # products whose orders were shared
    status: str = "optimal"


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or v.mean() <= 0:
        return 0.0
    diff = np.abs(v[:, None] - v[None, :]).sum()
    return float(diff / (2 * v.size**2 * v.mean()))
