"""Road network: a drivable graph from a local OSM file or a download, and snapping.

One builder (:func:`_prepare`) is fed by two inputs: :func:`network_from_file` (``.osm``,
``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``, filtered with pyosmium to drivable ways) and
:func:`network_from_place` / :func:`network_from_bbox` (osmnx download, cached on disk). Travel
matrices over it: :mod:`routing.matrix`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix

from core.errors import InputError, VivresWarning

if TYPE_CHECKING:
    import osmium
from core.geo import EARTH_RADIUS_M

log = logging.getLogger(__name__)

ROAD = "road"
HAVERSINE = "haversine_fallback"

#: Typical French free-flow speeds (km/h) for roads whose ``maxspeed`` is missing or symbolic.
FR_SPEEDS_KPH: dict[str, float] = {
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
    _tree: Any = field(default=None, repr=False)  # sklearn BallTree over the nodes

    @property
    def num_nodes(self) -> int:
        """Number of nodes of the graph."""
        return len(self.node_ids)

    def snap(self, lats: ArrayLike, lons: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Return (node index, snap distance in metres) of the nearest node to each point."""
        pts = np.radians(np.column_stack([np.asarray(lats, float), np.asarray(lons, float)]))
        dist, idx = self._tree.query(pts, k=1)
        return idx[:, 0].astype(np.int64), dist[:, 0] * EARTH_RADIUS_M


# --------------------------------------------------------------------------- building


def _is_drive_way(tags: Mapping[str, str] | osmium.osm.TagList) -> bool:
    hwy = tags.get("highway")
    if hwy is None or tags.get("area") == "yes" or _EXCLUDED_HWY.search(hwy):
        return False
    if "private" in (tags.get("access") or ""):
        return False
    if "no" in (tags.get("motor_vehicle") or "") or "no" in (tags.get("motorcar") or ""):
        return False
    return not _EXCLUDED_SERVICE.search(tags.get("service") or "")


def _drive_elements(src: Path) -> list[dict]:
    """Stream ``src``: its drivable ways and their nodes, as Overpass JSON elements.

    Ways that refer to nodes absent from the file (bbox-clipped exports) are dropped: osmnx
    raises "Some edges missing nodes" on them.
    """
    import osmium
    from osmium.filter import IdFilter, KeyFilter

    ways: dict[int, dict] = {}
    # the C++ filters skip most of the file before any Python code sees it
    for found in osmium.FileProcessor(str(src), osmium.osm.WAY).with_filter(KeyFilter("highway")):
        way = cast(osmium.osm.Way, found)
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
        for node in (
            cast(osmium.osm.Node, found)
            for found in osmium.FileProcessor(str(src), osmium.osm.NODE).with_filter(
                IdFilter(wanted)
            )
        )
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
