"""Shared-truck routes from the hub over real roads.

Pipeline entry points: :func:`load_network` (optional), :func:`build_week_problem`,
:func:`solve_week`, :func:`write_route_outputs`.
"""

from routing.matrix import Matrix, haversine_matrix, travel_matrix
from routing.model import REASONS, DayStatus, Pin, RouteParams, WeekProblem, WeekRoutes
from routing.network import (
    RoadNetwork,
    SnapWarning,
    load_network,
    network_from_bbox,
    network_from_file,
    network_from_place,
)
from routing.outputs import write_route_outputs
from routing.problem import build_week_problem
from routing.solve import solve_week

__all__ = [
    "REASONS",
    "DayStatus",
    "Matrix",
    "Pin",
    "RoadNetwork",
    "RouteParams",
    "SnapWarning",
    "WeekProblem",
    "WeekRoutes",
    "build_week_problem",
    "haversine_matrix",
    "load_network",
    "network_from_bbox",
    "network_from_file",
    "network_from_place",
    "solve_week",
    "travel_matrix",
    "write_route_outputs",
]
