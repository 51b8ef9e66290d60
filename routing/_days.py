"""Day choice: spread each site's visits over the week before any route is built."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.schema import WEEKDAYS
from routing._context import Visit, WeekContext


@dataclass(frozen=True, slots=True, kw_only=True)
class DayChoice:
    """The week's visits by day, what cannot be scheduled, and which sites may still move.

    ``flexible`` maps each site whose days were chosen here (neither fixed nor pinned) to its
    candidate days: the repair pass (:mod:`routing._repair`) may move its visits among them.
    """

    chosen: list[tuple[str, Visit]]
    unserved: list[dict]
    flexible: dict[str, list[str]]

    def visits_on(self, day: str) -> list[Visit]:
        """The visits chosen for ``day``, in the order they were chosen."""
        return [v for d, v in self.chosen if d == day]

    @property
    def days(self) -> list[str]:
        """Weekdays with at least one visit, in week order."""
        return [d for d in WEEKDAYS if any(day == d for day, _ in self.chosen)]


def choose_days(ctx: WeekContext) -> DayChoice:
    """Spread each site's visits over the week: its frequency, not on consecutive days.

    A day is a candidate for a site when some vehicle working that day (refrigerated for cold
    goods, the pinned one if pinned) could reach it inside its opening hours and come back
    within its shift. The most constrained sites choose first; the seed breaks ties.
    """
    problem, pins = ctx.problem, ctx.pins
    jobs = problem.jobs
    load = dict.fromkeys(WEEKDAYS, 0.0)
    # balance the days by the share of each day's fleet capacity they use, not by raw kilos
    capacity = {day: float(ctx.working[day]["capacity_kg"].sum()) for day in WEEKDAYS}
    chosen: list[tuple[str, Visit]] = []
    unserved: list[dict] = []
    rng = np.random.default_rng(ctx.params.seed)
    site_name = dict(zip(problem.sites["site_id"], problem.sites["name"], strict=True))

    groups: list[tuple[str, pd.DataFrame]] = list(jobs.groupby("site_id", sort=True))
    # the most constrained sites first; the seed breaks ties among equals
    order = rng.permutation(len(groups))
    options = {site_id: _candidate_days(ctx, site_id, site_jobs) for site_id, site_jobs in groups}
    flexible: dict[str, list[str]] = {}

    def constrained(i: int) -> tuple[int, int]:
        site_id, site_jobs = groups[i]
        pin = pins.get(site_id)
        fixed = bool(site_jobs["fixed_days"].iloc[0]) or bool(pin and pin.day)
        return (0 if fixed else len(options[site_id]), i)

    groups = [groups[i] for i in sorted(order, key=constrained)]

    for site_id, site_jobs in groups:
        pin = pins.get(site_id)
        visits = int(site_jobs["visits"].max())
        fixed = site_jobs["fixed_days"].iloc[0]
        if pin and pin.day:
            fixed, visits = (pin.day,), 1
        if fixed:
            days = list(fixed)
        else:
            cand = options[site_id]
            if len(cand) < visits:
                missing = visits - len(cand)
                open_days = sum(problem.windows(site_id, d) != () for d in WEEKDAYS)
                reason = "closed" if open_days < visits else "time window"
                for _, job in site_jobs.iterrows():
                    unserved.append(
                        {
                            "day": "",
                            "site_id": site_id,
                            "name": site_name[site_id],
                            "job_id": job["job_id"],
                            "kind": job["kind"],
                            "kg": job["kg"] * missing / visits,
                            "reason": reason,
                        }
                    )
            days = _best_days(
                cand,
                min(visits, len(cand)),
                load,
                float(site_jobs["kg"].sum()) / max(visits, 1),
                capacity,
            )
        for day in days:
            load[day] += float(site_jobs["kg"].sum()) / visits
            for _, job in site_jobs.iterrows():
                chosen.append(
                    (
                        day,
                        Visit(
                            job_id=job["job_id"],
                            kind=job["kind"],
                            site_id=site_id,
                            src=job["from_site_id"],
                            dst=job["to_site_id"],
                            cold=bool(job["cold"]),
                            kg=job["kg"] / visits,
                            pallets=job["pallets"] / visits,
                            detail=job["detail"]
                            if visits == 1
                            else f"1/{visits} of: {job['detail']}",
                        ),
                    )
                )
        if not fixed:
            flexible[site_id] = options[site_id]
    return DayChoice(chosen=chosen, unserved=unserved, flexible=flexible)


def _candidate_days(ctx: WeekContext, site_id: str, site_jobs: pd.DataFrame) -> list[str]:
    """Days on which some allowed vehicle could serve the site alone."""
    pin = ctx.pins.get(site_id)
    cold = bool(site_jobs["cold"].any())
    job = site_jobs.iloc[0]
    probe = Visit(
        job_id=job["job_id"],
        kind=job["kind"],
        site_id=site_id,
        src=job["from_site_id"],
        dst=job["to_site_id"],
        cold=cold,
        kg=0.0,
        pallets=0.0,
        detail="",
    )
    days = []
    for day in WEEKDAYS:
        if ctx.problem.windows(site_id, day) == ():
            continue
        working = ctx.working[day]
        if pin and pin.vehicle_id:
            working = working.loc[working["vehicle_id"] == pin.vehicle_id]
        if cold:
            working = working.loc[working["refrigerated"]]
        if any(ctx.alone_feasible(day, probe, vehicle) for _, vehicle in working.iterrows()):
            days.append(day)
    return days


def _best_days(
    cand: Sequence[str], k: int, load: dict[str, float], kg: float, capacity: dict[str, float]
) -> list[str]:
    """The ``k`` days, fewest consecutive pairs first, that keep the fullest day emptiest."""
    if k == 0:
        return []
    index = {d: WEEKDAYS.index(d) for d in cand}

    def consecutive(combo: tuple[str, ...]) -> int:
        return sum(1 for a, b in itertools.pairwise(combo) if index[b] - index[a] == 1)

    def used(day: str, extra: float) -> float:
        return (load[day] + extra) / max(capacity[day], 1.0)

    best = min(
        itertools.combinations(cand, k),
        key=lambda c: (
            consecutive(c),
            max(used(d, kg) for d in c),
            sum(used(d, 0.0) for d in c),
            [index[d] for d in c],
        ),
    )
    return list(best)
