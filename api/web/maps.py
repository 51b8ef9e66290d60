"""The web maps' offline basemap (communes, sites, roads as GeoJSON) and vehicle colours."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from fastapi import Request

from api.store import territories as store_t
from core.safety import safe_path

#: colour-blind-safe, AA-contrast line colours (Okabe–Ito, darkened), in vehicle order
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#7A5C00",
    "#56B4E9",
    "#000000",
    "#E69F00",
    "#8B1E3F",
    "#3D5A80",
)
ROAD_SUFFIXES = (".osm.pbf", ".osm", ".osm.bz2", ".osm.gz")


def vehicle_colours(vehicle_ids: list[str]) -> dict[str, str]:
    """A colour per vehicle, the same on every day of the week."""
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(vehicle_ids)}


def _feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _sites(sites: pd.DataFrame) -> list[dict]:
    out = []
    for row in sites.itertuples(index=False):
        try:
            lat, lon = float(row.lat), float(row.lon)
        except (TypeError, ValueError):
            continue
        out.append(
            _feature(
                {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
                layer="site",
                site_id=row.site_id,
                name=row.name,
                kind=row.kind,
                commune=getattr(row, "commune", ""),
            )
        )
    return out


def _communes(sites: pd.DataFrame, folder: Path | None, territory_id: str) -> list[dict]:
    """Commune outlines from ``<territory>.communes.geojson`` in the basemap folder, else one
    labelled point per commune at the mean of its sites."""
    if folder is not None:
        path = safe_path(folder, territory_id, suffix=".communes.geojson")
        if path.is_file():
            doc = json.loads(path.read_text(encoding="utf-8"))
            for feature in doc.get("features", []):
                props = feature.setdefault("properties", {})
                props["layer"] = "commune"
                props.setdefault("name", props.get("nom", ""))
            return doc.get("features", [])
    if "commune" not in sites.columns:
        return []
    frame = sites.assign(
        lat=pd.to_numeric(sites["lat"], errors="coerce"),
        lon=pd.to_numeric(sites["lon"], errors="coerce"),
    ).dropna(subset=["lat", "lon"])
    frame = frame[frame["commune"].astype(str).str.strip() != ""]
    out = []
    for name, group in frame.groupby("commune"):
        point = [round(float(group["lon"].mean()), 5), round(float(group["lat"].mean()), 5)]
        out.append(_feature({"type": "Point", "coordinates": point}, layer="commune", name=name))
    return out


def _roads(folder: Path | None, territory_id: str) -> list[dict]:
    """The drivable roads of ``<territory>.osm.pbf`` (or .osm, .osm.bz2, .osm.gz) in the
    basemap folder, one line per road segment between junctions (both directions once)."""
    if folder is None:
        return []
    candidates = (safe_path(folder, territory_id, suffix=s) for s in ROAD_SUFFIXES)
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        return []
    from routing.network import network_from_file

    graph = network_from_file(path).graph
    seen: set[tuple] = set()
    out = []
    for u, v, data in graph.edges(data=True):
        if (v, u) in seen or (u, v) in seen:
            continue
        seen.add((u, v))
        if "geometry" in data:
            coords = list(data["geometry"].coords)
        else:
            coords = [
                (graph.nodes[u]["x"], graph.nodes[u]["y"]),
                (graph.nodes[v]["x"], graph.nodes[v]["y"]),
            ]
        highway = data.get("highway", "")
        out.append(
            _feature(
                {
                    "type": "LineString",
                    "coordinates": [[round(x, 5), round(y, 5)] for x, y in coords],
                },
                layer="road",
                highway=highway if isinstance(highway, str) else str(highway[0]),
            )
        )
    return out


def basemap_geojson(request: Request, territory_id: str) -> bytes:
    """The basemap of the territory's stored version, built once and cached."""
    from api.settings import settings

    store = request.app.state.store
    row = store_t.territory_row(store, territory_id)
    cache = request.app.state.results
    key = ("web-basemap", territory_id, row.created_at, row.version)
    hit = cache.get(key)
    if hit is not None:
        return hit
    sites = pd.read_csv(
        io.BytesIO(store_t.table_content(store, territory_id, "sites")),
        dtype=str,
        keep_default_na=False,
    )
    configured = settings().basemap_dir
    folder = Path(configured) if configured else None
    features = _communes(sites, folder, territory_id) + _roads(folder, territory_id)
    features += _sites(sites)
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    cache.put(key, body, len(body))
    return body
