"""Shared domain types of vivres: the territory's tables, their validation and the error tree.

``core`` imports none of demand, planner, routing or api.
"""

from core.errors import FallbackWarning, InputError, RowError, SolverError, VivresError
from core.territory import SAMPLE_DIR, Territory, load_territory

__all__ = [
    "SAMPLE_DIR",
    "FallbackWarning",
    "InputError",
    "RowError",
    "SolverError",
    "Territory",
    "VivresError",
    "load_territory",
]
