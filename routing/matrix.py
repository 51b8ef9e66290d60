"""Travel matrices between points: over the roads (one Dijkstra per distinct source node on a
scipy sparse graph) or, without a network, great-circle distance × a circuity factor, flagged
``method="haversine_fallback"``; road paths for maps."""

from __future__ import annotations

import hashlib
import itertools
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import dijkstra

from core.errors import FallbackWarning, InputError
from core.geo import haversine_m
from routing.network import HAVERSINE, ROAD, RoadNetwork, SnapWarning


@dataclass(frozen=True, slots=True, kw_only=True)
class Matrix:
    """Travel distances and durations between points (row = from, column = to)."""

    dist_m: np.ndarray
    duration_s: np.ndarray
    snap_dist_m: np.ndarray
    method: str  # "road" or "haversine_fallback"
    #: points whose trips are great-circle estimates in a road matrix (``allow_fallback``)
    estimated: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.snap_dist_m)
        if self.dist_m.shape != (n, n) or self.duration_s.shape != (n, n):
            raise ValueError("matrix shapes do not match the number of points")
        if self.method not in (ROAD, HAVERSINE):
            raise ValueError(f"unknown matrix method {self.method!r}")


#: Speed by distance band for the fallback: (upper bound of the band in metres, km/h).
FALLBACK_BANDS = ((2_000, 25.0), (10_000, 40.0), (30_000, 60.0), (np.inf, 80.0))


def haversine_matrix(
    lats: ArrayLike,
    lons: ArrayLike,
    *,
    circuity: float = 1.3,
    bands: tuple[tuple[float, float], ...] = FALLBACK_BANDS,
) -> Matrix:
    """Great-circle distance × circuity, timed at a speed that grows with the distance.

    Each band's speed applies to the part of the trip inside the band (like a tariff), so
    durations grow with distance.
    """
    lats, lons = np.asarray(lats, float), np.asarray(lons, float)
    dist = haversine_m(lats[:, None], lons[:, None], lats[None, :], lons[None, :]) * circuity
    duration = np.zeros_like(dist)
    lower = 0.0
    for upper, kph in bands:
        part = np.clip(dist, lower, upper) - lower
        duration += part / (kph / 3.6)
        lower = upper
    return Matrix(
        dist_m=dist, duration_s=duration, snap_dist_m=np.zeros(len(lats)), method=HAVERSINE
    )


def _points_key(network_key: str, lats: ArrayLike, lons: ArrayLike) -> str:
    pts = np.round(np.column_stack([lats, lons]).astype(float), 6)
    return hashlib.sha256(network_key.encode() + pts.tobytes()).hexdigest()[:24]


def travel_matrix(
    network: RoadNetwork | None,
    lats: ArrayLike,
    lons: ArrayLike,
    *,
    max_snap_m: float = 500.0,
    cache_dir: Path | str | None = None,
    circuity: float = 1.3,
    names: Sequence[str] | None = None,
    max_far: int | None = None,
    allow_fallback: bool = False,
) -> Matrix:
    """Distance and duration matrices between points, over the roads when a network is given.

    Parameters
    ----------
    network
        The road network, or None for the great-circle fallback (warns ``FallbackWarning``).
    lats, lons
        Coordinates of the points (degrees).
    max_snap_m
        Warn (``SnapWarning``) about points further than this from the nearest road node.
    cache_dir
        Folder of the on-disk cache (keyed by network file hash and points); None disables it.
    circuity
        Road distance over great-circle distance for the fallback.
    names, max_far, allow_fallback
        The extract must cover the points: more than ``max_far`` of them (default: 2, or 5 %
        of the points) beyond ``max_snap_m`` from a road is an InputError naming them
        (``names``) and the extract's bounding box, unless ``allow_fallback``, which times
        those points' trips as great-circle × circuity instead (listed in ``estimated``).
    """
    lats, lons = np.asarray(lats, float), np.asarray(lons, float)
    if network is None:
        warnings.warn(
            "no road network: distances are great-circle × "
            f"{circuity} ({HAVERSINE}); pass an OSM file for road distances",
            FallbackWarning,
            stacklevel=2,
        )
        return haversine_matrix(lats, lons, circuity=circuity)
    nodes, snap = network.snap(lats, lons)
    far = np.flatnonzero(snap > max_snap_m)
    limit = max(2, len(snap) // 20) if max_far is None else max_far
    if len(far) > limit and not allow_fallback:
        raise InputError(_not_covered(network, far, snap, names, max_snap_m))
    estimate = len(far) > limit  # allow_fallback: those points' trips by great circle
    if not estimate:
        _warn_far(snap, max_snap_m)
    cache = None
    if cache_dir is not None and not estimate:
        cache = Path(cache_dir) / f"matrix_{_points_key(network.key, lats, lons)}.npz"
        if cache.exists():
            with np.load(cache) as z:
                return Matrix(
                    dist_m=z["dist_m"],
                    duration_s=z["duration_s"],
                    snap_dist_m=z["snap_dist_m"],
                    method=ROAD,
                )
    duration, dist = _road_matrices(network, nodes)
    # driving from the point to its node and back is not in the graph: add it at 20 km/h
    access_s = snap / (20 / 3.6)
    duration = duration + access_s[:, None] + access_s[None, :]
    dist = dist + snap[:, None] + snap[None, :]
    np.fill_diagonal(duration, 0.0)
    np.fill_diagonal(dist, 0.0)
    if estimate:
        # the far points' trips by great circle: their snapped roads are not theirs
        straight = haversine_matrix(lats, lons, circuity=circuity)
        for m, s in ((dist, straight.dist_m), (duration, straight.duration_s)):
            m[far, :] = s[far, :]
            m[:, far] = s[:, far]
        return Matrix(
            dist_m=dist,
            duration_s=duration,
            snap_dist_m=snap,
            method=ROAD,
            estimated=tuple(int(i) for i in far),
        )
    matrix = Matrix(dist_m=dist, duration_s=duration, snap_dist_m=snap, method=ROAD)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, dist_m=dist, duration_s=duration, snap_dist_m=snap)
        tmp.replace(cache)
    return matrix


def _not_covered(
    network: RoadNetwork,
    far: np.ndarray,
    snap: np.ndarray,
    names: Sequence[str] | None,
    max_snap_m: float,
) -> str:
    lon, lat = network.node_lon, network.node_lat
    box = f"{lon.min():.4f},{lat.min():.4f},{lon.max():.4f},{lat.max():.4f}"
    shown = ", ".join(
        f"{names[i] if names is not None else f'point {i}'} ({snap[i] / 1000:.1f} km)"
        for i in far[:10]
    )
    more = f" and {len(far) - 10} more" if len(far) > 10 else ""
    return (
        f"the road network {network.source} does not cover {len(far)} site(s): more than "
        f"{max_snap_m:.0f} m from any of its roads: {shown}{more}; its extent is "
        f"W,S,E,N = {box}. Use an extract that covers the territory, or --allow-fallback for "
        "straight-line estimates at those sites"
    )


def _warn_far(snap: np.ndarray, max_snap_m: float) -> None:
    far = np.flatnonzero(snap > max_snap_m)
    if len(far):
        warnings.warn(
            f"{len(far)} point(s) lie more than {max_snap_m:.0f} m from a road "
            f"(points {far[:10].tolist()}, up to {snap.max():.0f} m): check their "
            "coordinates or use a larger extract",
            SnapWarning,
            stacklevel=3,
        )


def _road_matrices(network: RoadNetwork, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fastest-path times and the lengths of those same paths between snapped nodes."""
    uniq, inv = np.unique(nodes, return_inverse=True)
    # one Dijkstra per distinct source node, all targets at once
    times, pred = dijkstra(network.time_csr, directed=True, indices=uniq, return_predecessors=True)
    lengths = _path_lengths(network, pred)
    return times[inv][:, nodes], lengths[inv][:, nodes]


def _path_lengths(network: RoadNetwork, pred: np.ndarray) -> np.ndarray:
    """Sum edge lengths along each shortest-path tree by pointer doubling (vectorised)."""
    k, n = pred.shape
    csr = network.dist_csr
    row_of = np.repeat(np.arange(n), np.diff(csr.indptr))
    keys = row_of * n + csr.indices  # csr keys are sorted (row-major, sorted indices)
    order = np.argsort(keys, kind="stable")
    keys, data = keys[order], csr.data[order]
    cols = np.broadcast_to(np.arange(n), (k, n))
    root = pred < 0
    parent = np.where(root, cols, pred)
    lookup = np.searchsorted(keys, (parent * n + cols).ravel()).clip(0, len(keys) - 1)
    step = np.where(root, 0.0, data[lookup].reshape(k, n))
    rows = np.arange(k)[:, None]
    # after j rounds, step = length of the last 2^j edges and parent = the 2^j-th ancestor
    for _ in range(int(np.ceil(np.log2(max(n, 2)))) + 1):
        step = step + step[rows, parent]
        parent = parent[rows, parent]
        if np.all(parent == parent[rows, parent]):
            break
    return step


def path_coords(
    network: RoadNetwork, from_latlon: tuple[float, float], to_latlon: tuple[float, float]
) -> list[tuple[float, float]]:
    """Return (lon, lat) points of the fastest road path, following edge geometries."""
    nodes, _ = network.snap([from_latlon[0], to_latlon[0]], [from_latlon[1], to_latlon[1]])
    src, dst = (int(network.node_ids[i]) for i in nodes)
    coords = [(from_latlon[1], from_latlon[0])]
    if src != dst:
        path = nx.shortest_path(network.graph, src, dst, weight="travel_time")
        for u, v in itertools.pairwise(path):
            edges = network.graph.get_edge_data(u, v)
            edge = min(edges.values(), key=lambda d: d.get("travel_time", np.inf))
            if "geometry" in edge:
                coords.extend(edge["geometry"].coords)
            else:
                g = network.graph.nodes
                coords.extend([(g[u]["x"], g[u]["y"]), (g[v]["x"], g[v]["y"])])
    coords.append((to_latlon[1], to_latlon[0]))
    return coords
