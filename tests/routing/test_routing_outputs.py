"""Files for staff (sheets, GeoJSON, maps, KPIs, unserved) and the `vivres routes` command."""

from __future__ import annotations

import json

import pytest
from routing_helpers import COUNTED, job, make_problem, vehicle

from api.cli import main
from core.csvio import read_csv_any
from core.geo import haversine_m
from routing import solve_week
from routing.outputs import write_route_outputs

pytestmark = pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")


def test_outputs_flag_the_fallback(line_sites, tmp_path):
    hours = {("S2", "mon"): ((180.0, 240.0),)}
    problem = make_problem(
        line_sites,
        [vehicle("V1", break_min=30.0)],
        [job("S1", 100), job("S2", 100), job("S3", 100)],
        hours,
    )
    result = solve_week(problem, COUNTED)
    files = write_route_outputs(result, problem, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert {
        "sheets/mon_V1.csv",
        "sheets/mon_V1.html",
        "routes.geojson",
        "map_mon.html",
        "kpis.json",
        "kpis_vehicles.csv",
        "unserved.csv",
    } <= names
    sheet = read_csv_any(tmp_path / "sheets" / "mon_V1.csv")
    assert {"Arrivée", "Départ", "Charge à bord (kg)", "Adresse", "Téléphone"} <= set(sheet.columns)
    assert set(sheet["Méthode"]) == {"haversine_fallback"}
    assert "ESTIMÉES" in (tmp_path / "sheets" / "mon_V1.html").read_text()
    geo = json.loads((tmp_path / "routes.geojson").read_text())
    assert geo["method"] == "haversine_fallback"
    assert all(f["properties"]["method"] == "haversine_fallback" for f in geo["features"])
    line = next(f for f in geo["features"] if f["geometry"]["type"] == "LineString")
    assert line["properties"]["geometry"] == "straight_line"
    assert json.loads((tmp_path / "kpis.json").read_text())["method"] == "haversine_fallback"
    unserved = read_csv_any(tmp_path / "unserved.csv")
    assert list(unserved["reason"]) == ["time window"]
    for name in ("unserved.csv", "schedule.csv", "stops.csv", "kpis_vehicles.csv"):
        assert set(read_csv_any(tmp_path / name)["method"]) == {"haversine_fallback"}, name
    assert "ESTIMÉES" in (tmp_path / "map_mon_tiles.html").read_text()
    page = (tmp_path / "map_mon.html").read_text()
    # renders offline: inline SVG, no script or tile fetched from the network
    assert "<svg" in page and "polyline" in page
    assert "<script" not in page and "https://" not in page


def test_geojson_follows_roads_with_a_network(stbarth, tmp_path):
    from routing_helpers import site

    net = stbarth
    idx = [10, 300, 600]
    sites = [site("HUB", "hub", net.node_lat[idx[0]], net.node_lon[idx[0]])] + [
        site(f"S{k}", "market", net.node_lat[i], net.node_lon[i]) for k, i in enumerate(idx[1:])
    ]
    problem = make_problem(sites, [vehicle("V1")], [job("S0", 50), job("S1", 50)])
    result = solve_week(problem, COUNTED, network=net)
    assert result.method == "road"
    write_route_outputs(result, problem, tmp_path, network=net)
    geo = json.loads((tmp_path / "routes.geojson").read_text())
    line = next(f for f in geo["features"] if f["geometry"]["type"] == "LineString")
    assert line["properties"]["geometry"] == "road"
    assert len(line["geometry"]["coordinates"]) > 6  # follows the streets, not 4 points


def _routes(data, out, *options: str) -> int:
    """``vivres routes`` on season week 48 (a year after the tiny territory's January orders)."""
    return main(["routes", "--week", "48", "--data", str(data), "--out", str(out), *options])


def test_cli_routes_on_the_tiny_territory(tiny_dir, tmp_path):
    out = tmp_path / "routes"
    # season week 48 falls a year after the tiny territory's January orders
    code = _routes(tiny_dir, out, "--time-limit", "120", "--solution-limit", "1000")
    assert code == 0
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["method"] == "haversine_fallback"
    assert kpis["stops"] + kpis["unserved"] > 0
    # every day's search ended by itself or by the count, not by the clock
    assert set(kpis["day_status"].values()) <= {"local_optimum", "solution_limit"}
    assert list(out.glob("sheets/*.html"))


def test_cli_bad_pin_exits_2(tiny_dir, tmp_path, capsys):
    code = _routes(tiny_dir, tmp_path, "--pin", "S1=NOPE")
    assert code == 2
    assert "unknown vehicle" in capsys.readouterr().err


def test_cli_routes_with_direct_transfers(tiny_dir, tmp_path):
    transfers = tmp_path / "transfers.csv"
    transfers.write_text("from_site_id,to_site_id,storage_class,kg\nF1,S2,fresh,120\n")
    out = tmp_path / "routes"
    code = _routes(
        tiny_dir,
        out,
        "--time-limit",
        "120",
        "--solution-limit",
        "1000",
        "--transfers",
        str(transfers),
    )
    assert code == 0
    stops = read_csv_any(out / "stops.csv")
    unserved = read_csv_any(out / "unserved.csv")
    moved = stops.loc[stops["detail"].fillna("").str.contains("fresh 120 kg"), "action"]
    reported = unserved.loc[unserved["job_id"].str.startswith("tra_S2")]
    assert set(moved) == {"pickup", "deliver"} or len(reported)


def test_cli_bad_transfers_exit_2(tiny_dir, tmp_path, capsys):
    transfers = tmp_path / "transfers.csv"
    transfers.write_text("from_site_id,to_site_id,storage_class,kg\nF1,NOWHERE,fresh,-5\n")
    code = _routes(tiny_dir, tmp_path, "--transfers", str(transfers))
    assert code == 2
    err = capsys.readouterr().err
    assert "transfers" in err and "to_site_id" in err and "kg" in err


def test_cli_params_file(tiny_dir, tmp_path, capsys):
    params = tmp_path / "routing.toml"
    params.write_text("drop_penalty_eur = 1500\nday_solution_limit = 1000\n")
    out = tmp_path / "routes"
    assert _routes(tiny_dir, out, "--time-limit", "120", "--params", str(params)) == 0
    params.write_text("no_such_knob = 1\n")
    assert _routes(tiny_dir, out, "--params", str(params)) == 2
    assert "no_such_knob" in capsys.readouterr().err


def test_an_extract_that_does_not_cover_the_sites_exits_2_naming_them(osm_dir, tiny_dir, tmp_path):
    # the tiny territory lies around Nantes; Saint-Barthélemy's roads are 6,700 km away
    osm = str(osm_dir / "saint_barthelemy.osm.pbf")
    assert _routes(tiny_dir, tmp_path / "r", "--osm", osm, "--solution-limit", "1000") == 2


def test_the_coverage_error_names_the_sites_and_the_extent(stbarth):
    from core.errors import InputError
    from routing.matrix import travel_matrix

    net = stbarth
    on_island = [(net.node_lat[i], net.node_lon[i]) for i in (10, 300, 600)]
    nantes = [(47.21, -1.55), (47.20, -1.60), (47.25, -1.52)]
    lats, lons = zip(*(on_island + nantes), strict=True)
    names = ["I1", "I2", "I3", "N1", "N2", "N3"]
    with pytest.raises(InputError) as caught:
        travel_matrix(net, lats, lons, names=names)
    message = str(caught.value)
    assert (
        "does not cover 3 site(s)" in message and "N1 (" in message and "W,S,E,N = -62." in message
    )
    # with the fallback, the far sites' trips are straight-line estimates, the others roads
    matrix = travel_matrix(net, lats, lons, names=names, allow_fallback=True)
    assert matrix.method == "road" and matrix.estimated == (3, 4, 5)
    straight = haversine_m(lats[3], lons[3], lats[4], lons[4]) * 1.3
    assert matrix.dist_m[3, 4] == pytest.approx(straight, rel=1e-6)
    assert matrix.dist_m[0, 1] > 0 and matrix.snap_dist_m[0] < 1.0  # island trips by road
    # two far sites among six: a warning, not an error (max(2, 5 %) are tolerated)
    with pytest.warns(Warning, match="more than 500 m from a road"):
        travel_matrix(net, lats[:5], lons[:5], names=names[:5])


def test_a_new_week_removes_the_sheets_and_maps_an_earlier_run_left(tiny_dir, tmp_path):
    out = tmp_path / "routes"
    (out / "sheets").mkdir(parents=True)
    stale = [out / "sheets" / "sat_V9.html", out / "sheets" / "sat_V9.csv", out / "map_sat.html"]
    for path in stale:
        path.write_text("an earlier week")
    (out / "notes.txt").write_text("mine")
    assert _routes(tiny_dir, out, "--solution-limit", "1000") == 0
    assert not any(p.exists() for p in stale)
    assert (out / "notes.txt").read_text() == "mine"  # files the writer does not make stay
    assert list((out / "sheets").glob("*.html"))  # this week's sheets


def test_lang_en_writes_english_sheets_with_comma_csvs(line_sites, tmp_path):
    problem = make_problem(line_sites, [vehicle("V1")], [job("S1", 100), job("S2", 50)], {})
    result = solve_week(problem, COUNTED)
    write_route_outputs(result, problem, tmp_path, lang="en")
    text = (tmp_path / "sheets" / "mon_V1.csv").read_bytes().decode("utf-8-sig")
    assert text.startswith("No.,Time window,Arrival,Departure,Code,Place,Action,Address,Phone")
    assert "<h1>Route V1 — Mon " in (tmp_path / "sheets" / "mon_V1.html").read_text()
    loading = (tmp_path / "sheets" / "loading_mon.html").read_text()
    assert "To load at the hub" in loading and "0.0 kg" not in loading
    assert (tmp_path / "unserved.csv").read_bytes().decode("utf-8-sig").startswith("day,")
