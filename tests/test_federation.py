"""The federation generator (data/federation.py, ``vivres federation generate``) and the
sample's geography as a parameter of data/generate.py (issue 17 item 2)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import run

from api.sweep import load_sweep
from core.errors import InputError
from core.territory import load_territory

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
COMMUNES = REPO.parent / "shared" / "osm" / "communes"
TINY = Path(__file__).resolve().parent / "data" / "tiny"

needs_communes = pytest.mark.skipif(
    not (COMMUNES / "communes-34-herault.geojson").is_file()
    or not (COMMUNES / "communes-69-rhone.geojson").is_file(),
    reason="commune polygons absent (../shared/osm/communes)",
)


def _federation():
    name = "vivres_data_federation"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "data" / "federation.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def fed():
    return _federation()


@pytest.fixture(scope="module")
def federation(fed, tmp_path_factory):
    """Three small territories: Montpellier, Lyon, then Béziers (the Hérault's second city)."""
    if not (COMMUNES / "communes-34-herault.geojson").is_file():
        pytest.skip("commune polygons absent (../shared/osm/communes)")
    out = tmp_path_factory.mktemp("federation")
    manifest = fed.generate_federation(
        out,
        departements=["34", "69"],
        territories=3,
        communes=COMMUNES,
        scale=0.2,
        seed=5,
        years=1,
    )
    return out, manifest


@needs_communes
def test_each_territory_sits_in_its_departement_around_its_city(federation):
    out, manifest = federation
    assert manifest["territory"].tolist() == [
        "t01-34-montpellier",
        "t02-69-lyon",
        "t03-34-beziers",
    ]
    assert manifest["seed"].tolist() == [5, 6, 7]
    for row in manifest.itertuples():
        sites = pd.read_csv(out / row.territory / "sites.csv", dtype={"commune": str})
        hub = sites.loc[sites["kind"] == "hub"].iloc[0]
        assert hub["commune"] == row.hub_commune
        dist_km = _km(hub["lat"], hub["lon"], sites["lat"], sites["lon"])
        assert dist_km.max() <= 49.0
        farms = sites["kind"] == "farm"
        shops = ~sites["kind"].isin(["hub", "depot", "farm"])
        # shops in the urban communes (≤ 12 km from the hub, placed within 3 km of their
        # commune's point), farms in the rural ones (beyond 12 km)
        assert dist_km[shops].max() < 12.0 + 3.5
        assert farms.sum() == row.farms and shops.sum() == row.points_of_sale
        assert row.farms >= 5 and row.points_of_sale >= 5


@needs_communes
def test_every_site_is_inside_its_commune_polygon(federation):
    import geopandas as gpd
    import shapely

    out, _ = federation
    polygons = gpd.read_file(COMMUNES / "communes-34-herault.geojson")
    by_name = dict(zip(polygons["nom"], polygons.geometry, strict=True))
    sites = pd.read_csv(out / "t01-34-montpellier" / "sites.csv")
    placed = sites.loc[sites["kind"] != "hub"]
    outside = [
        (r.site_id, r.commune)
        for r in placed.itertuples()
        if not shapely.contains_xy(by_name[r.commune], r.lon, r.lat)
    ]
    assert outside == []


@needs_communes
def test_federation_territories_are_valid_territories(federation):
    out, manifest = federation
    for name in manifest["territory"]:
        territory = load_territory(out / name)  # strict: every file, every reference
        assert len(territory.producers) > 0
        assert set(territory.vehicles["depot_site_id"]) <= set(territory.sites["site_id"])


@needs_communes
def test_the_sweep_file_runs_every_territory(federation):
    out, manifest = federation
    sweep = load_sweep(out / "sweep.yaml")
    assert {Path(r.territory).name for r in sweep.runs} == set(manifest["territory"])
    assert len(sweep.runs) == 2 * len(manifest)  # base and demand × 1.2


@needs_communes
def test_same_seed_same_files(fed, federation, tmp_path):
    out, _ = federation
    again = fed.generate_federation(
        tmp_path,
        departements=["34", "69"],
        territories=1,
        communes=COMMUNES,
        scale=0.2,
        seed=5,
        years=1,
    )
    name = again["territory"].iloc[0]
    for path in sorted((out / name).glob("*.csv")):
        assert (tmp_path / name / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.slow
@pytest.mark.skipif(
    not (COMMUNES / "communes-44-loire-atlantique.geojson").is_file(),
    reason="commune polygons absent (../shared/osm/communes)",
)
def test_regenerating_the_sample_gives_the_same_files(fed, tmp_path):
    gen = fed.load_generator()
    gen.generate_territory(tmp_path, seed=42, scale=1.0)
    written = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert written == sorted(p.name for p in SAMPLE.glob("*.csv"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_members_are_dealt_over_the_departements(fed):
    members = fed.members(["13", "34"], 5, scale=1.0, seed=9, spread=0.4)
    assert [(m.departement, m.rank) for m in members] == [
        ("13", 0),
        ("34", 0),
        ("13", 1),
        ("34", 1),
        ("13", 2),
    ]
    assert [m.seed for m in members] == [9, 10, 11, 12, 13]
    assert all(0.6 <= m.scale <= 1.4 for m in members)
    assert len({m.scale for m in members}) > 1
    flat = fed.members(["13"], 3, scale=0.5, seed=9, spread=0.0)
    assert {m.scale for m in flat} == {0.5}


def test_weighted_cycle_deals_in_proportion(fed):
    cycle = fed.weighted_cycle(["a", "b", "c"], np.array([6.0, 3.0, 1.0]), 20)
    assert [cycle.count(k) for k in "abc"] == [12, 6, 2]
    assert cycle[:2] == ("a", "b")  # spread out, not all the a's first


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"communes": Path("/no/such/folder")}, "no such folder"),
        ({"departements": ["75"]}, "no file communes-75-*.geojson"),
        ({"departements": ["1x"]}, "is not a département number"),
        ({"territories": 0}, "--territories: expected at least 1"),
        ({"scale": 0.0}, "--scale: expected a number > 0"),
        ({"years": 3}, "--years: expected 1 or 2"),
    ],
)
def test_bad_options_raise_an_input_error_before_writing(fed, tmp_path, kwargs, message):
    options = {
        "departements": ["34"],
        "territories": 1,
        "communes": tmp_path,  # an existing folder without commune files
        "scale": 0.2,
    } | kwargs
    out = tmp_path / "out"
    with pytest.raises(InputError, match=_escape(message)):
        fed.generate_federation(out, **options)
    assert not out.exists()


def test_cli_missing_communes_folder_exits_2(tmp_path, capsys):
    code, _, err = run(
        [
            "federation",
            "generate",
            "--departements",
            "13",
            "--territories",
            "2",
            "--communes",
            str(tmp_path / "absent"),
            "--out",
            str(tmp_path / "out"),
        ],
        capsys,
    )
    assert code == 2 and "no such folder" in err and "nothing is downloaded" in err


def _copy_tiny(folder: Path) -> None:
    folder.mkdir(parents=True)
    for path in TINY.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())


def test_a_sweep_names_a_federation_folder_for_its_territories(tmp_path):
    fed_dir = tmp_path / "fed"
    for name in ("t01-a", "t02-b"):
        _copy_tiny(fed_dir / name)
    (fed_dir / "federation.csv").write_text("territory,scale\nt01-a,1\nt02-b,1\n")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"territories: [fed, {TINY}]\nseeds: [0]\nplan: {{work: 0.05}}\n")
    runs = load_sweep(sweep).runs
    assert [Path(r.territory).name for r in runs] == ["t01-a", "t02-b", TINY.name]


def test_a_federation_row_that_is_not_a_folder_is_named(tmp_path):
    fed_dir = tmp_path / "fed"
    _copy_tiny(fed_dir / "t01-a")
    (fed_dir / "federation.csv").write_text("territory\nt01-a\n../elsewhere\n")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("territories: [fed]\n")
    with pytest.raises(InputError, match=_escape("federation.csv row 3: territory '../elsewhere'")):
        load_sweep(sweep)


def _km(lat, lon, lats, lons) -> pd.Series:
    from core.geo import haversine_km

    return pd.Series(haversine_km(lat, lon, lats.to_numpy(), lons.to_numpy()), index=lats.index)


def _escape(text: str) -> str:
    import re

    return re.escape(text)
