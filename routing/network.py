"""Road network: a drivable graph from a local OSM file or a download, snapping, matrices.

One builder (:func:`_prepare`) is fed by two inputs: :func:`network_from_file` (``.osm``,
``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``, filtered with pyosmium to drivable ways) and
:func:`network_from_place` / :func:`network_from_bbox` (osmnx download, cached on disk). Travel
matrices run one Dijkstra per distinct source node on a scipy sparse graph. Without a network,
:func:`haversine_matrix` gives great-circle distances × a circuity factor, flagged
``method="haversine_fallback"``.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from core.errors import FallbackWarning, InputError, VivresWarning
from core.geo import EARTH_RADIUS_M, haversine_m

log = logging.getLogger(__name__)

ROAD = "road"
HAVERSINE = "haversine_fallback"

#: Typical French free-flow speeds (km/h) for roads whose ``maxspeed`` is missing or symbolic.
FR_SPEEDS_KPH = {
    "motorway": 120,
    "motorway_link": 70,
    "trunk": 100,
    "trunk_link": 60,
    "primary": 70,
    "primary_link": 50,
    "secondary": 60,
    "secondary_link": 40,
    "tertiary": 50,
    "tertiary_link": 40,
    "unclassified": 40,
    "residential": 30,
    "living_street": 15,
    "road": 30,
}
FALLBACK_SPEED_KPH = 40.0
#: French symbolic speed limits (``maxspeed=FR:urban``...), which osmnx cannot parse.
FR_SYMBOLIC_KPH = {
    "fr:urban": 50,
    "fr:rural": 80,
    "fr:motorway": 130,
    "fr:trunk": 110,
    "fr:zone30": 30,
    "fr:zone20": 20,
    "fr:walk": 6,
}

# Mirrors osmnx 2.x's Overpass "drive" filter: graph_from_xml keeps every way, so filter first.
_EXCLUDED_HWY = re.compile(
    "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
    "footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|"
    "services|steps|track"
)
_EXCLUDED_SERVICE = re.compile("alley|driveway|emergency_access|parking|parking_aisle|private")
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml", ".bz2", ".gz")


class SnapWarning(VivresWarning):
    """A site lies far from any drivable road of the network."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RoadNetwork:
    """A strongly connected drivable graph and the arrays matrices are computed on.

    ``time_csr`` (seconds) and ``dist_csr`` (metres) share one structure: for parallel edges the
    fastest one is kept, with its own length, so a distance always belongs to the fastest path.
    """

    graph: nx.MultiDiGraph
    node_ids: np.ndarray
    node_lat: np.ndarray
    node_lon: np.ndarray
    time_csr: csr_matrix
    dist_csr: csr_matrix
    source: str
    key: str  # hash of the file (or of the download query), for matrix caches
    _tree: object = field(default=None, repr=False)

    @property
    def num_nodes(self) -> int:
        """Number of nodes of the graph."""
        return len(self.node_ids)

    def snap(self, lats: ArrayLike, lons: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Return (node index, snap distance in metres) of the nearest node to each point."""
        pts = np.radians(np.column_stack([np.asarray(lats, float), np.asarray(lons, float)]))
        dist, idx = self._tree.query(pts, k=1)
        return idx[:, 0].astype(np.int64), dist[:, 0] * EARTH_RADIUS_M


@dataclass(frozen=True, slots=True, kw_only=True)
class Matrix:
    """Travel distances and durations between points (row = from, column = to)."""

    dist_m: np.ndarray
    duration_s: np.ndarray
    snap_dist_m: np.ndarray
    method: str  # "road" or "haversine_fallback"

    def __post_init__(self) -> None:
        n = len(self.snap_dist_m)
        if self.dist_m.shape != (n, n) or self.duration_s.shape != (n, n):
            raise ValueError("matrix shapes do not match the number of points")
        if self.method not in (ROAD, HAVERSINE):
            raise ValueError(f"unknown matrix method {self.method!r}")


# --------------------------------------------------------------------------- building


def _is_drive_way(tags: Mapping[str, str]) -> bool:
    hwy = tags.get("highway")
    if hwy is None or tags.get("area") == "yes" or _EXCLUDED_HWY.search(hwy):
        return False
    if "private" in tags.get("access", ""):
        return False
    if "no" in tags.get("motor_vehicle", "") or "no" in tags.get("motorcar", ""):
        return False
    return not _EXCLUDED_SERVICE.search(tags.get("service", ""))


def _drive_elements(src: Path) -> list[dict]:
    """Stream ``src``: its drivable ways and their nodes, as Overpass JSON elements.

    Ways that refer to nodes absent from the file (bbox-clipped exports) are dropped: osmnx
    raises "Some edges missing nodes" on them.
    """
    import osmium
    from osmium.filter import IdFilter, KeyFilter

    ways: dict[int, dict] = {}
    # the C++ filters skip most of the file before any Python code sees it
    for way in osmium.FileProcessor(str(src), osmium.osm.WAY).with_filter(KeyFilter("highway")):
        if _is_drive_way(way.tags):
            ways[way.id] = {
                "type": "way",
                "id": way.id,
                "nodes": [n.ref for n in way.nodes],
                "tags": dict(way.tags),
            }
    wanted = {r for way in ways.values() for r in way["nodes"]}
    nodes = [
        {
            "type": "node",
            "id": node.id,
            "lat": node.location.lat,
            "lon": node.location.lon,
            "tags": dict(node.tags),
        }
        for node in osmium.FileProcessor(str(src), osmium.osm.NODE).with_filter(IdFilter(wanted))
    ]
    present = {node["id"] for node in nodes}
    keep = [way for way in ways.values() if all(r in present for r in way["nodes"])]
    if len(keep) < len(ways):
        log.info(
            "%s: dropped %d clipped ways (nodes missing from the file)",
            src.name,
            len(ways) - len(keep),
        )
    return [*nodes, *keep]


def _write_osm_xml(elements: list[dict], dst: Path) -> None:
    """Write Overpass JSON elements as OSM XML (what ``osmnx.graph_from_xml`` reads)."""
    from xml.sax.saxutils import quoteattr

    def tags(el: dict) -> str:
        return "".join(
            f"<tag k={quoteattr(str(k))} v={quoteattr(str(v))}/>" for k, v in el["tags"].items()
        )

    with open(dst, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n')
        for el in elements:
            if el["type"] == "node":
                fh.write(
                    f'<node id="{el["id"]}" lat="{el["lat"]}" lon="{el["lon"]}">{tags(el)}</node>\n'
                )
            else:
                refs = "".join(f'<nd ref="{r}"/>' for r in el["nodes"])
                fh.write(f'<way id="{el["id"]}">{refs}{tags(el)}</way>\n')
        fh.write("</osm>\n")


def _graph_from_elements(elements: list[dict], *, via_xml: bool = False) -> nx.MultiDiGraph:
    """osmnx's graph of Overpass JSON elements, simplified, every component kept.

    This is what ``osmnx.graph_from_xml`` does after parsing its file, without the round
    trip through XML; should osmnx rename its internal builder, the XML route is taken.
    """
    import osmnx as ox

    with warnings.catch_warnings():
        # osmnx warns about its own defaults (e.g. no CRS projection); nothing to act on
        warnings.simplefilter("ignore", UserWarning)
        create = getattr(getattr(ox, "graph", None), "_create_graph", None)
        if create is not None and not via_xml:
            return ox.simplify_graph(create([{"elements": elements}], bidirectional=False))
        with tempfile.TemporaryDirectory() as tmp:
            xml = Path(tmp) / "drive.osm"
            _write_osm_xml(elements, xml)
            return ox.graph_from_xml(xml, simplify=True, retain_all=True)


def file_hash(path: Path) -> str:
    """Return the sha256 of a file (the cache key of everything computed from it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def network_from_file(path: Path | str) -> RoadNetwork:
    """Build the drivable network of a local OpenStreetMap extract.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file, e.g. a regional extract
        cropped to the territory.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"OSM file {path} not found")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise InputError(f"OSM file {path}: expected .osm, .osm.bz2, .osm.gz or .osm.pbf")
    try:
        elements = _drive_elements(path)
    except RuntimeError as exc:  # osmium's parse errors
        raise InputError(f"OSM file {path}: cannot be read ({exc})") from exc
    if not any(el["type"] == "way" for el in elements):
        raise InputError(f"OSM file {path}: no drivable road in the file")
    return _prepare(_graph_from_elements(elements), source=str(path), key=file_hash(path))


def network_from_place(place: str, *, cache_dir: Path | str) -> RoadNetwork:
    """Download (once; cached as GraphML in ``cache_dir``) the drive network of a place."""
    import osmnx as ox

    return _download(
        f"place:{place}", lambda: ox.graph_from_place(place, network_type="drive"), cache_dir
    )


def network_from_bbox(
    west: float, south: float, east: float, north: float, *, cache_dir: Path | str
) -> RoadNetwork:
    """Download (once; cached as GraphML in ``cache_dir``) the drive network of a bbox."""
    import osmnx as ox

    bbox = (west, south, east, north)
    return _download(
        f"bbox:{bbox}", lambda: ox.graph_from_bbox(bbox, network_type="drive"), cache_dir
    )


def _download(
    query: str, fetch: Callable[[], nx.MultiDiGraph], cache_dir: Path | str
) -> RoadNetwork:
    import osmnx as ox

    key = hashlib.sha256(query.encode()).hexdigest()
    cache = Path(cache_dir) / f"graph_{key[:16]}.graphml"
    if cache.exists():
        graph = ox.load_graphml(cache)
    else:
        try:
            graph = fetch()
        except Exception as exc:  # osmnx raises many kinds (HTTP, empty response...)
            raise InputError(f"cannot download the road network for {query}: {exc}") from exc
        cache.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(graph, cache)
    return _prepare(graph, source=query, key=key)


def load_network(source: Path | str, *, cache_dir: Path | str | None = None) -> RoadNetwork:
    """Build a network from an OSM file path, or ``place:NAME`` / ``bbox:W,S,E,N`` (download)."""
    text = str(source)
    cache = Path(cache_dir) if cache_dir else Path.home() / ".cache" / "vivres"
    if text.startswith("place:"):
        return network_from_place(text.removeprefix("place:"), cache_dir=cache)
    if text.startswith("bbox:"):
        try:
            w, s, e, n = (float(v) for v in text.removeprefix("bbox:").split(","))
        except ValueError as exc:
            raise InputError(f"--osm {text}: expected bbox:WEST,SOUTH,EAST,NORTH") from exc
        return network_from_bbox(w, s, e, n, cache_dir=cache)
    return network_from_file(Path(source))


def _parse_symbolic_speeds(graph: nx.MultiDiGraph) -> None:
    """Turn French symbolic limits (``FR:urban``) into km/h, which osmnx would discard."""
    for *_, data in graph.edges(data=True):
        value = data.get("maxspeed")
        values = value if isinstance(value, list) else [value]
        mapped = [FR_SYMBOLIC_KPH.get(str(v).strip().lower(), v) for v in values if v is not None]
        if mapped:
            data["maxspeed"] = [str(v) for v in mapped] if len(mapped) > 1 else str(mapped[0])


def _prepare(graph: nx.MultiDiGraph, *, source: str, key: str) -> RoadNetwork:
    """Largest strongly connected component, speeds, travel times, sparse matrices."""
    import osmnx as ox
    from sklearn.neighbors import BallTree

    if graph.number_of_nodes() == 0:
        raise InputError(f"{source}: the road network is empty")
    # one-way dead ends would make some pairs unreachable (infinite times)
    graph = ox.truncate.largest_component(graph, strongly=True)
    _parse_symbolic_speeds(graph)
    graph = ox.routing.add_edge_speeds(graph, hwy_speeds=FR_SPEEDS_KPH, fallback=FALLBACK_SPEED_KPH)
    graph = ox.routing.add_edge_travel_times(graph)

    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    index = {n: i for i, n in enumerate(node_ids.tolist())}
    lat = np.array([graph.nodes[n]["y"] for n in node_ids.tolist()], float)
    lon = np.array([graph.nodes[n]["x"] for n in node_ids.tolist()], float)
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for u, v, data in graph.edges(data=True):
        pair = (index[u], index[v])
        t, d = float(data["travel_time"]), float(data["length"])
        if pair not in best or t < best[pair][0]:
            best[pair] = (t, d)
    rows, cols = (np.array(a, dtype=np.int64) for a in zip(*best.keys(), strict=True))
    vals = np.array(list(best.values()), float)
    # scipy drops explicit zeros: keep zero-length edges reachable with a tiny weight
    times = np.maximum(vals[:, 0], 1e-6)
    dists = np.maximum(vals[:, 1], 1e-6)
    n = len(node_ids)
    time_csr = csr_matrix((times, (rows, cols)), shape=(n, n))
    dist_csr = csr_matrix((dists, (rows, cols)), shape=(n, n))
    tree = BallTree(np.radians(np.column_stack([lat, lon])), metric="haversine")
    log.info("%s: %d nodes, %d edges", source, n, graph.number_of_edges())
    return RoadNetwork(
        graph=graph,
        node_ids=node_ids,
        node_lat=lat,
        node_lon=lon,
        time_csr=time_csr,
        dist_csr=dist_csr,
        source=source,
        key=key,
        _tree=tree,
    )


# --------------------------------------------------------------------------- matrices


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
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"matrix_{_points_key(network.key, lats, lons)}.npz"
        if cache.exists():
            with np.load(cache) as z:
                matrix = Matrix(
                    dist_m=z["dist_m"],
                    duration_s=z["duration_s"],
                    snap_dist_m=z["snap_dist_m"],
                    method=ROAD,
                )
            _warn_far(matrix.snap_dist_m, max_snap_m)
            return matrix
    nodes, snap = network.snap(lats, lons)
    _warn_far(snap, max_snap_m)
    duration, dist = _road_matrices(network, nodes)
    # driving from the point to its node and back is not in the graph: add it at 20 km/h
    access_s = snap / (20 / 3.6)
    duration = duration + access_s[:, None] + access_s[None, :]
    dist = dist + snap[:, None] + snap[None, :]
    np.fill_diagonal(duration, 0.0)
    np.fill_diagonal(dist, 0.0)
    matrix = Matrix(dist_m=dist, duration_s=duration, snap_dist_m=snap, method=ROAD)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, dist_m=dist, duration_s=duration, snap_dist_m=snap)
        tmp.replace(cache)
    return matrix


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
