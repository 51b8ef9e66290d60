"""A door's options → the pipeline's settings: ``DemandSettings``, ``PlanParams``, ``RouteParams``.

Every door (``vivres plan``, ``vivres routes``, ``vivres demo``, the HTTP jobs) builds its
settings here, from the options its user gave: an option left out (``None``) takes the default
of the settings type, so defaults live once, in ``DemandSettings``, ``planner.PlanParams``
and ``routing.RouteParams``. A new door (the web pages) calls the same three functions.

The planner and routing packages are imported when a builder runs, not when this module is
imported: the command line stays quick to start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError

#: Weeks ``vivres demand forecast`` and a demand job may forecast.
MAX_FORECAST_WEEKS = 260


@dataclass(frozen=True, slots=True, kw_only=True)
class DemandSettings:
    """Settings of the demand stage: how far the season forecast reaches and its interval.

    Attributes
    ----------
    horizon_weeks
        Weeks forecast from the week after the order history (a plan forecasts as many weeks
        as it plans).
    level
        Prediction-interval level of ``low`` and ``high``, in percent.
    """

    horizon_weeks: int = 52
    level: int = 80

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_weeks <= MAX_FORECAST_WEEKS:
            raise InputError(
                f"horizon_weeks must be 1 to {MAX_FORECAST_WEEKS}; got {self.horizon_weeks!r}"
            )
        if not 1 <= self.level <= 99:
            raise InputError(f"level must be 1 to 99 (percent); got {self.level!r}")


def output_lang(value: str | None = None):
    """The language of the files people read (``core.csvio.Lang``), from a door's option:
    the CLI's ``--lang`` and an HTTP job's ``lang`` (``None``: French, the default)."""
    from core.csvio import DEFAULT_LANG, check_lang

    try:
        return check_lang(DEFAULT_LANG if value is None else value)
    except ValueError as err:
        raise InputError(str(err)) from None


def lang_of(options: Mapping[str, Any]):
    """The output language of a job's options (a job stored before ``lang`` existed: French)."""
    return output_lang(options.get("lang"))


def _given(**options: Any) -> dict[str, Any]:
    return {name: value for name, value in options.items() if value is not None}


def demand_settings(
    *, horizon_weeks: int | None = None, level: int | None = None
) -> DemandSettings:
    """``DemandSettings`` from a door's options (``None``: the default)."""
    return DemandSettings(**_given(horizon_weeks=horizon_weeks, level=level))


def plan_params(
    *,
    time_limit_s: float | None = None,
    stop: str | None = None,
    work: float | None = None,
    seed: int | None = None,
    gap: float | None = None,
    solver: str | None = None,
    log: bool | None = None,
    horizon_weeks: int | None = None,
    budget_eur: float | None = None,
    stability_eur_per_bed: float | None = None,
    min_producer_score_pct: float | None = None,
    producer_score_eur_per_kg: float | None = None,
):
    """``planner.PlanParams`` from a door's options (``None``: the default).

    Without a time limit, the work rule's safety cap or the time rule's limit
    (``planner.params.DEFAULT_CAP_S`` / ``DEFAULT_TIME_RULE_S``). ``horizon_weeks`` sizes the
    plan; the demand forecast it plans against covers as many weeks (``plan_demand``).
    """
    import dataclasses

    import planner

    params = planner.plan_params(
        **_given(
            time_limit_s=time_limit_s,
            stop=stop,
            work=work,
            seed=seed,
            gap=gap,
            solver=solver,
            log=log,
            horizon_weeks=horizon_weeks,
            budget_eur=budget_eur,
            min_producer_score_pct=min_producer_score_pct,
        )
    )
    weights = _given(
        stability_eur_per_bed=stability_eur_per_bed,
        producer_score_eur_per_kg=producer_score_eur_per_kg,
    )
    if weights:
        params = dataclasses.replace(params, weights=dataclasses.replace(params.weights, **weights))
    return params


def route_params(
    *,
    time_limit_s: float | None = None,
    seed: int | None = None,
    guided: bool | None = None,
    pins: Iterable[str] = (),
    knobs: Mapping[str, Any] | None = None,
    knobs_file: Path | None = None,
    cache_dir: Path | None = None,
    day_solution_limit: int | None = None,
    allow_fallback: bool | None = None,
):
    """``routing.RouteParams`` from a door's options (``None``: the default).

    ``knobs`` (a JSON body's) or ``knobs_file`` (TOML) set any other field of RouteParams;
    ``time_limit_s``, ``seed``, ``guided`` and ``day_solution_limit`` (a count: each day's
    search stops after that many solutions; HTTP sets it in ``knobs``) win over them. ``pins`` are
    ``SITE=VEHICLE[@DAY]`` or ``SITE=@DAY`` texts.
    """
    import routing

    chosen = _given(
        time_limit_s=time_limit_s,
        seed=seed,
        guided=guided,
        cache_dir=cache_dir,
        day_solution_limit=day_solution_limit,
        allow_fallback=allow_fallback,
    )
    chosen["pins"] = tuple(routing.Pin.parse(text) for text in pins)
    if knobs_file is not None and knobs:
        raise InputError("give route knobs as a file or as a mapping, not both")
    if knobs_file is not None:
        return routing.RouteParams.from_file(knobs_file, **chosen)
    if knobs:
        return routing.RouteParams.from_mapping(dict(knobs), source="knobs", **chosen)
    return routing.RouteParams(**chosen)


#: Keys of a plan job's stored options that are PlanParams options.
PLAN_OPTIONS = (
    "time_limit_s",
    "stop",
    "work",
    "seed",
    "gap",
    "solver",
    "horizon_weeks",
    "budget_eur",
    "stability_eur_per_bed",
    "min_producer_score_pct",
    "producer_score_eur_per_kg",
)
#: Keys of a route job's stored options that are RouteParams options.
ROUTE_OPTIONS = ("time_limit_s", "seed", "guided", "pins", "knobs")


def plan_params_of(options: Mapping[str, Any]):
    """``PlanParams`` of a plan job's options (an HTTP ``PlanRequest``, as stored)."""
    return plan_params(**{name: options.get(name) for name in PLAN_OPTIONS})


def route_params_of(options: Mapping[str, Any]):
    """``RouteParams`` of a route job's options (an HTTP ``RouteRequest``, as stored)."""
    return route_params(
        time_limit_s=options.get("time_limit_s"),
        seed=options.get("seed"),
        guided=options.get("guided"),
        pins=options.get("pins") or (),
        knobs=options.get("knobs"),
    )


def demand_settings_of(options: Mapping[str, Any]) -> DemandSettings:
    """``DemandSettings`` of a demand job's options (an HTTP ``DemandRequest``, as stored)."""
    return demand_settings(horizon_weeks=options.get("horizon_weeks"), level=options.get("level"))


def mutual_params(
    *,
    vehicle_day_eur: float | None = None,
    outsourced_eur_per_kg: float | None = None,
    workers: int | None = None,
    num_orders: int | None = None,
    seed: int | None = None,
):
    """``api.mutual.MutualParams`` from a door's options (``None``: the default)."""
    from api.mutual import MutualParams

    return MutualParams(
        **_given(
            vehicle_day_eur=vehicle_day_eur,
            outsourced_eur_per_kg=outsourced_eur_per_kg,
            workers=workers,
            num_orders=num_orders,
            seed=seed,
        )
    )


def share_params(*, method: str | None = None):
    """``sharing.ShareParams`` from a door's options (``None``: the default, max-min)."""
    from routing import sharing

    return sharing.ShareParams(**_given(method=method))
