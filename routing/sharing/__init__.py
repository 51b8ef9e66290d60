"""Fair sharing of a week's short supply among the shops (max-min fill rate or proportional).

``share(ShareProblem, ShareParams) -> ShareResult``: no I/O; demand, planner and routing are
not imported (the pipeline builds the problem from the week's orders and supply).
"""

from routing.sharing.model import METHODS, ShareParams, ShareProblem, ShareResult, gini
from routing.sharing.solve import share, shared_products

__all__ = [
    "METHODS",
    "ShareParams",
    "ShareProblem",
    "ShareResult",
    "gini",
    "share",
    "shared_products",
]
