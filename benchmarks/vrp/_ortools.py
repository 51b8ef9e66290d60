"""The benchmark's OR-Tools: a plain single-depot CVRP(TW) with guided local search.

The week's routes use :mod:`routing._ortools` (pickup-and-delivery pairs, several depots,
breaks); this model is only for the CVRPLIB / Solomon instances of ``vivres bench routing``.
"""

from __future__ import annotations

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2


def solve_cvrptw(
    dist: np.ndarray,
    demand: np.ndarray,
    capacity: int,
    num_vehicles: int,
    *,
    tw: np.ndarray | None = None,
    service: np.ndarray | None = None,
    time_limit_s: float,
    initial_routes: list[list[int]] | None = None,
    max_solutions: int | None = None,
) -> list[list[int]] | None:
    """Plain single-depot CVRP(TW) (node 0 = depot) with guided local search.

    Returns routes of customer indices, or None when no feasible solution was found.
    ``initial_routes`` (e.g. another solver's) start the search instead of a construction.
    """
    n = len(dist)
    manager = pywrapcp.RoutingIndexManager(n, num_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix(np.asarray(dist, np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    demand_cb = routing.RegisterUnaryTransitVector([int(d) for d in demand])
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [int(capacity)] * num_vehicles, True, "load"
    )
    if tw is not None:
        svc = np.zeros(n, np.int64) if service is None else np.asarray(service, np.int64)
        time_cb = routing.RegisterTransitMatrix((svc[:, None] + dist).astype(np.int64).tolist())
        horizon = int(tw[0, 1])
        routing.AddDimension(time_cb, horizon, horizon, False, "time")
        time_dim = routing.GetDimensionOrDie("time")
        for i in range(1, n):
            time_dim.CumulVar(manager.NodeToIndex(i)).SetRange(int(tw[i, 0]), int(tw[i, 1]))
        for v in range(num_vehicles):
            time_dim.CumulVar(routing.Start(v)).SetRange(int(tw[0, 0]), horizon)
            time_dim.CumulVar(routing.End(v)).SetRange(int(tw[0, 0]), horizon)
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.time_limit.FromMilliseconds(max(50, int(time_limit_s * 1000)))
    if max_solutions is not None:
        search.solution_limit = int(max_solutions)
    if initial_routes:
        routing.CloseModelWithParameters(search)
        start = routing.ReadAssignmentFromRoutes([list(r) for r in initial_routes], True)
        solution = (
            routing.SolveFromAssignmentWithParameters(start, search)
            if start is not None
            else routing.SolveWithParameters(search)
        )
    else:
        solution = routing.SolveWithParameters(search)
    if solution is None:
        return None
    routes = []
    for v in range(num_vehicles):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes
