"""What a plan solve returns: its status and its tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from planner.budget import StoppedBy


class PlanStatus(StrEnum):
    """How the solve ended (a plan always exists: shortfall and floor gaps are variables)."""

    OPTIMAL = "optimal"  # proved within the gap tolerance
    FEASIBLE = "feasible"  # stopped (time limit) with a plan, gap above tolerance
    NO_PLAN = "no_plan"  # stopped before any plan was found


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanResult:
    """A solved season plan.

    Attributes
    ----------
    plan
        One row per planting: farm, crop, planting week, beds, area, expected kg and revenue.
    harvest
        ``week_start, producer_id, site_id, product_id, storage_class, kg``: the weekly farm
        supply (the routing stage turns it into pickups).
    coverage
        Per week and product: demand, served, short, harvested, wasted, stock and coverage.
    farms
        Per farm: revenue at fair prices, its floor, the floor gap and why, land and labour use.
    shortfalls
        Runs of consecutive short weeks per product with kilos and the reason.
    explanation
        Plain sentences: what cannot be covered and why, which floors are not met and why.
    """

    status: PlanStatus
    objective: float | None
    best_bound: float | None
    gap: float | None
    runtime_s: float
    plan: pd.DataFrame
    harvest: pd.DataFrame
    coverage: pd.DataFrame
    farms: pd.DataFrame
    shortfalls: pd.DataFrame
    explanation: tuple[str, ...]
    solver: str = "highs"
    message: str = ""
    objective_terms: dict = field(default_factory=dict)
    values: np.ndarray | None = None
    stopped_by: StoppedBy | None = None
    max_row_violation: float = 0.0
