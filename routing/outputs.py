"""Files for logistics staff: route sheets, GeoJSON, day maps, KPIs and unserved stops.

The day maps are self-contained SVG pages (they render offline, with no tile server); a
Leaflet/folium version with OpenStreetMap tiles is written next to them for when a network
connection is available.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from core.csvio import DEFAULT_LANG, Lang, write_machine_csv, write_user_csv
from core.fmt import date_words, num, reason_words
from core.safety import safe_path
from routing.matrix import path_coords
from routing.model import WeekProblem, WeekRoutes
from routing.network import HAVERSINE, RoadNetwork
from routing.sheets import (
    hhmm,
    is_pinned,
    loading_document,
    loading_page,
    sheet_frame,
    sheet_html,
    words,
)

COLOURS = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#b2182b",
    "#4d4d4d",
)
_MAP = {
    "fr": {
        "routes": "Tournées du",
        "unserved": "non desservi",
        "unserved_hint": "non desservi (survolez pour la raison)",
        "pinned": "épinglé (--pin)",
        "legend": "Traits pointillés : segments droits (sans tracé routier). Données : sites du "
        "territoire ; tracés routiers © les contributeurs d'OpenStreetMap (ODbL) quand un "
        "réseau est utilisé.",
    },
    "en": {
        "routes": "Routes of",
        "unserved": "not served",
        "unserved_hint": "not served (hover for the reason)",
        "pinned": "pinned (--pin)",
        "legend": "Dashed lines: straight segments (no road geometry). Map data: sites of the "
        "territory; road geometry © OpenStreetMap contributors (ODbL) when a network is used.",
    },
}


def _leg_coords(
    network: RoadNetwork | None, a: tuple[float, float], b: tuple[float, float]
) -> tuple[list[tuple[float, float]], str]:
    if network is None or (a == b):
        return [(a[1], a[0]), (b[1], b[0])], "straight_line"
    return path_coords(network, a, b), "road"


#: What an earlier run wrote in a routes folder (removed before writing a new week).
_OUTPUT_FILES = (
    "routes.geojson",
    "kpis_vehicles.csv",
    "kpis_vehicles.xlsx",
    "kpis.json",
    "unserved.csv",
    "unserved.xlsx",
    "schedule.csv",
    "stops.csv",
)


def _clear_previous(out: Path) -> None:
    """Remove the route outputs an earlier run left in ``out`` (only files this writer makes:
    day sheets, day maps and the week's tables)."""
    stale = [out / name for name in _OUTPUT_FILES]
    stale += list(out.glob("map_*.html"))
    sheets = out / "sheets"
    if sheets.is_dir():
        stale += [p for p in sheets.iterdir() if p.suffix in (".csv", ".xlsx", ".html")]
    for path in stale:
        if path.is_file():
            path.unlink()


def write_route_outputs(
    result: WeekRoutes,
    problem: WeekProblem,
    out_dir: Path | str,
    *,
    network: RoadNetwork | None = None,
    lang: Lang = DEFAULT_LANG,
) -> list[Path]:
    """Write route sheets (CSV + printable HTML), GeoJSON, day maps, KPIs, unserved stops.

    Returns the written paths. Under the great-circle fallback every file says so
    (``method`` column / property / key, and a warning line on the sheets and maps).
    """
    out = Path(out_dir)
    sheets_dir = out / "sheets"
    _clear_previous(out)  # a sheet of an earlier week must never pass for this week's
    sheets_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    w = words(lang)
    method = result.method
    stops = result.stops
    vehicles = problem.vehicles.set_index("vehicle_id")
    features: list[dict[str, Any]] = []
    loading: dict[str, list[str]] = {}
    for (day, vehicle_id), rows in stops.groupby(["day", "vehicle_id"], sort=False):
        rows = rows.sort_values("seq")
        date = rows["date"].iloc[0]
        veh = vehicles.loc[vehicle_id]
        csv_path = safe_path(sheets_dir, str(day), str(vehicle_id), suffix=".csv")
        html_path = safe_path(sheets_dir, str(day), str(vehicle_id), suffix=".html")
        written += write_user_csv(
            sheet_frame(rows, problem, str(day), method, lang), csv_path, lang=lang, digits=1
        )
        kpi = result.vehicle_kpis.loc[
            (result.vehicle_kpis["day"] == day) & (result.vehicle_kpis["vehicle_id"] == vehicle_id)
        ]
        title = f"{w['route']} {vehicle_id} — {date_words(date, lang)} {str(date)[:4]}"
        html_path.write_text(
            sheet_html(
                rows,
                problem,
                title=title,
                header=_vehicle_header(veh, kpi, rows, lang),
                day=str(day),
                estimated=method == HAVERSINE,
                lang=lang,
            ),
            encoding="utf-8",
        )
        written.append(html_path)
        loading.setdefault(str(day), []).append(
            loading_page(rows, problem, title=f"{w['loading']} — {title}", lang=lang)
        )
        points = rows.loc[rows["action"] != "break"]
        coords: list[tuple[float, float]] = []
        geometry_kind = "straight_line"
        for a, b in zip(points.itertuples(), points.iloc[1:].itertuples(), strict=False):
            leg, geometry_kind = _leg_coords(network, (a.lat, a.lon), (b.lat, b.lon))
            coords.extend(leg if not coords else leg[1:])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
                "properties": {
                    "day": day,
                    "date": date,
                    "vehicle_id": vehicle_id,
                    "method": method,
                    "geometry": geometry_kind,
                    **({k: _plain(v) for k, v in kpi.iloc[0].items()} if len(kpi) else {}),
                },
            }
        )
        for _, stop in points.iterrows():
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [stop["lon"], stop["lat"]]},
                    "properties": {
                        "day": day,
                        "vehicle_id": vehicle_id,
                        "seq": int(stop["seq"]),
                        "site_id": stop["site_id"],
                        "name": stop["name"],
                        "action": stop["action"],
                        "arrival": hhmm(stop["arrival_min"]),
                        "method": method,
                        "pinned": is_pinned(stop),
                    },
                }
            )
    for day, pages in loading.items():
        path = safe_path(
            sheets_dir, "chargement" if lang == "fr" else "loading", day, suffix=".html"
        )
        path.write_text(loading_document(f"{w['loading']} {day}", pages, lang), encoding="utf-8")
        written.append(path)
    geo_path = out / "routes.geojson"
    geo_path.write_text(
        json.dumps(
            {"type": "FeatureCollection", "method": method, "features": features},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    written.append(geo_path)
    for day in stops["day"].unique():
        day_features = [f for f in features if f["properties"]["day"] == day]
        svg_path = safe_path(out, "map", str(day), suffix=".html")
        svg_path.write_text(
            _svg_map(day, day_features, problem, result, method, lang), encoding="utf-8"
        )
        written.append(svg_path)
        written.append(
            _folium_map(
                safe_path(out, "map", str(day), "tiles", suffix=".html"),
                day_features,
                method,
                lang,
            )
        )

    kpi_path = out / "kpis_vehicles.csv"
    written += write_user_csv(result.vehicle_kpis.assign(method=method), kpi_path, lang=lang)
    json_path = out / "kpis.json"
    json_path.write_text(
        json.dumps(
            {**result.kpis, "method": method, "engine": result.engine},
            indent=2,
            default=_plain,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    unserved_path = out / "unserved.csv"
    written += write_user_csv(result.unserved.assign(method=method), unserved_path, lang=lang)
    schedule_path = out / "schedule.csv"  # machine CSVs: the full data for programs
    write_machine_csv(result.schedule.assign(method=method), schedule_path, index=False)
    stops_path = out / "stops.csv"
    write_machine_csv(
        stops.assign(
            goods=stops["goods"].map(lambda g: json.dumps(g, ensure_ascii=False)),
            arrival=stops["arrival_min"].map(hhmm),
            departure=stops["departure_min"].map(hhmm),
            method=method,
        ),
        stops_path,
        index=False,
    )
    written += [json_path, schedule_path, stops_path]
    return written


def _vehicle_header(veh: pd.Series, kpi: pd.DataFrame, rows: pd.DataFrame, lang: Lang) -> str:
    """The sheet's second line: the vehicle, its cold, the route's figures."""
    w = words(lang)
    cold = w["refrigerated"] if veh["refrigerated"] else w["not_refrigerated"]
    parts = [
        str(veh["organisation"]),
        str(veh["kind"]),
        f"{num(veh['capacity_kg'], 0, lang)} kg / {veh['capacity_pallets']} {w['pallets']}",
        cold,
        f"{int(rows['action'].isin(['deliver', 'pickup']).sum())} {w['stops']}",
    ]
    if len(kpi):
        k = kpi.iloc[0]
        parts += [
            f"{num(k['km'], 1, lang)} km",
            f"{num(k['hours'], 1, lang)} h",
            f"{w['max_load']} {num(k['max_load_pct'], 0, lang)} %",
        ]
    return " · ".join(parts)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _svg_map(
    day: str,
    features: list[dict],
    problem: WeekProblem,
    result: WeekRoutes,
    method: str,
    lang: Lang,
) -> str:
    """A self-contained SVG map of the day's routes: renders with no network at all."""
    lines = [f for f in features if f["geometry"]["type"] == "LineString"]
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    unserved = result.unserved.loc[result.unserved["day"] == day]
    sites = problem.sites.set_index("site_id")
    xy = [c for f in lines for c in f["geometry"]["coordinates"]]
    xy += [[sites.at[s, "lon"], sites.at[s, "lat"]] for s in unserved["site_id"]]
    if not xy:
        xy = [[float(problem.sites["lon"].mean()), float(problem.sites["lat"].mean())]]
    arr = np.array(xy, float)
    lon0, lat0 = arr.min(axis=0)
    lon1, lat1 = arr.max(axis=0)
    kx = np.cos(np.radians((lat0 + lat1) / 2))  # equirectangular: keep shapes right locally
    width, height, pad = 1000, 700, 30
    span = max((lon1 - lon0) * kx, (lat1 - lat0) * width / height, 1e-6)
    scale = (width - 2 * pad) / span

    def proj(lon: float, lat: float) -> tuple[float, float]:
        return pad + (lon - lon0) * kx * scale, height - pad - (lat - lat0) * scale

    parts, legend = [], []
    for i, f in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        pts = " ".join("{:.1f},{:.1f}".format(*proj(*c)) for c in f["geometry"]["coordinates"])
        dash = ' stroke-dasharray="6,4"' if f["properties"]["geometry"] == "straight_line" else ""
        vid = html.escape(f["properties"]["vehicle_id"])
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" '
            f'stroke-width="3" opacity="0.8"{dash}><title>{vid}</title></polyline>'
        )
        legend.append(
            f'<span style="color:{colour}">■</span> {vid} ({f["properties"].get("km", 0):.1f} km)'
        )
    for f in points:
        x, y = proj(*f["geometry"]["coordinates"])
        p = f["properties"]
        fill = "#000" if p["site_id"] == problem.hub_id else "#fff"
        tip = html.escape(
            f"{p['vehicle_id']} #{p['seq']} {p['name']} ({p['action']}) {p['arrival']}"
            + (f" — {_MAP[lang]['pinned']}" if p.get("pinned") else "")
        )
        if p.get("pinned"):
            parts.append(_pin_mark(x, y, tip))
            continue
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}" stroke="#333">'
            f"<title>{tip}</title></circle>"
        )
    for row in unserved.itertuples():
        x, y = proj(sites.at[row.site_id, "lon"], sites.at[row.site_id, "lat"])
        tip = html.escape(
            f"{_MAP[lang]['unserved'].upper()} {row.site_id} {row.name}: "
            f"{reason_words(row.reason, lang)}"
        )
        parts.append(
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
            f'fill="#d00"><title>{tip}</title></rect>'
        )
    warn = (
        f'<p style="color:#a00"><b>{html.escape(words(lang)["estimate"])}</b></p>'
        if method == HAVERSINE
        else ""
    )
    m = _MAP[lang]
    if any(f["properties"].get("pinned") for f in points):
        legend.append(
            '<svg width="14" height="16" style="vertical-align:middle">'
            f"{_pin_mark(7, 13, '')}</svg> {html.escape(m['pinned'])}"
        )
    when = f"{date_words(problem.date_of(day), lang)} {problem.date_of(day).year}"
    title = html.escape(f"{m['routes']} {when}")
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{title}</title></head><body style="font-family:sans-serif">
<h1>{title}</h1>{warn}
<p>{" · ".join(legend)} · <span style="color:#d00">■</span> {html.escape(m["unserved_hint"])}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"
 style="border:1px solid #ccc;background:#f8f8f4">{"".join(parts)}</svg>
<p>{html.escape(m["legend"])}</p></body></html>"""


def _pin_mark(x: float, y: float, tip: str) -> str:
    """A pinned stop's marker: a pin (a red head on a stem) whose point is the site."""
    title = f"<title>{tip}</title>" if tip else ""
    return (
        f'<g class="pinned"><line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y - 9:.1f}" '
        f'stroke="#000" stroke-width="2"/><circle cx="{x:.1f}" cy="{y - 9:.1f}" r="4.5" '
        f'fill="#c00" stroke="#000"/>{title}</g>'
    )


def _js_text(text: str) -> str:
    """Text for folium, which pastes it raw into HTML inside a JavaScript template literal.

    HTML-escape it and also neutralise what a template literal interprets (`` ` ``, ``$``,
    ``\\``), so ``${alert(1)}`` or ``<script>`` in a site name stays inert text.
    """
    return (
        html.escape(str(text), quote=True)
        .replace("\\", "&#92;")
        .replace("`", "&#96;")
        .replace("$", "&#36;")
    )


def _folium_map(path: Path, features: list[dict], method: str, lang: Lang) -> Path:
    """A Leaflet map with OpenStreetMap tiles (needs a network connection to display)."""
    import folium

    points = [f["geometry"]["coordinates"] for f in features if f["geometry"]["type"] == "Point"]
    centre = np.mean(np.array(points, float), axis=0) if points else np.array([0.0, 0.0])
    fmap = folium.Map(location=[centre[1], centre[0]], zoom_start=11, tiles="OpenStreetMap")
    lines = [f for f in features if f["geometry"]["type"] == "LineString"]
    for i, f in enumerate(lines):
        folium.PolyLine(
            [(lat, lon) for lon, lat in f["geometry"]["coordinates"]],
            color=COLOURS[i % len(COLOURS)],
            weight=4,
            tooltip=_js_text(f"{f['properties']['vehicle_id']} ({method})"),
        ).add_to(fmap)
    for f in features:
        if f["geometry"]["type"] == "Point":
            p = f["properties"]
            lon, lat = f["geometry"]["coordinates"]
            tip = f"{p['vehicle_id']} #{p['seq']} {p['name']} ({p['action']}) {p['arrival']}"
            if p.get("pinned"):
                folium.Marker(
                    [lat, lon],
                    tooltip=_js_text(f"{tip} — {_MAP[lang]['pinned']}"),
                    icon=folium.Icon(color="red", icon="thumb-tack", prefix="fa"),
                ).add_to(fmap)
                continue
            folium.CircleMarker([lat, lon], radius=5, tooltip=_js_text(tip)).add_to(fmap)
    if method == HAVERSINE:
        cast(folium.Figure, fmap.get_root()).html.add_child(
            folium.Element(
                f'<p style="color:#a00;font-weight:bold">{html.escape(words(lang)["estimate"])}</p>'
            )
        )
    fmap.save(str(path))
    return path
