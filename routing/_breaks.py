"""The driver's break, placed in a solved route (plain arrays, no solver).

OR-Tools' break intervals make its insertion heuristics and local search crawl (whole days
were left unserved), so the day is solved with each shift shortened by its break, and the
break is then placed here: in the gap before the stop where it delays the route least,
such that no stretch of work exceeds ``break_after_s``; stops after it are re-timed and
still meet their opening hours, the shift end and the route's maximum duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from routing._ortools import DayVrp


@dataclass(frozen=True, slots=True, kw_only=True)
class TimedRoute:
    """Service start of each node (depots included) and the break, if one was needed."""

    start_s: list[int]
    break_: tuple[int, int] | None  # (start_s, duration_s)


def _service_start(arrival: int, windows: tuple[tuple[int, int], ...]) -> int | None:
    if not windows:
        return arrival
    for open_, close in windows:
        if arrival <= close:
            return max(arrival, open_)
    return None


def schedule(
    vrp: DayVrp, vehicle: int, nodes: list[int], depart_s: int, *, break_before: int | None = None
) -> list[int] | None:
    """Service start times along ``nodes`` (start depot first), or None when infeasible.

    ``break_before`` = k puts the break in the gap before ``nodes[k]`` (taken while waiting
    when there is a wait, so it may cost nothing).
    """
    times = [int(depart_s)]
    for k in range(1, len(nodes)):
        prev, node = nodes[k - 1], nodes[k]
        arrival = times[-1] + int(vrp.service_s[prev]) + int(vrp.travel_s[prev, node])
        if k == break_before:
            arrival += int(vrp.break_s[vehicle])
        start = _service_start(arrival, vrp.windows[node] if k < len(nodes) - 1 else ())
        if start is None:
            return None
        times.append(start)
    if times[-1] > vrp.shift_end_s[vehicle] or times[-1] - times[0] > vrp.max_span_s[vehicle]:
        return None
    return times


def place_break(
    vrp: DayVrp, vehicle: int, nodes: list[int], start_s: list[int]
) -> TimedRoute | None:
    """Re-time a route (depots included) with its driver's break; None if it cannot take it.

    A route whose whole duration fits in ``break_after_s`` needs no break. Otherwise every
    gap is tried, from the solver's departure time and from the start of the shift, and the
    one ending the route earliest wins.
    """
    brk, limit = int(vrp.break_s[vehicle]), int(vrp.break_after_s[vehicle])
    if brk <= 0 or len(nodes) <= 2 or start_s[-1] - start_s[0] <= limit:
        return TimedRoute(start_s=list(start_s), break_=None)
    best: TimedRoute | None = None
    for depart in dict.fromkeys((int(start_s[0]), int(vrp.shift_start_s[vehicle]))):
        for k in range(1, len(nodes)):
            times = schedule(vrp, vehicle, nodes, depart, break_before=k)
            if times is None:
                continue
            # the break ends when the truck must drive on to be on time (a wait absorbs it)
            drive = int(vrp.travel_s[nodes[k - 1], nodes[k]])
            leave = times[k - 1] + int(vrp.service_s[nodes[k - 1]])
            break_start = max(leave, times[k] - brk - drive)
            if break_start - times[0] > limit or times[-1] - (break_start + brk) > limit:
                continue
            if best is None or times[-1] < best.start_s[-1]:
                best = TimedRoute(start_s=times, break_=(break_start, brk))
    return best


def loads_along(values: np.ndarray, nodes: list[int]) -> list[int]:
    """Load on board after each node (signed quantities picked up / dropped)."""
    return np.cumsum([int(values[n]) for n in nodes]).astype(int).tolist()
