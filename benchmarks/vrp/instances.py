"""Benchmark VRP instances: CVRPLIB ``.vrp``/``.sol`` and Solomon ``.txt``/``.sol``.

Costs follow the instance family's convention (``../shared/benchmarks/vrp/README.md``): CVRP
arcs rounded to the nearest integer (TSPLIB nint); Solomon arcs truncated to one decimal
(``floor(10 d) / 10``, also the travel time), matrices held as integers in tenths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError


@dataclass(frozen=True, slots=True, kw_only=True)
class VrpInstance:
    """A capacitated VRP, with time windows when ``kind == "vrptw"``; node 0 is the depot.

    ``dist`` is the integer arc cost in units of ``1 / scale`` (also the travel time for
    VRPTW); ``tw`` and ``service`` use the same units.
    """

    name: str
    kind: str  # "cvrp" | "vrptw"
    coords: np.ndarray
    demand: np.ndarray
    capacity: int
    num_vehicles: int | None  # None: as many as needed
    dist: np.ndarray
    scale: int
    tw: np.ndarray | None = None  # (n, 2)
    service: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.coords)
        if self.dist.shape != (n, n) or len(self.demand) != n:
            raise ValueError(f"{self.name}: inconsistent instance sizes")
        if self.kind not in ("cvrp", "vrptw"):
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")

    @property
    def num_clients(self) -> int:
        """Number of customers (the depot excluded)."""
        return len(self.coords) - 1


def _euclid(coords: np.ndarray) -> np.ndarray:
    diff = coords[:, None, :] - coords[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def read_cvrp(path: Path | str) -> VrpInstance:
    """Read a CVRPLIB ``.vrp`` (EUC_2D; arcs rounded to the nearest integer)."""
    import vrplib

    path = Path(path)
    try:
        raw = vrplib.read_instance(str(path))
    except Exception as exc:  # vrplib raises bare ValueErrors/KeyErrors on bad files
        raise InputError(f"{path}: not a readable CVRPLIB instance ({exc})") from exc
    coords = np.asarray(raw["node_coord"], float)
    depots = np.atleast_1d(raw.get("depot", [0]))
    if len(depots) != 1 or int(depots[0]) != 0:
        raise InputError(f"{path}: only single-depot instances with node 1 as depot are read")
    # TSPLIB nint: floor(d + 0.5), not numpy's round-half-to-even
    dist = np.floor(_euclid(coords) + 0.5).astype(np.int64)
    return VrpInstance(
        name=path.stem,
        kind="cvrp",
        coords=coords,
        demand=np.asarray(raw["demand"], np.int64),
        capacity=int(raw["capacity"]),
        num_vehicles=None,
        dist=dist,
        scale=1,
    )


def read_solomon(path: Path | str) -> VrpInstance:
    """Read a Solomon ``.txt`` (arcs and times truncated to one decimal, held in tenths)."""
    import vrplib

    path = Path(path)
    try:
        raw = vrplib.read_instance(str(path), instance_format="solomon")
    except Exception as exc:
        raise InputError(f"{path}: not a readable Solomon instance ({exc})") from exc
    coords = np.asarray(raw["node_coord"], float)
    # + 1e-9: 10 * d computed in floating point can land just below an exact integer
    dist = np.floor(10 * _euclid(coords) + 1e-9).astype(np.int64)
    return VrpInstance(
        name=path.stem,
        kind="vrptw",
        coords=coords,
        demand=np.asarray(raw["demand"], np.int64),
        capacity=int(raw["capacity"]),
        num_vehicles=int(raw["vehicles"]),
        dist=dist,
        scale=10,
        tw=(np.asarray(raw["time_window"], np.int64) * 10),
        service=(np.asarray(raw["service_time"], np.int64) * 10),
    )


def read_instance(path: Path | str) -> VrpInstance:
    """Read ``.vrp`` as CVRPLIB and ``.txt`` as Solomon."""
    path = Path(path)
    if path.suffix == ".vrp":
        return read_cvrp(path)
    if path.suffix == ".txt":
        return read_solomon(path)
    raise InputError(f"{path}: expected a .vrp (CVRPLIB) or .txt (Solomon) file")


def read_solution(path: Path | str) -> tuple[list[list[int]], float | None]:
    """Read a CVRPLIB-style ``.sol``: routes of customer indices (depot = 0) and the cost."""
    import vrplib

    raw = vrplib.read_solution(str(path))
    cost = raw.get("cost")
    return [list(map(int, r)) for r in raw["routes"]], None if cost is None else float(cost)


def route_cost(instance: VrpInstance, routes: list[list[int]]) -> float:
    """Total cost of routes (customer indices, depot 0 implicit) in the instance's units."""
    total = 0
    for route in routes:
        if not route:
            continue
        path = [0, *route, 0]
        total += int(instance.dist[path[:-1], path[1:]].sum())
    return total / instance.scale


def check_routes(instance: VrpInstance, routes: list[list[int]]) -> list[str]:
    """Return the violated rules (empty when feasible): coverage, capacity, time windows."""
    problems = []
    visited = sorted(c for r in routes for c in r)
    if visited != list(range(1, instance.num_clients + 1)):
        problems.append("not every customer visited exactly once")
    used = [r for r in routes if r]
    if instance.num_vehicles is not None and len(used) > instance.num_vehicles:
        problems.append(f"{len(used)} routes > {instance.num_vehicles} vehicles")
    for k, route in enumerate(used):
        if instance.demand[route].sum() > instance.capacity:
            problems.append(f"route {k}: capacity exceeded")
        if instance.tw is None:
            continue
        t, prev = int(instance.tw[0, 0]), 0
        for c in [*route, 0]:
            t = max(t + int(instance.dist[prev, c]), int(instance.tw[c, 0]))
            if t > instance.tw[c, 1]:
                problems.append(f"route {k}: late at {c}")
                break
            t += int(instance.service[c])
            prev = c
    return problems


def _looks_solomon(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = [next(fh, "") for _ in range(5)]
    return any("VEHICLE" in line.upper() for line in head)


def find_instances(folder: Path | str) -> list[tuple[Path, Path | None]]:
    """Instance files under ``folder`` with their distance-convention ``.sol`` (or None).

    Solomon ``*.sintef.sol`` files use another convention (unrounded, fewest vehicles first)
    and are not used.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--instances {folder}: not a folder")
    found = []
    for path in sorted([*folder.rglob("*.vrp"), *folder.rglob("*.txt")]):
        if path.suffix == ".txt" and not _looks_solomon(path):
            continue  # README, Li & Lim PDPTW files...
        sol = path.with_suffix(".sol")
        found.append((path, sol if sol.exists() else None))
    return found
