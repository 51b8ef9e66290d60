"""The sample territory generator (data/generate.py) and the committed sample (data/sample)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from core import schema
from core.geo import haversine_km

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
FILES = (
    "sites",
    "opening_hours",
    "products",
    "crops",
    "crop_yields",
    "producers",
    "producer_crops",
    "vehicles",
    "households",
    "caisse_rule",
    "orders",
    "caisse_transactions",
    "availability",
    "storage",
)


def _load_generator():
    """Import data/generate.py (not a package) once, under a private module name."""
    name = "vivres_data_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "data" / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def tiny_runs(gen, tmp_path_factory):
    """Three small runs: seed 7 twice and seed 8 once (one year of history, scale 0.3)."""
    out = {}
    for label, seed in (("a", 7), ("b", 7), ("c", 8)):
        folder = tmp_path_factory.mktemp(f"gen_{label}")
        gen.generate_territory(folder, seed=seed, scale=0.3, years=1)
        out[label] = folder
    return out


def test_same_seed_gives_identical_files(tiny_runs):
    for name in FILES:
        a = (tiny_runs["a"] / f"{name}.csv").read_bytes()
        b = (tiny_runs["b"] / f"{name}.csv").read_bytes()
        assert a == b, f"{name}.csv differs between two runs with the same seed"


def test_different_seed_gives_different_files(tiny_runs):
    differ = [
        name
        for name in FILES
        if (tiny_runs["a"] / f"{name}.csv").read_bytes()
        != (tiny_runs["c"] / f"{name}.csv").read_bytes()
    ]
    assert {"sites", "orders", "caisse_transactions", "households"} <= set(differ)


def test_generator_writes_every_file(tiny_runs):
    for name in FILES:
        assert (tiny_runs["a"] / f"{name}.csv").stat().st_size > 0


@pytest.mark.parametrize("name", FILES)
def test_sample_headers_match_schema(name):
    with open(SAMPLE / f"{name}.csv", encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == [c.name for c in schema.TABLES[name].columns]


def test_sample_orders_have_no_duplicates_and_valid_references():
    orders = pd.read_csv(SAMPLE / "orders.csv", dtype=str, keep_default_na=False)
    sites = pd.read_csv(SAMPLE / "sites.csv", dtype=str, keep_default_na=False)
    products = pd.read_csv(SAMPLE / "products.csv", dtype=str, keep_default_na=False)
    assert not orders.duplicated().any()
    assert not orders.duplicated(["date", "site_id", "product_id"]).any()
    pos = sites.loc[sites["kind"].isin(schema.POINT_OF_SALE_KINDS), "site_id"]
    assert orders["site_id"].isin(pos).all()
    assert orders["product_id"].isin(products["product_id"]).all()
    unit = orders["product_id"].map(products.set_index("product_id")["unit"])
    assert (orders["unit"] == unit).all()
    assert orders["date"].min() == "2024-01-02" and orders["date"].max() <= "2025-12-28"


def test_sample_sites_within_50_km_of_hub():
    sites = pd.read_csv(SAMPLE / "sites.csv")
    hub = sites.loc[sites["kind"] == "hub"].iloc[0]
    far = [
        (r.site_id, round(haversine_km(hub.lat, hub.lon, r.lat, r.lon), 1))
        for r in sites.itertuples()
        if haversine_km(hub.lat, hub.lon, r.lat, r.lon) > 50
    ]
    assert not far


def test_sample_sites_inside_their_commune():
    path = REPO.parent / "shared" / "osm" / "communes" / "communes-44-loire-atlantique.geojson"
    if not path.exists():
        pytest.skip("commune polygons not available")
    import geopandas as gpd
    from shapely.geometry import Point

    gen = _load_generator()
    by_name = {name: code for code, (name, *_rest) in gen.COMMUNES.items()}
    communes = gpd.read_file(path).set_index("code")
    sites = pd.read_csv(SAMPLE / "sites.csv")
    for row in sites.itertuples():
        geom = communes.geometry[by_name[row.commune]]
        assert geom.contains(Point(row.lon, row.lat)), row.site_id


def test_sample_shape():
    sites = pd.read_csv(SAMPLE / "sites.csv")
    kinds = sites["kind"].value_counts()
    assert kinds["hub"] == 1 and kinds["depot"] == 1
    assert 25 <= kinds["farm"] <= 35
    pos = sites.loc[sites["kind"].isin(schema.POINT_OF_SALE_KINDS)]
    assert 35 <= len(pos) <= 45
    assert 15 <= pos["conventionne"].sum() <= 25
    assert (SAMPLE / "orders.csv").stat().st_size < 10_000_000


def test_sample_caisse_is_mostly_at_approved_shops():
    sites = pd.read_csv(SAMPLE / "sites.csv").set_index("site_id")
    tx = pd.read_csv(SAMPLE / "caisse_transactions.csv")
    approved = tx["site_id"].map(sites["conventionne"])
    assert 0.001 < (~approved).mean() < 0.02  # a few injected anomalies, no more
    households = pd.read_csv(SAMPLE / "households.csv").set_index("household_id")
    tx["month"] = tx["timestamp"].str[:7]
    spend = tx.groupby(["household_id", "month"])["amount"].sum().reset_index()
    size = spend["household_id"].map(households["size"])
    ratio = spend["amount"] / (100 + 50 * (size - 1))
    assert 0.8 < ratio.mean() < 0.97
    assert 1 <= spend.loc[ratio > 1, "household_id"].nunique() <= 20


def test_sample_loads_as_a_territory():
    territory = pytest.importorskip("core.territory")
    if not hasattr(territory, "load_territory"):
        pytest.skip("core.territory.load_territory not available")
    t = territory.load_territory(SAMPLE)
    assert len(t.orders) > 100_000
    assert not t.rejects
