"""The only module importing PyVRP: plain CVRP / VRPTW instances (one depot, one fleet)."""

from __future__ import annotations

import numpy as np

from benchmarks.vrp.instances import VrpInstance


def problem_data(instance: VrpInstance):
    """Build PyVRP ``ProblemData`` from our instance arrays (same integer matrix)."""
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType

    n = len(instance.coords)
    horizon = int(instance.tw[0, 1]) if instance.tw is not None else np.iinfo(np.int64).max
    early = int(instance.tw[0, 0]) if instance.tw is not None else 0
    locations = [Location(float(x), float(y)) for x, y in instance.coords]
    clients = []
    for i in range(1, n):
        kwargs = {}
        if instance.tw is not None:
            kwargs = {
                "tw_early": int(instance.tw[i, 0]),
                "tw_late": int(instance.tw[i, 1]),
                "service_duration": int(instance.service[i]),
            }
        clients.append(Client(location=i, delivery=[int(instance.demand[i])], **kwargs))
    num = instance.num_vehicles or n - 1
    vehicle = VehicleType(
        num_available=num, capacity=[instance.capacity], tw_early=early, tw_late=horizon
    )
    duration = instance.dist if instance.tw is not None else np.zeros_like(instance.dist)
    return ProblemData(
        locations,
        clients,
        [Depot(location=0, tw_early=early, tw_late=horizon)],
        [vehicle],
        [instance.dist],
        [duration],
    )


def routes_of(solution) -> list[list[int]]:
    """Customer indices (depot = 0) of each non-empty route of a PyVRP solution."""
    # client activities are numbered among clients; our indices put the single depot first
    return [[a.idx + 1 for a in route if a.is_client()] for route in solution.routes()]


def solve(
    instance: VrpInstance, *, time_limit_s: float, seed: int, max_iterations: int | None = None
) -> tuple[list[list[int]], bool]:
    """Solve with PyVRP's iterated local search; return (routes, feasible)."""
    from pyvrp import solve as pyvrp_solve
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    stop = MaxRuntime(time_limit_s)
    if max_iterations is not None:
        stop = MultipleCriteria([MaxIterations(max_iterations), stop])
    result = pyvrp_solve(problem_data(instance), stop=stop, seed=seed, display=False)
    return routes_of(result.best), bool(result.is_feasible())
