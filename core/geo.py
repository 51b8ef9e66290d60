"""Great-circle distance: the one haversine of vivres (numpy, broadcasting).

Routing's fallback matrix, the planner's farm-to-hub kilometres and the sample generator all
measure distances here. Each keeps the sphere radius its figures were made with (``radius_m``
/ ``radius_km``), so moving them here changed no number.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: Mean Earth radius (IUGG), in metres.
EARTH_RADIUS_M = 6_371_008.8


def _half_angle(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Half the central angle (radians) between points given in degrees."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, float)) - np.radians(np.asarray(lon1, float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    # rounding can push a just above 1 for antipodal points
    return np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def haversine_m(
    lat1: ArrayLike,
    lon1: ArrayLike,
    lat2: ArrayLike,
    lon2: ArrayLike,
    *,
    radius_m: float = EARTH_RADIUS_M,
) -> np.ndarray:
    """Return the great-circle distance in metres between points given in degrees.

    The arguments broadcast like numpy arrays: ``haversine_m(lat[:, None], lon[:, None],
    lat[None, :], lon[None, :])`` is the full matrix.
    """
    return 2 * radius_m * _half_angle(lat1, lon1, lat2, lon2)


def haversine_km(
    lat1: ArrayLike,
    lon1: ArrayLike,
    lat2: ArrayLike,
    lon2: ArrayLike,
    *,
    radius_km: float = EARTH_RADIUS_M / 1000,
) -> np.ndarray:
    """Return the great-circle distance in kilometres (see :func:`haversine_m`)."""
    return 2 * radius_km * _half_angle(lat1, lon1, lat2, lon2)
