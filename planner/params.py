"""Knobs of the season plan: solver settings, model rules and the objective's weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import InputError

SOLVERS = ("highs", "cbc")
STOP_RULES = ("work", "time")
#: Safety cap of the work rule, and the time limit of the time rule when none is given.
DEFAULT_CAP_S = 600.0
DEFAULT_TIME_RULE_S = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    """Weights of the objective (minimised), all in euros.

    The plan pays each farm the fair price for everything it harvests, so the purchase cost is
    real money; the other terms are penalties that rank what matters.

    Attributes
    ----------
    shortfall
        Per kg of demand left uncovered, as a multiple of the product's fair price: 4 means an
        uncovered kg of tomatoes (4 €/kg) costs 16 €. Larger than ``1 + waste`` so a kilo that
        can be sold is always grown when land, labour and budget allow.
    waste
        Per kg harvested but not served within its shelf life, as a multiple of the fair price
        (on top of the purchase cost it already carries).
    purchase
        Per euro paid to the farms at fair prices.
    transport_eur_per_kg_km
        Transport proxy: per kg harvested and km of road between the farm and the hub
        (great-circle distance × 1.3); 0.002 €/kg·km is a small van's cost per kg over the
        trip, so a farm 30 km away costs 6 cents a kilo more than one at the hub's door.
    floor
        Per euro of a farm's minimum fair revenue that the plan does not reach. Between
        ``1 + waste`` (so growing surplus only to pay a farm is not free) and ``shortfall``.
    concentration
        Per kg of a farm's supply of a major product above the resilience share, as a multiple
        of the fair price; below ``shortfall`` so concentration is accepted when the land of
        the other farms does not allow spreading.
    stability_eur_per_bed
        In a what-if solved from a base plan: per bed of the base (same farm, crop and
        planting week) the what-if gives up. Small against a bed's value (a few hundred
        euros) but above the solver's noise per bed, so a scenario moves beds only where the
        change pays for it; 0 lets the what-if re-plan freely.
    stability_spared_factor
        The stability term of a farm the change cannot reach (it grows none of the products
        the scenario touches: ``Scenario.affected_farms``) is this many times
        ``stability_eur_per_bed``: such a farm moves only when that pays clearly, not to shave
        the solver's last euros.
    producer_score_eur_per_kg
        The producer grid as a preference: per kg harvested, a farm's purchase cost is
        lowered by this much times its grid score (0 to 1). Off (0) by default.
    """

    shortfall: float = 4.0
    waste: float = 0.5
    purchase: float = 1.0
    transport_eur_per_kg_km: float = 0.002
    floor: float = 3.0
    concentration: float = 1.0
    stability_eur_per_bed: float = 50.0
    stability_spared_factor: float = 10.0
    producer_score_eur_per_kg: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "shortfall",
            "waste",
            "purchase",
            "transport_eur_per_kg_km",
            "floor",
            "concentration",
            "stability_eur_per_bed",
            "stability_spared_factor",
            "producer_score_eur_per_kg",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise InputError(f"weight {name!r} must be >= 0; got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class YieldShock:
    """Harvest of a crop (or every crop of a product) times ``factor`` in some season weeks."""

    factor: float
    weeks: tuple[int, int]  # first and last season week (1-based, inclusive)
    crop_id: str | None = None
    product_id: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanParams:
    """Settings of one planning run.

    Attributes
    ----------
    stop
        What ends the search: ``work`` (default) stops every step after a count of nodes
        and rounds that does not depend on the machine's speed, so the same inputs and seed
        give the same plan on a quiet or a busy machine; ``time`` gives each step a share of
        ``time_limit_s`` (more search on a fast machine, not repeatable).
    work
        Scales the work rule's counts (2 = twice the nodes and rounds of every step).
    seed
        Seed of the search's random choices (which products or farms each LNS round frees).
    time_limit_s, gap
        The time limit (under the work rule a safety cap only: a plan cut by it says so) and
        the relative gap to stop at (0.001 = 0.1 %).
    solver
        ``highs`` (highspy, default) or ``cbc`` (PuLP's bundled CBC).
    log
        Print the solver's log.
    horizon_weeks
        Weeks planned from the season start. 52 plans a steady-state year: a crop planted in
        autumn is harvested in the same plan's winter weeks (the calendar wraps around).
    rotation_share
        At most this share of a farm's land (per land type, counted in m²·weeks over the
        season) in one botanical family. Orchards are perennial and exempt.
    resilience_share
        A farm supplies at most this share of a major product's season harvest when at least
        two farms can grow it (a soft rule, see ``Weights.concentration``).
    major_share
        Major products are the largest ones making up this share of the season's crop demand
        (kg).
    budget_eur
        Optional cap on the season's purchases at fair prices (the caisse's spending plus
        subsidies); ``None`` means no cap.
    yield_shocks
        Harvest changes by week (drought, hail), usually from a what-if scenario.
    threads
        Solver threads.
    min_producer_score_pct
        The producer grid as eligibility: a farm scored below this (or short of an
        eliminatory criterion) gets no contract; ``None`` (default) plans every farm.
    """

    stop: str = "work"
    work: float = 1.0
    seed: int = 0
    time_limit_s: float = DEFAULT_CAP_S
    gap: float = 0.001
    solver: str = "highs"
    log: bool = False
    weights: Weights = field(default_factory=Weights)
    horizon_weeks: int = 52
    rotation_share: float = 0.5
    resilience_share: float = 0.6
    major_share: float = 0.8
    budget_eur: float | None = None
    yield_shocks: tuple[YieldShock, ...] = ()
    threads: int = 2
    min_producer_score_pct: float | None = None

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise InputError(f"solver must be one of {', '.join(SOLVERS)}; got {self.solver!r}")
        if self.stop not in STOP_RULES:
            raise InputError(f"stop must be one of {', '.join(STOP_RULES)}; got {self.stop!r}")
        if not 0 < self.work <= 1000:
            raise InputError(f"work must be in (0, 1000]; got {self.work!r}")
        if not self.time_limit_s > 0:
            raise InputError(f"time limit must be > 0 s; got {self.time_limit_s!r}")
        if not 0 <= self.gap < 1:
            raise InputError(f"gap must be in [0, 1) (0.001 = 0.1 %); got {self.gap!r}")
        if not 1 <= self.horizon_weeks <= 52:
            raise InputError(f"horizon must be 1 to 52 weeks; got {self.horizon_weeks!r}")
        for name in ("rotation_share", "resilience_share", "major_share"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise InputError(f"{name} must be in (0, 1]; got {value!r}")
        if self.budget_eur is not None and not self.budget_eur >= 0:
            raise InputError(f"budget must be >= 0 €; got {self.budget_eur!r}")
        if self.min_producer_score_pct is not None and not (
            0 <= self.min_producer_score_pct <= 100
        ):
            raise InputError(
                f"min_producer_score_pct must be 0 to 100; got {self.min_producer_score_pct!r}"
            )


def plan_params(*, time_limit_s: float | None = None, stop: str = "work", **kw: Any) -> PlanParams:
    """PlanParams from a door's options: without a time limit, the work rule's safety cap
    (``DEFAULT_CAP_S``) or the time rule's default (``DEFAULT_TIME_RULE_S``)."""
    if time_limit_s is None:
        time_limit_s = DEFAULT_CAP_S if stop == "work" else DEFAULT_TIME_RULE_S
    return PlanParams(time_limit_s=time_limit_s, stop=stop, **kw)
