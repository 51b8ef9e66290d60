"""Site names are data: inert in every route file (maps, sheets) and never a CSV formula."""

from __future__ import annotations

import re

import pytest
from routing_helpers import COUNTED, job, make_problem, site, vehicle

from core.csvio import read_csv_any
from core.errors import InputError
from routing import solve_week
from routing.outputs import write_route_outputs

pytestmark = pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")
PAYLOAD = "${alert(document.domain)}`</script><script>alert(1)</script><img src=x onerror=alert(2)>"
FORMULA = '=HYPERLINK("http://evil.example","clic")'


def _solved(name: str, notes: str = "", vehicle_id: str = "V1"):
    sites = [
        site("HUB", "hub", 47.0, -1.6),
        site("S1", "epicerie_solidaire", 47.0, -1.57, name=name, notes=notes),
    ]
    problem = make_problem(sites, [vehicle(vehicle_id)], [job("S1", 100)])
    return solve_week(problem, COUNTED), problem


def test_xss_payload_in_a_site_name_is_inert_in_every_html_file(tmp_path):
    result, problem = _solved(PAYLOAD)
    files = write_route_outputs(result, problem, tmp_path)
    pages = [p for p in files if p.suffix == ".html"]
    assert {p.name for p in pages} >= {"map_mon.html", "map_mon_tiles.html", "mon_V1.html"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text and "<img src=x" not in text, page.name
        assert "alert(document.domain)" in text, page.name  # the name is shown, as text
        if page.name != "map_mon_tiles.html":  # sheets and SVG maps hold no script at all
            assert "<script" not in text.lower(), page.name
    tiles = (tmp_path / "map_mon_tiles.html").read_text(encoding="utf-8")
    assert "${alert" not in tiles  # would run inside folium's JavaScript template literal
    # every template literal folium wrote holds no `${` and no raw backtick from the name
    for literal in re.findall(r"bindTooltip\(\s*`(.*?)`", tiles, flags=re.S):
        assert "${" not in literal and "<script" not in literal


def test_formula_in_a_site_name_is_neutralised_in_the_csv_sheets(tmp_path):
    result, problem = _solved(FORMULA, notes="+33 2 40 00 00 00")
    write_route_outputs(result, problem, tmp_path)
    sheet = read_csv_any(tmp_path / "sheets" / "mon_V1.csv", comment="#", dtype=str)
    names = set(sheet["Lieu"])
    assert "'" + FORMULA in names and FORMULA not in names
    assert "'+33 2 40 00 00 00" in set(sheet["Consignes du lieu"])
    stops = read_csv_any(tmp_path / "stops.csv", dtype=str)
    assert not stops["name"].str.startswith(("=", "+", "-", "@")).any()


def test_a_vehicle_id_that_is_a_path_writes_no_file(tmp_path):
    result, problem = _solved("Épicerie", vehicle_id="../../evil")
    out = tmp_path / "out"
    with pytest.raises(InputError, match="cannot name a file"):
        write_route_outputs(result, problem, out)
    assert not (tmp_path / "evil.csv").exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
