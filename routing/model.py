"""Problem, parameter and result types of the week's routes."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import InputError
from core.schema import STORAGE_CLASSES, WEEKDAYS

#: Reasons a stop can be left unserved (``WeekRoutes.unserved["reason"]``).
REASONS = (
    "time window",  # no vehicle can reach the stop inside its opening hours within its shift
    "capacity",  # more than any compatible vehicle carries: cut into trips, not all fitted
    "compatibility",  # needs a refrigerated vehicle and none works that day
    "no vehicle that day",  # fixed/pinned to a day on which no (pinned) vehicle works
    "closed",  # fewer opening days than the requested deliveries per week
    "fleet full",  # each stop fits alone, but the day's fleet has no room or time left for it
)


class DayStatus(StrEnum):
    """How a day's search ended (``WeekRoutes.day_status``; the values are what kpis.json says).

    Routes repeat for a seed when every day ends by itself or by a count: ``LOCAL_OPTIMUM``,
    ``OPTIMAL``, ``SOLUTION_LIMIT`` or ``NO_VISITS``. ``LIMIT_REACHED`` (the time limit cut
    the descent) and ``TIME_LIMIT`` (guided search, which runs until a limit) depend on the
    machine's speed.
    """

    NO_VISITS = "empty"  # no visit of that day could be given to any vehicle
    LOCAL_OPTIMUM = "local_optimum"  # greedy descent stopped by itself
    OPTIMAL = "optimal"  # proven optimal
    SOLUTION_LIMIT = "solution_limit"  # stopped by ``RouteParams.day_solution_limit``
    LIMIT_REACHED = "limit_reached"  # the time limit cut the descent before a local optimum
    TIME_LIMIT = "time_limit"  # guided local search ran until the time limit
    FEASIBLE = "feasible"  # any other end with a solution

    @property
    def repeatable(self) -> bool:
        """True when the same input and seed give the same routes on any machine."""
        return self not in (DayStatus.LIMIT_REACHED, DayStatus.TIME_LIMIT, DayStatus.FEASIBLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """A staff decision: serve ``site_id`` with ``vehicle_id`` and/or on ``day``."""

    site_id: str
    vehicle_id: str | None = None
    day: str | None = None

    def __post_init__(self) -> None:
        if self.vehicle_id is None and self.day is None:
            raise InputError(f"pin of {self.site_id}: give a vehicle, a day or both")
        if self.day is not None and self.day not in WEEKDAYS:
            raise InputError(
                f"pin of {self.site_id}: day must be one of {', '.join(WEEKDAYS)}; got {self.day!r}"
            )

    @classmethod
    def parse(cls, text: str) -> Pin:
        """Parse ``SITE=VEHICLE``, ``SITE=VEHICLE@DAY`` or ``SITE=@DAY``."""
        site, sep, rest = text.partition("=")
        if not sep or not site.strip() or not rest.strip():
            raise InputError(f"--pin {text!r}: expected SITE=VEHICLE[@DAY] or SITE=@DAY")
        vehicle, _, day = rest.partition("@")
        return cls(
            site_id=site.strip(),
            vehicle_id=vehicle.strip() or None,
            day=day.strip().lower() or None,
        )


def _default_kg_per_pallet() -> dict[str, float]:
    # a mixed pallet of crates: vegetables stack lighter than tins and flour
    return {"ambient": 400.0, "fresh": 300.0, "chilled": 300.0, "frozen": 300.0}


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteParams:
    """Knobs of the week's routing (penalties, limits, rules)."""

    time_limit_s: float = 45.0  # for the whole week: a cap, the days usually stop sooner
    #: stop each day's search after this many solutions (the first one and each improvement
    #: of the local search count; OR-Tools' ``solution_limit``): a deterministic cap, where
    #: the time limit is a safety cap. None: the greedy descent's local optimum (or, guided,
    #: the time limit) ends each day's search
    day_solution_limit: int | None = None
    seed: int = 1
    #: False: each day's local search stops at a local optimum (same input + seed = same
    #: routes); True: guided local search until the time limit (often shorter routes, but
    #: they depend on the machine's speed)
    guided: bool = False
    #: share of the time limit kept to move stops a full day could not take to other days
    repair_share: float = 0.3
    kg_per_pallet: dict[str, float] = field(default_factory=_default_kg_per_pallet)
    #: storage classes that need a refrigerated vehicle (the others travel in any vehicle)
    refrigerated_classes: tuple[str, ...] = ("chilled", "frozen")
    drop_penalty_eur: float = 5_000.0  # cost of leaving one stop unserved
    #: share of that penalty for a stop whose day is free to change: when a day is full, its
    #: fixed-day stops are kept and the others are offered to another day
    movable_penalty_share: float = 0.5
    hub_handling_min: float = 5.0  # loading or unloading one stop's goods at the hub
    break_after_h: float = 4.5  # longest stretch of work without the driver's break (EU 561)
    farm_pickups_per_week: int = 1  # when the farm's deliveries_per_week is 0
    circuity: float = 1.3  # road / great-circle distance in the fallback
    max_snap_m: float = 500.0
    #: time the trips of sites the road extract does not cover by great circle (listed in the
    #: KPIs) instead of refusing the extract
    allow_fallback: bool = False
    cache_dir: Path | None = None
    pins: tuple[Pin, ...] = ()

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise InputError(f"time limit must be > 0 s; got {self.time_limit_s}")
        if self.day_solution_limit is not None and (
            isinstance(self.day_solution_limit, bool)
            or not isinstance(self.day_solution_limit, int)
            or self.day_solution_limit < 1
        ):
            raise InputError(
                f"day_solution_limit must be a whole number >= 1; got {self.day_solution_limit!r}"
            )
        if not 0 <= self.repair_share < 1:
            raise InputError(f"repair_share must be in [0, 1); got {self.repair_share}")
        if not 0 <= self.movable_penalty_share <= 1:
            raise InputError(
                f"movable_penalty_share must be in [0, 1]; got {self.movable_penalty_share}"
            )
        unknown = set(self.refrigerated_classes) - set(STORAGE_CLASSES)
        if unknown:
            raise InputError(f"refrigerated_classes: unknown storage classes {sorted(unknown)}")
        missing = set(STORAGE_CLASSES) - set(self.kg_per_pallet)
        if missing or any(v <= 0 for v in self.kg_per_pallet.values()):
            raise InputError(
                "kg_per_pallet needs a positive value for every storage class "
                f"({', '.join(STORAGE_CLASSES)})"
            )

    @classmethod
    def from_file(cls, path: Path | str, **overrides: Any) -> RouteParams:
        """Read knobs from a TOML file (keys = field names; ``pins`` and ``cache_dir`` are
        not read from files); ``overrides`` win over the file."""
        import tomllib

        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"{path}: file not found") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid TOML ({exc})") from exc
        return cls.from_mapping(raw, source=str(path), **overrides)

    @classmethod
    def from_mapping(cls, raw: dict, *, source: str = "params", **overrides: Any) -> RouteParams:
        """Knobs from a mapping of field names (a TOML file's or a JSON body's; ``pins`` and
        ``cache_dir`` are not read from it); ``overrides`` win over it. ``source`` names it
        in errors."""
        known = {f.name for f in fields(cls)} - {"pins", "cache_dir"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InputError(
                f"{source}: unknown key(s) {', '.join(unknown)}; expected some of "
                f"{', '.join(sorted(known))}"
            )
        values = {}
        for name, value in raw.items():
            default = getattr(cls(), name)
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise TypeError
                elif isinstance(default, int | float):
                    if isinstance(value, bool):
                        raise TypeError
                    value = type(default)(value)
                elif isinstance(default, tuple):
                    value = tuple(str(v) for v in value)
                elif isinstance(default, dict):
                    value = {str(k): float(v) for k, v in dict(value).items()}
            except (TypeError, ValueError):
                raise InputError(
                    f"{source}: {name} must be like {default!r}; got {value!r}"
                ) from None
            values[name] = value
        try:
            return cls(**{**values, **overrides})
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekProblem:
    """The week's goods to move, where, when, and the fleet.

    ``jobs`` has one row per thing to move in the week: ``job_id, kind`` (delivery | pickup |
    transfer), ``site_id`` (the stop: shop for deliveries and transfers, farm for pickups),
    ``from_site_id, to_site_id, cold`` (needs a refrigerated vehicle), ``kg, pallets,
    visits`` (how many days it is split over), ``fixed_days`` (tuple of weekdays, may be empty),
    ``detail`` (what to drop/pick up, per product), ``kg_by_class`` (its kilos per storage
    class, a dict).
    ``hours`` maps (site_id, weekday) to opening windows in minutes after midnight; a site
    without any row is open all day.
    """

    week_start: pd.Timestamp
    hub_id: str
    sites: pd.DataFrame
    vehicles: pd.DataFrame
    jobs: pd.DataFrame
    hours: dict[tuple[str, str], tuple[tuple[float, float], ...]]
    sites_with_hours: frozenset[str]

    def __post_init__(self) -> None:
        if self.hub_id not in set(self.sites["site_id"]):
            raise InputError(f"hub {self.hub_id!r} is not among the sites")
        if len(self.jobs) and (self.jobs["kg"] < 0).any():
            raise InputError("jobs: kg must be >= 0")

    def windows(self, site_id: str, day: str) -> tuple[tuple[float, float], ...] | None:
        """Opening windows (minutes) of a site on a weekday; None = open all day; () = closed."""
        if site_id not in self.sites_with_hours:
            return None
        return self.hours.get((site_id, day), ())

    def date_of(self, day: str) -> pd.Timestamp:
        """Calendar date of a weekday of this week."""
        return self.week_start + pd.Timedelta(days=WEEKDAYS.index(day))


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekRoutes:
    """The week's routes, what could not be served and why, and the KPIs.

    ``stops``: one row per stop of a route (``day, date, vehicle_id, seq, site_id, name, kind,
    action, arrival_min, departure_min, drop_kg, pick_kg, load_kg, load_pallets, detail,
    contact, notes, lat, lon, dist_m, drive_s``); ``load_*`` is on board after the stop.
    ``unserved``: ``day, site_id, name, job_id, kind, kg, reason``.
    ``vehicle_kpis``: ``day, vehicle_id, organisation, km, hours, cost_eur, co2_kg, stops,
    kg_moved, max_load_pct``. ``schedule``: ``job_id, site_id, day`` (chosen delivery days).
    """

    stops: pd.DataFrame
    unserved: pd.DataFrame
    vehicle_kpis: pd.DataFrame
    schedule: pd.DataFrame
    kpis: dict
    method: str
    engine: str
    day_status: dict[str, DayStatus] = field(default_factory=dict)
