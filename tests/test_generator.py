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
    "caisses",
    "funders",
    "caisse_criteria",
    "shop_assessments",
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
    assert 8 <= pos["conventionne"].sum() <= 14  # few shops pass the grid at the start
    assert (SAMPLE / "orders.csv").stat().st_size < 10_000_000


def test_sample_caisse_is_mostly_at_approved_shops():
    sites = pd.read_csv(SAMPLE / "sites.csv").set_index("site_id")
    tx = pd.read_csv(SAMPLE / "caisse_transactions.csv")
    households = pd.read_csv(SAMPLE / "households.csv").set_index("household_id")
    # approved by the household's own caisse (its area's shops)
    own = tx["household_id"].map(households["caisse_id"])
    area = sites["commune"].map(_load_generator().caisse_of_site)
    approved = tx["site_id"].map(sites["conventionne"]) & (tx["site_id"].map(area) == own)
    assert 0.001 < (~approved).mean() < 0.02  # a few injected anomalies, no more
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


def test_sample_is_faithful_to_the_territory():
    """Issue 15 item 7: the sample agrees with the territory's own documents."""
    from demand.caisses import caisses_of, contribution_check

    caisses = pd.read_csv(SAMPLE / "caisses.csv").set_index("caisse_id")
    assert set(caisses["currency"]) == {"Moneko"}
    assert caisses.loc["cca_nantes", "start"] == "2025-09-01"
    assert caisses.loc["cca_retz", "start"] > "2025-09-01"
    assert (caisses["first_person_eur"] == 100).all() and (
        caisses["additional_person_eur"] == 50
    ).all()
    assert (caisses["min_contribution_per_person_eur"] == 5).all()
    # payments only from each caisse's start, in euros or Moneko
    tx = pd.read_csv(SAMPLE / "caisse_transactions.csv")
    households = pd.read_csv(SAMPLE / "households.csv", keep_default_na=False)
    own = tx["household_id"].map(households.set_index("household_id")["caisse_id"])
    assert (tx["timestamp"].str[:10] >= own.map(caisses["start"])).all()
    assert set(tx["currency"]) == {"EUR", "Moneko"}
    # contributions: the few under 5 €/person are flagged (vivres check names them)
    households["reste_a_vivre_eur"] = pd.to_numeric(households["reste_a_vivre_eur"])
    check = contribution_check(households, caisses_of(caisses.reset_index(), None))
    assert 1 <= check["under_minimum"].sum() <= 6
    # contributions follow household size and means
    median = households.groupby("size")["monthly_contribution_eur"].median()
    assert median.is_monotonic_increasing and median.iloc[-1] > 2 * median.iloc[0]
    given = households.dropna(subset=["reste_a_vivre_eur"])
    assert given["monthly_contribution_eur"].corr(given["reste_a_vivre_eur"]) > 0.5
    # no shop is named conventionnée without being approved
    sites = pd.read_csv(SAMPLE / "sites.csv")
    assert not (sites["name"].str.contains("conventionnée") & ~sites["conventionne"]).any()
    # accessible shelf prices below the fair producer price
    products = pd.read_csv(SAMPLE / "products.csv")
    fair = products["fair_price_eur_per_kg"] * products["kg_per_unit"]
    assert (products["retail_price_eur_per_unit"] < fair).all()
    # 15 criteria per caisse, marked illustrative; the CCAS de Nantes funds 36,500 €
    criteria = pd.read_csv(SAMPLE / "caisse_criteria.csv")
    assert (criteria.groupby("caisse_id").size() == 15).all()
    assert criteria["label"].str.contains("illustratif").all()
    funders = pd.read_csv(SAMPLE / "funders.csv")
    ccas = funders.loc[funders["funder"] == "CCAS de Nantes", "amount_eur"]
    assert ccas.sum() == 36_500
