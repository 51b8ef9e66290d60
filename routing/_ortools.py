"""The only module importing OR-Tools: one day's pickup-and-delivery VRP, plain arrays in/out.

A node is a place the truck does something: a depot (start/end of shifts), a copy of the hub
per job (load a shop's goods, unload a farm's harvest) or a farm/shop stop. Every job is a
pickup→delivery pair on one vehicle, so loading again at the hub mid-shift (a second trip) and
collecting at farms on the way back come out of the same model.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2
from ortools.util import optional_boolean_pb2

from core.errors import SolverError
from routing import _breaks
from routing.model import DayStatus

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
    penalty: np.ndarray  # (pairs,) cost of leaving each pair unserved, cost units
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
    status: DayStatus = DayStatus.OPTIMAL


def _day_model(vrp: DayVrp) -> tuple[pywrapcp.RoutingIndexManager, pywrapcp.RoutingModel]:
    """Build the OR-Tools model, each shift shortened by its driver's break."""
    num_nodes = len(vrp.service_s)
    num_vehicles = len(vrp.start_node)
    manager = pywrapcp.RoutingIndexManager(
        num_nodes, num_vehicles, [int(s) for s in vrp.start_node], [int(e) for e in vrp.end_node]
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    # OR-Tools' matrices are indexed by node; transit(i, j) = service at i + drive i -> j
    time_matrix = (vrp.service_s[:, None] + vrp.travel_s).astype(np.int64)
    time_cb = routing.RegisterTransitMatrix(time_matrix.tolist())
    for v in range(num_vehicles):
        cost = np.rint(vrp.dist_m * vrp.cost_per_m[v]).astype(np.int64)
        routing.SetArcCostEvaluatorOfVehicle(routing.RegisterTransitMatrix(cost.tolist()), v)

    routing.AddDimensionWithVehicleCapacity(
        time_cb, HORIZON_S, [HORIZON_S] * num_vehicles, False, "time"
    )
    time_dim = routing.GetDimensionOrDie("time")
    kg_cb = routing.RegisterUnaryTransitVector([int(k) for k in vrp.kg])
    routing.AddDimensionWithVehicleCapacity(kg_cb, 0, [int(c) for c in vrp.cap_kg], True, "kg")
    pal_cb = routing.RegisterUnaryTransitVector([int(p) for p in vrp.pallets_dec])
    routing.AddDimensionWithVehicleCapacity(
        pal_cb, 0, [int(c) for c in vrp.cap_pallets_dec], True, "pallets"
    )

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
        reserve = int(vrp.break_s[v])
        shift_end = max(int(vrp.shift_start_s[v]), int(vrp.shift_end_s[v]) - reserve)
        time_dim.CumulVar(start).SetRange(int(vrp.shift_start_s[v]), shift_end)
        time_dim.CumulVar(end).SetRange(int(vrp.shift_start_s[v]), shift_end)
        time_dim.SetSpanUpperBoundForVehicle(max(0, int(vrp.max_span_s[v]) - reserve), v)
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
        routing.AddDisjunction([pi], int(vrp.penalty[p]))
        routing.AddDisjunction([di], 0)
    return manager, routing


def _search(
    time_limit_s: float, *, guided: bool, solution_limit: int | None
) -> routing_parameters_pb2.RoutingSearchParameters:
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    # greedy descent stops by itself at a local optimum: the same routes on every run
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        if guided
        else routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    )
    if not guided:
        # the insertion LNS operators halve the descent's speed on the sample's busiest day
        # (34 s instead of 68 s for week 1 at load 4) for the same stops served (+2 % cost)
        ops = search.local_search_operators
        for name in _SLOW_LNS:
            setattr(ops, name, optional_boolean_pb2.BOOL_FALSE)
    search.time_limit.FromMilliseconds(max(100, int(time_limit_s * 1000)))
    if solution_limit is not None:
        search.solution_limit = int(solution_limit)
    return search


_SLOW_LNS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
)


_STATUS = routing_enums_pb2.RoutingSearchStatus


def solve_day(
    vrp: DayVrp,
    *,
    time_limit_s: float,
    guided: bool = False,
    solution_limit: int | None = None,
    initial_routes: list[list[int]] | None = None,
) -> DayRoutesRaw:
    """Solve one day's VRP with OR-Tools (cheapest insertion, then local search).

    Each shift is shortened by its driver's break, which :mod:`routing._breaks` then places
    in the route (OR-Tools' own break intervals make the search crawl). ``guided=False``
    runs a greedy descent to a local optimum, which stops by itself: same input, same routes
    (unless the time limit cuts it, reported as ``DayStatus.LIMIT_REACHED``). ``guided=True``
    spends the whole budget in guided local search: often better routes, but they depend on
    the machine's speed. ``solution_limit`` stops either search after that many solutions
    (the first and each improvement; ``DayStatus.SOLUTION_LIMIT``): a count, so the same
    routes on any machine. ``initial_routes`` (nodes per vehicle, depots left out; e.g. the
    routes of a smaller version of the same day) start the search.
    """
    manager, routing = _day_model(vrp)
    search = _search(time_limit_s, guided=guided, solution_limit=solution_limit)
    found = [0]

    def count() -> None:
        found[0] += 1

    routing.AddAtSolutionCallback(count)
    start = None
    if initial_routes is not None:
        routing.CloseModelWithParameters(search)
        start = routing.ReadAssignmentFromRoutes([list(r) for r in initial_routes], True)
        if start is None:
            log.info("day VRP: the initial routes are not feasible; searching from scratch")
    t0 = time.perf_counter()
    solution = (
        routing.SolveFromAssignmentWithParameters(start, search)
        if start is not None
        else routing.SolveWithParameters(search)
    )
    elapsed_s = time.perf_counter() - t0
    if solution is None:
        raise SolverError(
            f"OR-Tools found no solution (status {routing.status()}); "
            "every stop is optional, so this is a model bug: please report it"
        )
    time_dim = routing.GetDimensionOrDie("time")
    routes, starts = [], []
    for v in range(num_vehicles := routing.vehicles()):
        index = routing.Start(v)
        nodes, times = [], []
        while True:
            nodes.append(manager.IndexToNode(index))
            times.append(solution.Value(time_dim.CumulVar(index)))
            if routing.IsEnd(index):
                break
            index = solution.Value(routing.NextVar(index))
        routes.append(nodes)
        starts.append(times)
    # OR-Tools says "a limit stopped the search", not which: the count when it was reached
    # before the time limit (the callback may count a solution twice when the search starts
    # from given routes, so when in doubt the day is said cut by the clock)
    counted_out = (
        solution_limit is not None
        and found[0] >= solution_limit
        and elapsed_s < 0.95 * time_limit_s
    )
    status = _day_status(routing.status(), guided=guided, counted_out=counted_out)
    raw = _with_breaks(vrp, routes, starts, status=status, objective=solution.ObjectiveValue())
    log.info(
        "day VRP: %d nodes, %d vehicles, %d/%d pairs served, objective %d, %d solutions, %s",
        len(vrp.service_s),
        num_vehicles,
        len(raw.served_pairs),
        len(vrp.pairs),
        raw.objective,
        found[0],
        status,
    )
    return raw


def _day_status(code: int, *, guided: bool, counted_out: bool) -> DayStatus:
    """Name how the search ended from OR-Tools' ``RoutingSearchStatus``."""
    if code == _STATUS.ROUTING_SUCCESS:
        # greedy descent: at a local optimum; guided search only ends at a limit
        if not guided:
            return DayStatus.LOCAL_OPTIMUM
        return DayStatus.SOLUTION_LIMIT if counted_out else DayStatus.TIME_LIMIT
    if code == _STATUS.ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED:
        return DayStatus.SOLUTION_LIMIT if counted_out else DayStatus.LIMIT_REACHED
    if code == _STATUS.ROUTING_OPTIMAL:
        return DayStatus.OPTIMAL
    return DayStatus.FEASIBLE


def _with_breaks(
    vrp: DayVrp,
    routes: list[list[int]],
    starts: list[list[int]],
    *,
    status: DayStatus,
    objective: int,
) -> DayRoutesRaw:
    """Place each driver's break; a route that cannot take it loses its last jobs."""
    pair_of = {n: p for p, pair in enumerate(vrp.pairs) for n in pair}
    out_routes, out_starts, out_breaks, served = [], [], [], set()
    for v, (nodes, times) in enumerate(zip(routes, starts, strict=True)):
        nodes = list(nodes)
        timed = _breaks.place_break(vrp, v, nodes, times)
        while timed is None:
            # the job finishing last goes back to the unserved (its pickup and delivery)
            pick, drop = vrp.pairs[pair_of[nodes[-2]]]
            nodes = [n for n in nodes if n not in (pick, drop)]
            retimed = _breaks.schedule(vrp, v, nodes, times[0])
            timed = _breaks.place_break(vrp, v, nodes, retimed) if retimed is not None else None
            if len(nodes) == 2:
                timed = _breaks.TimedRoute(start_s=[times[0], times[0]], break_=None)
        served |= {pair_of[n] for n in nodes if n in pair_of}
        out_routes.append(nodes)
        out_starts.append(timed.start_s)
        out_breaks.append(timed.break_)
    return DayRoutesRaw(
        routes=out_routes,
        start_s=out_starts,
        load_kg=[_breaks.loads_along(vrp.kg, r) for r in out_routes],
        load_pallets_dec=[_breaks.loads_along(vrp.pallets_dec, r) for r in out_routes],
        breaks=out_breaks,
        served_pairs=served,
        objective=objective,
        status=status,
    )
