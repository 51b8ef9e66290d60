"""How much each step of the plan search may do: a work budget (default) or shares of time.

With the work budget every step stops after a count (HiGHS nodes, search rounds) that does
not depend on the machine's speed, so the same inputs and seed give the same plan on a quiet
or a busy machine; the time limit is then only a safety cap, and a plan cut by it says so.
With the time rule (``PlanParams.stop = "time"``) each step gets a share of the time limit:
more search on a fast machine, not repeatable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum


class StopRule(StrEnum):
    """What ends the search (``PlanParams.stop``)."""

    WORK = "work"  # counts of nodes and rounds: reproducible
    TIME = "time"  # shares of the time limit: uses the time asked for, not reproducible


class StoppedBy(StrEnum):
    """What ended a solve, as reported with the plan."""

    GAP = "gap"  # the plan is proved within the gap tolerance
    WORK_BUDGET = "work_budget"  # every step used its count
    TIME_LIMIT = "time_limit"  # the time rule: the time asked for is used up
    TIME_CAP = "time_cap"  # the work rule cut short by the safety cap: not reproducible


#: Counts of the work budget at ``work = 1`` (measured on the sample and metro instances:
#: benchmarks/README.md, planner).
WORK_COUNTS = {
    "block_nodes": 400,  # each product MILP of the Lagrangian's first pass
    "block_nodes_more": 4000,  # the products left open, second pass (bound only)
    "rens_nodes": 200,
    "lns_nodes": 100,  # each LNS sub-MIP
    "restricted_rounds": 48,  # LNS rounds in the box of the Lagrangian's bed counts
    "full_rounds": 0,  # LNS rounds on the full model after those
    "final_rounds": 0,  # LNS rounds at the end of the search
    "small_nodes": 20000,  # branch and cut of small models
    "medium_nodes": 300,  # branch and cut of medium models (no Lagrangian)
    "large_rounds": 60,  # LNS rounds of large models (no branch and cut)
}


@dataclass(slots=True, kw_only=True)
class SolveBudget:
    """The stopping rule of one solve and its clock.

    ``limits(seconds, count)`` gives a HiGHS step its time limit and options: under the work
    rule the count (``mip_max_nodes``) and whatever is left of the cap; under the time rule
    the seconds given. ``rounds(count)`` is the number of search rounds (``None``: until the
    deadline). ``capped`` records that the safety cap cut a step.
    """

    rule: StopRule
    limit_s: float
    work: float = 1.0
    started: float = field(default_factory=time.perf_counter)
    capped: bool = False

    @property
    def deterministic(self) -> bool:
        return self.rule is StopRule.WORK

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float:
        """Seconds left before the time limit (the cap under the work rule)."""
        return self.limit_s - self.elapsed()

    def count(self, name: str) -> int:
        base = WORK_COUNTS[name]
        return max(1, round(base * self.work)) if base > 0 else 0

    def limits(self, seconds: float, count: str) -> tuple[float, dict]:
        """Time limit and HiGHS options of a step worth ``seconds`` (time rule) or
        ``WORK_COUNTS[count]`` nodes (work rule)."""
        if self.deterministic:
            return max(self.left(), 0.1), {"mip_max_nodes": self.count(count)}
        return max(seconds, 0.1), {}

    def rounds(self, count: str) -> int | None:
        return self.count(count) if self.deterministic else None

    def deadline(self, share: float) -> float:
        """Clock time a time-rule loop stops at (the cap under the work rule)."""
        return self.started + (self.limit_s if self.deterministic else share * self.limit_s)

    def note(self, status: str) -> None:
        """Record a step's HiGHS status: a time stop under the work rule is the cap's."""
        if self.deterministic and status == "time_limit":
            self.capped = True

    def for_worker(self) -> SolveBudget:
        """This budget for a worker process (the clock restarts there with what is left)."""
        return SolveBudget(rule=self.rule, limit_s=max(self.left(), 0.1), work=self.work)
