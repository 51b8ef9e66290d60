"""A pinned stop is marked where staff and drivers look: the sheet row, the day map and
stops.csv (issue 20, item 5's last part)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from routing_helpers import COUNTED, job, make_problem, site, vehicle

from core.csvio import read_csv_any
from routing import Pin, solve_week
from routing.outputs import write_route_outputs

pytestmark = pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")

SITES = [
    site("HUB", "hub", 47.19, -1.58),
    site("S1", "market", 47.21, -1.55),
    site("S2", "market", 47.22, -1.60),
]


@pytest.fixture(scope="module")
def routed():
    problem = make_problem(
        SITES,
        [vehicle("V1"), vehicle("V2")],
        [job("S1", 120, fixed_days=("mon",)), job("S2", 80, fixed_days=("mon",))],
    )
    params = dataclasses.replace(COUNTED, pins=(Pin(site_id="S2", vehicle_id="V2", day="mon"),))
    return problem, solve_week(problem, params)


@pytest.mark.parametrize(
    ("lang", "mark", "column", "yes"),
    [("fr", "épinglé", "Épinglé", "oui"), ("en", "pinned", "Pinned", "yes")],
)
def test_the_pinned_stop_is_marked_on_its_sheet_map_and_stops_csv(
    routed, tmp_path, lang, mark, column, yes
):
    problem, result = routed
    write_route_outputs(result, problem, tmp_path, lang=lang)
    stops = read_csv_any(tmp_path / "stops.csv")
    marked = stops.loc[stops["pinned"].astype(str) == "True"]
    assert list(zip(marked["site_id"], marked["vehicle_id"], marked["day"], strict=True)) == [
        ("S2", "V2", "mon")
    ]
    v2 = (tmp_path / "sheets" / "mon_V2.html").read_text(encoding="utf-8")
    row = next(r for r in v2.split("<tr>") if "S2" in r and "<b>" in r)
    assert f'<span class="pin">{mark}</span>' in row
    assert v2.count('<span class="pin">') == 2  # the row and the line that explains the mark
    sheet = read_csv_any(tmp_path / "sheets" / "mon_V2.csv", dtype=str, keep_default_na=False)
    assert column.lower() in {c.lower() for c in sheet.columns}
    col = next(c for c in sheet.columns if c.lower() == column.lower())
    assert dict(zip(sheet.iloc[:, 4], sheet[col], strict=True))["S2"] == yes
    day_map = (tmp_path / "map_mon.html").read_text(encoding="utf-8")
    assert day_map.count('<g class="pinned">') == 2  # the marker and its legend sample
    assert f"{mark} (--pin)" in day_map
    points = [
        f["properties"]
        for f in json.loads((tmp_path / "routes.geojson").read_text())["features"]
        if f["geometry"]["type"] == "Point"
    ]
    assert [p["site_id"] for p in points if p["pinned"]] == ["S2"]
    assert "thumb-tack" in (tmp_path / "map_mon_tiles.html").read_text(encoding="utf-8")


def test_without_pins_nothing_is_marked(tmp_path):
    problem = make_problem(SITES, [vehicle("V1")], [job("S1", 120, fixed_days=("mon",))])
    write_route_outputs(solve_week(problem, COUNTED), problem, tmp_path)
    assert not read_csv_any(tmp_path / "stops.csv")["pinned"].astype(bool).any()
    assert "pinned" not in (tmp_path / "map_mon.html").read_text(encoding="utf-8")
    assert 'class="pin"' not in (tmp_path / "sheets" / "mon_V1.html").read_text(encoding="utf-8")
