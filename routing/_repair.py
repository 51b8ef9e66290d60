"""Repair pass: offer the visits a full day could not take to another day of their site."""

from __future__ import annotations

import dataclasses
import logging
import time

from core.schema import WEEKDAYS
from routing._context import Visit, WeekContext
from routing._day_model import DaySolution, day_budget, solve_day
from routing._days import DayChoice

log = logging.getLogger(__name__)


def move_left_visits(
    ctx: WeekContext, choice: DayChoice, solved: dict[str, DaySolution], *, deadline: float
) -> list[tuple[str, Visit]]:
    """Offer the visits a full day could not take to another day of the site, and keep it.

    Only sites whose days were chosen by :func:`routing._days.choose_days` move, to a day
    they could be served on, not next to their other visit days, the emptiest first (share
    of the fleet's kilos and hours used). A day is re-solved with its newcomers and the new
    routes are kept only when fewer kilos are left unserved overall. ``solved`` is updated
    in place; the (day, visit) pairs are returned with the moved visits' new days.
    """
    chosen, flexible = choice.chosen, choice.flexible
    capacity_kg = {day: float(ctx.working[day]["capacity_kg"].sum()) for day in WEEKDAYS}
    capacity_h = {day: float(ctx.working[day]["max_route_h"].sum()) for day in WEEKDAYS}
    used_kg = {d: sum(k["kg_moved"] for k in r.kpis) for d, r in solved.items()}
    used_h = {d: sum(k["hours"] for k in r.kpis) for d, r in solved.items()}
    days_of: dict[str, set[str]] = {}
    for day, visit in chosen:
        days_of.setdefault(visit.site_id, set()).add(day)

    offers: dict[str, list[tuple[str, Visit]]] = {}
    for origin, result in solved.items():
        for visit in result.left:
            if visit.site_id not in flexible:
                continue
            taken = days_of[visit.site_id]
            near = {
                WEEKDAYS[i + k]
                for d in taken - {origin}
                for k in (-1, 1)
                if 0 <= (i := WEEKDAYS.index(d)) + k < len(WEEKDAYS)
            }
            cand = [d for d in flexible[visit.site_id] if d not in taken and d not in near]
            if not cand:
                continue
            target = min(
                cand,
                key=lambda d: (
                    max(
                        (used_kg.get(d, 0.0) + visit.kg) / max(capacity_kg[d], 1.0),
                        used_h.get(d, 0.0) / max(capacity_h[d], 1.0),
                    ),
                    WEEKDAYS.index(d),
                ),
            )
            used_kg[target] = used_kg.get(target, 0.0) + visit.kg
            offers.setdefault(target, []).append((origin, visit))
            days_of[visit.site_id].add(target)

    moved: dict[int, str] = {}
    for n, (target, offered) in enumerate(
        sorted(offers.items(), key=lambda kv: WEEKDAYS.index(kv[0]))
    ):
        budget = max(0.2, day_budget(ctx.params, deadline - time.perf_counter(), len(offers) - n))
        # a visit whose own day, re-solved as a target, has since served it stays there; one
        # already moved away is not the target's any more (either would be served twice)
        offered = [(o, v) for o, v in offered if any(w is v for w in solved[o].left)]
        if not offered:
            continue
        own = [v for d, v in chosen if d == target and moved.get(id(v), target) == target]
        kept_all = len(own) == sum(1 for d, _ in chosen if d == target)
        visits = own + [v for _, v in offered]
        before = solved.get(target)
        before_kg = before.left_kg if before else 0.0
        # the newcomers come last, so the day's earlier routes are a valid start (unless a
        # visit of the day moved away: its node numbers shifted)
        after = solve_day(
            ctx,
            target,
            visits,
            budget_s=budget,
            movable=frozenset(flexible),
            initial_routes=before.node_routes if before and kept_all else None,
        )
        offered_kg = sum(v.kg for _, v in offered)
        log.info(
            "%s offered %d visit(s) (%.0f kg): left %.0f kg before, %.0f kg after, %s",
            target,
            len(offered),
            offered_kg,
            before_kg,
            after.left_kg,
            after.status,
        )
        if after.left_kg >= before_kg + offered_kg - 1e-6:
            continue  # the newcomers did not fit there either: they stay unserved where they were
        solved[target] = after
        for origin, visit in offered:
            moved[id(visit)] = target
            gone = solved[origin]
            solved[origin] = dataclasses.replace(
                gone,
                left=[v for v in gone.left if v is not visit],
                unserved=[u for u in gone.unserved if u["job_id"] != visit.job_id],
            )
        log.info("%s: took %d visit(s) another day could not", target, len(offered))
    return [(moved.get(id(v), d), v) for d, v in chosen]
