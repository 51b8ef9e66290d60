"""Plain VRP solving (CVRP, VRPTW): a portfolio of PyVRP and OR-Tools on one time budget.

PyVRP's iterated local search gets most of the budget on the problem classes it supports;
OR-Tools' guided local search then polishes its best solution with the rest, and the better
of the two is kept. ``VrpResult.engine`` says honestly which produced the routes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from benchmarks.vrp import _ortools, _pyvrp
from benchmarks.vrp.instances import VrpInstance, check_routes, route_cost

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class VrpResult:
    """Routes (customer indices, depot 0 implicit), their cost and who found them."""

    routes: list[list[int]]
    cost: float
    feasible: bool
    engine: str  # "pyvrp", "pyvrp+ortools" (OR-Tools improved PyVRP's routes) or "ortools"
    seconds: float

    @property
    def vehicles(self) -> int:
        """Number of routes used."""
        return sum(1 for r in self.routes if r)


def solve_vrp(
    instance: VrpInstance,
    *,
    time_limit_s: float,
    seed: int = 1,
    engine: str = "portfolio",
    pyvrp_share: float = 0.85,
    max_iterations: int | None = None,
    max_solutions: int | None = None,
) -> VrpResult:
    """Solve a CVRP/VRPTW instance within ``time_limit_s`` seconds in total.

    Parameters
    ----------
    instance
        From :mod:`benchmarks.vrp.instances`.
    time_limit_s
        Total budget, shared by the engines.
    seed
        Seed of PyVRP's search (OR-Tools' local search is deterministic).
    engine
        ``"portfolio"`` (PyVRP then OR-Tools polishing), ``"pyvrp"`` or ``"ortools"``.
    pyvrp_share
        Share of the budget given to PyVRP in the portfolio.
    max_iterations, max_solutions
        Count caps (PyVRP's iterations, OR-Tools' solutions): with both given, the result
        does not depend on the machine's speed as long as the time limit is not reached.
    """
    t0 = time.perf_counter()
    best_routes, best_engine = None, engine
    if engine in ("portfolio", "pyvrp"):
        share = 1.0 if engine == "pyvrp" else pyvrp_share
        best_routes, _ = _pyvrp.solve(
            instance, time_limit_s=time_limit_s * share, seed=seed, max_iterations=max_iterations
        )
        best_engine = "pyvrp"
    if engine in ("portfolio", "ortools"):
        remaining = time_limit_s - (time.perf_counter() - t0)
        num_vehicles = instance.num_vehicles or (
            math.ceil(instance.demand.sum() / instance.capacity)
            + 3
            + (len(best_routes) if best_routes else 0)
        )
        routes = _ortools.solve_cvrptw(
            instance.dist,
            instance.demand,
            instance.capacity,
            num_vehicles,
            tw=instance.tw,
            service=instance.service,
            time_limit_s=max(remaining, 0.05),
            initial_routes=best_routes,
            max_solutions=max_solutions,
        )
        if routes is not None and (
            best_routes is None
            or check_routes(instance, best_routes)
            or (
                not check_routes(instance, routes)
                and route_cost(instance, routes) < route_cost(instance, best_routes) - 1e-9
            )
        ):
            best_engine = "ortools" if best_routes is None else "pyvrp+ortools"
            best_routes = routes
    routes = best_routes or []
    return VrpResult(
        routes=routes,
        cost=route_cost(instance, routes),
        feasible=not check_routes(instance, routes),
        engine=best_engine,
        seconds=time.perf_counter() - t0,
    )
