"""``solve_week``: choose each stop's days, then solve every day's routes with OR-Tools.

The steps, each in its module around one frozen :class:`routing._context.WeekContext`:

1. day choice (:mod:`routing._days`): each site's visits spread over the week;
2. day model (:mod:`routing._day_model`): each day's pickup-and-delivery VRP, solved until a
   local optimum (or ``RouteParams.day_solution_limit`` solutions; the time limit is a cap);
3. repair (:mod:`routing._repair`): what a full day could not take is offered to another day
   of its site, kept only when fewer kilos stay unserved;
4. output rows (:mod:`routing._rows`): stop rows, vehicle KPIs and the week's totals.
"""

from __future__ import annotations

import logging
import time

from routing._context import WeekContext
from routing._day_model import DaySolution, day_budget, solve_day
from routing._days import choose_days
from routing._repair import move_left_visits
from routing._rows import week_routes
from routing.model import RouteParams, WeekProblem, WeekRoutes
from routing.network import RoadNetwork

log = logging.getLogger(__name__)


def solve_week(
    problem: WeekProblem, params: RouteParams, *, network: RoadNetwork | None = None
) -> WeekRoutes:
    """Choose delivery days and solve every day's routes.

    Parameters
    ----------
    problem
        From :func:`routing.build_week_problem`.
    params
        Time limit (whole week, a cap), per-day solution limit, seed, penalties, pins.
    network
        Road network for travel times; None uses the great-circle fallback (flagged in
        every output as ``haversine_fallback``).
    """
    t0 = time.perf_counter()
    ctx = WeekContext.build(problem, params, network=network)
    choice = choose_days(ctx)
    days = choice.days
    solved: dict[str, DaySolution] = {}
    first_pass_s = params.time_limit_s * (1 - params.repair_share)
    for n_day, day in enumerate(days):
        visits = choice.visits_on(day)
        remaining = first_pass_s - (time.perf_counter() - t0)
        budget = max(0.2, day_budget(params, remaining, len(days) - n_day))
        t_day = time.perf_counter()
        solved[day] = solve_day(
            ctx, day, visits, budget_s=budget, movable=frozenset(choice.flexible)
        )
        log.info(
            "%s: %d visits, %d left by the fleet (%.0f kg), %s in %.1f s (budget %.1f s)",
            day,
            len(visits),
            len(solved[day].left),
            solved[day].left_kg,
            solved[day].status,
            time.perf_counter() - t_day,
            budget,
        )
    chosen = choice.chosen
    if params.repair_share > 0:
        chosen = move_left_visits(ctx, choice, solved, deadline=t0 + params.time_limit_s)
    return week_routes(ctx, chosen, choice.unserved, solved, runtime_s=time.perf_counter() - t0)
