"""The only module importing OR-Tools: one day's pickup-and-delivery VRP, plain arrays in/out.

A node is a place the truck does something: a depot (start/end of shifts), a copy of the hub
per job (load a shop's goods, unload a farm's harvest) or a farm/shop stop. Every job is a
pickup→delivery pair on one vehicle, so loading again at the hub mid-shift (a second trip) and
collecting at farms on the way back come out of the same model.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from core.errors import SolverError

log = logging.getLogger(__name__)

COST_UNITS_PER_EUR = 10_000  # OR-Tools costs are integers: work in 1/100 cent
HORIZON_S = 24 * 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class DayVrp:
    """One day's routing problem on nodes (times in seconds after midnight)."""

    travel_s: np.ndarray  # (nodes, nodes) driving time
    dist_m: np.ndarray  # (nodes, nodes)
    service_s: np.ndarray  # (nodes,)
    kg: np.ndarray  # (nodes,) signed: + picked up, - dropped
    pallets_dec: np.ndarray  # (nodes,) signed, tenths of a pallet
    windows: list[tuple[tuple[int, int], ...]]  # per node; () = whole day
    pairs: list[tuple[int, int]]  # (pickup node, delivery node)
    allowed: list[list[int]]  # per pair: vehicles that may carry it
    penalty: int  # per unserved pair, cost units
    start_node: np.ndarray  # (vehicles,)
    end_node: np.ndarray
    cap_kg: np.ndarray
    cap_pallets_dec: np.ndarray
    shift_start_s: np.ndarray
    shift_end_s: np.ndarray
    max_span_s: np.ndarray
    break_s: np.ndarray
    break_after_s: np.ndarray  # longest stretch of work allowed without the break
    cost_per_m: np.ndarray  # cost units per metre
    cost_per_s: np.ndarray  # cost units per second of shift span


@dataclass(frozen=True, slots=True, kw_only=True)
class DayRoutesRaw:
    """Routes as node sequences with the schedule and loads the solver computed."""

    routes: list[list[int]]  # per vehicle, nodes from start to end depot
    start_s: list[list[int]]  # service start at each node
    load_kg: list[list[int]]  # load on board after each node
    load_pallets_dec: list[list[int]]
    breaks: list[tuple[int, int] | None]  # (start_s, duration_s) per vehicle
    served_pairs: set[int] = field(default_factory=set)
    objective: int = 0
    status: str = "optimal"


def solve_day(vrp: DayVrp, *, time_limit_s: float, max_solutions: int | None = None,
              guided: bool = True) -> DayRoutesRaw:
    """Solve one day's VRP with OR-Tools (parallel cheapest insertion, guided local search)."""
    num_nodes = len(vrp.service_s)
    num_vehicles = len(vrp.start_node)
    manager = pywrapcp.RoutingIndexManager(num_nodes, num_vehicles,
                                           [int(s) for s in vrp.start_node],
                                           [int(e) for e in vrp.end_node])
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    # OR-Tools' matrices are indexed by node; transit(i, j) = service at i + drive i -> j
    time_matrix = (vrp.service_s[:, None] + vrp.travel_s).astype(np.int64)
    time_cb = routing.RegisterTransitMatrix(time_matrix.tolist())
    for v in range(num_vehicles):
        cost = np.rint(vrp.dist_m * vrp.cost_per_m[v]).astype(np.int64)
        routing.SetArcCostEvaluatorOfVehicle(routing.RegisterTransitMatrix(cost.tolist()), v)

    routing.AddDimensionWithVehicleCapacity(
        time_cb, HORIZON_S, [HORIZON_S] * num_vehicles, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    kg_cb = routing.RegisterUnaryTransitVector([int(k) for k in vrp.kg])
    routing.AddDimensionWithVehicleCapacity(kg_cb, 0, [int(c) for c in vrp.cap_kg], True, "kg")
    pal_cb = routing.RegisterUnaryTransitVector([int(p) for p in vrp.pallets_dec])
    routing.AddDimensionWithVehicleCapacity(pal_cb, 0, [int(c) for c in vrp.cap_pallets_dec],
                                            True, "pallets")
    kg_dim = routing.GetDimensionOrDie("kg")
    pal_dim = routing.GetDimensionOrDie("pallets")

    depots = set(vrp.start_node.tolist()) | set(vrp.end_node.tolist())
    for node in range(num_nodes):
        if node in depots:
            continue
        windows = vrp.windows[node]
        if not windows:
            continue
        cumul = time_dim.CumulVar(manager.NodeToIndex(node))
        cumul.SetRange(int(windows[0][0]), int(windows[-1][1]))
        for (_, close), (open_, _) in itertools.pairwise(windows):
            if open_ > close + 1:
                cumul.RemoveInterval(int(close) + 1, int(open_) - 1)

    for v in range(num_vehicles):
        start, end = routing.Start(v), routing.End(v)
        time_dim.CumulVar(start).SetRange(int(vrp.shift_start_s[v]), int(vrp.shift_end_s[v]))
        time_dim.CumulVar(end).SetRange(int(vrp.shift_start_s[v]), int(vrp.shift_end_s[v]))
        time_dim.SetSpanUpperBoundForVehicle(int(vrp.max_span_s[v]), v)
        time_dim.SetSpanCostCoefficientForVehicle(round(vrp.cost_per_s[v]), v)
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(end))
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(start))

    for p, (pick, drop) in enumerate(vrp.pairs):
        pi, di = manager.NodeToIndex(pick), manager.NodeToIndex(drop)
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        solver.Add(time_dim.CumulVar(pi) <= time_dim.CumulVar(di))
        allowed = sorted(set(vrp.allowed[p]))
        if len(allowed) < num_vehicles:
            routing.VehicleVar(pi).SetValues([-1, *allowed])
            routing.VehicleVar(di).SetValues([-1, *allowed])
        routing.AddDisjunction([pi], vrp.penalty)
        routing.AddDisjunction([di], 0)

    node_visit = [int(vrp.service_s[manager.IndexToNode(i)]) for i in range(routing.Size())]
    breaks = []
    for v in range(num_vehicles):
        if vrp.break_s[v] <= 0:
            breaks.append(None)
            continue
        latest = max(int(vrp.shift_start_s[v]), int(vrp.shift_end_s[v] - vrp.break_s[v]))
        interval = solver.FixedDurationIntervalVar(int(vrp.shift_start_s[v]), latest,
                                                   int(vrp.break_s[v]), False, f"break_{v}")
        time_dim.SetBreakIntervalsOfVehicle([interval], v, node_visit)
        # no stretch of work longer than break_after_s without the break in between
        time_dim.SetBreakDistanceDurationOfVehicle(int(vrp.break_after_s[v]),
                                                   int(vrp.break_s[v]), v)
        breaks.append(interval)

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION)
    if guided:
        search.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    search.time_limit.FromMilliseconds(max(100, int(time_limit_s * 1000)))
    if max_solutions is not None:
        search.solution_limit = int(max_solutions)
    solution = routing.SolveWithParameters(search)
    if solution is None:
        raise SolverError(f"OR-Tools found no solution (status {routing.status()}); every stop "
                          "is optional, so this is a model bug: please report it")

    routes, starts, loads, pallets, served = [], [], [], [], set()
    pair_of = {pick: p for p, (pick, _) in enumerate(vrp.pairs)}
    for v in range(num_vehicles):
        index = routing.Start(v)
        nodes, times, kg_after, pal_after = [], [], [], []
        while True:
            node = manager.IndexToNode(index)
            nodes.append(node)
            times.append(solution.Value(time_dim.CumulVar(index)))
            kg_after.append(solution.Value(kg_dim.CumulVar(index)) + int(vrp.kg[node]))
            pal_after.append(solution.Value(pal_dim.CumulVar(index))
                             + int(vrp.pallets_dec[node]))
            if node in pair_of:
                served.add(pair_of[node])
            if routing.IsEnd(index):
                break
            index = solution.Value(routing.NextVar(index))
        routes.append(nodes)
        starts.append(times)
        loads.append(kg_after)
        pallets.append(pal_after)
    break_out: list[tuple[int, int] | None] = []
    for interval in breaks:
        if interval is None:
            break_out.append(None)
            continue
        container = solution.IntervalVarContainer()
        found = None
        for i in range(container.Size()):
            element = container.Element(i)
            if element.Var().Name() == interval.Name() and element.PerformedValue():
                found = (element.StartValue(), element.DurationValue())
        break_out.append(found)
    # RoutingModel status: 1 local optimum reached, 2 stopped by a limit, 7 proven optimal
    status = {1: "local_optimum", 2: "limit_reached", 7: "optimal"}.get(routing.status(),
                                                                      "feasible")
    log.info("day VRP: %d nodes, %d vehicles, %d/%d pairs served, objective %d",
             num_nodes, num_vehicles, len(served), len(vrp.pairs), solution.ObjectiveValue())
    return DayRoutesRaw(routes=routes, start_s=starts, load_kg=loads, load_pallets_dec=pallets,
                        breaks=break_out, served_pairs=served,
                        objective=solution.ObjectiveValue(), status=status)


def solve_cvrptw(dist: np.ndarray, demand: np.ndarray, capacity: int, num_vehicles: int, *,
                 tw: np.ndarray | None = None, service: np.ndarray | None = None,
                 time_limit_s: float, initial_routes: list[list[int]] | None = None,
                 max_solutions: int | None = None) -> list[list[int]] | None:
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
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [int(capacity)] * num_vehicles, True,
                                            "load")
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
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    search.time_limit.FromMilliseconds(max(50, int(time_limit_s * 1000)))
    if max_solutions is not None:
        search.solution_limit = int(max_solutions)
    if initial_routes:
        routing.CloseModelWithParameters(search)
        start = routing.ReadAssignmentFromRoutes([list(r) for r in initial_routes], True)
        solution = (routing.SolveFromAssignmentWithParameters(start, search)
                    if start is not None else routing.SolveWithParameters(search))
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
