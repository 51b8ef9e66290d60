"""DFC JSON-LD in and out: real platform payloads, the mapping, upserts, the round trip, attacks."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path

import pandas as pd
import pytest

from api.cli import main
from api.interop import graph as graph_module
from api.interop import import_dfc
from api.interop.mapping import slug
from core.csvio import read_csv_any
from core.safety import is_id
from core.territory import load_territory

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = DATA / "tiny"
DFC = DATA / "dfc"
B = "https://example.org/dfc"


@pytest.fixture
def territory(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any socket opened during these tests is a bug: contexts are never fetched."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _mapping(folder: Path, rows: list[tuple[str, str, str]]) -> None:
    (folder / "interop").mkdir(exist_ok=True)
    lines = ["kind,source_id,our_id,name,managed"]
    lines += [f"{kind},{source},{ours},,false" for kind, source, ours in rows]
    (folder / "interop" / "dfc_mapping.csv").write_text("\n".join(lines) + "\n")


def _farm(name: str = "Ferme des Quatre Vents", lat: object = 47.25, price: object = 2.4) -> dict:
    """A small DFC catalogue: one farm with coordinates, one product in 1 kg units, its offer."""
    farm = f"{B}/enterprises/42"
    return {
        "@context": "https://www.datafoodconsortium.org",
        "@graph": [
            {
                "@id": farm,
                "@type": "dfc-b:Enterprise",
                "dfc-b:name": name,
                "dfc-b:hasAddress": f"{farm}#address",
                "dfc-b:supplies": f"{farm}/products/7",
            },
            {
                "@id": f"{farm}#address",
                "@type": "dfc-b:Address",
                "dfc-b:hasCity": "Bouguenais",
                "dfc-b:latitude": lat,
                "dfc-b:longitude": -1.62,
            },
            {
                "@id": f"{farm}/products/7",
                "@type": "dfc-b:SuppliedProduct",
                "dfc-b:name": "Poireau",
                "dfc-b:hasType": "dfc-pt:vegetable",
                "dfc-b:hasQuantity": {
                    "@type": "dfc-b:QuantitativeValue",
                    "dfc-b:hasUnit": "dfc-m:Kilogram",
                    "dfc-b:value": 1,
                },
            },
            {
                "@id": f"{farm}/offers/7",
                "@type": "dfc-b:Offer",
                "dfc-b:offeredItem": f"{farm}/products/7",
                "dfc-b:hasPrice": {
                    "@type": "dfc-b:Price",
                    "dfc-b:value": price,
                    "dfc-b:hasUnit": "dfc-m:Euro",
                },
            },
        ],
    }


def test_catalogue_of_three_organisations_dry_run(territory, tmp_path):
    """The bar: LiteFarm's catalogue → counts, unmapped with reasons, unknown types, exit 0,
    nothing changed."""
    before = _digest(territory)
    out = tmp_path / "report.json"
    argv = ["import", "dfc", str(DFC / "litefarm_v2.json"), "--data", str(territory)]
    assert main([*argv, "--dry-run", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {k: report[k] for k in ("producers", "products", "orders", "changed_files")} == {
        "producers": 3,
        "products": 3,
        "orders": 0,
        "changed_files": [],
    }
    assert _digest(territory) == before
    assert {"SocialMedia", "Certfication", "Person", "PhoneNumber"} <= set(report["unknown_types"])
    assert report["unknown_types"]["SocialMedia"] == 9
    why = {u["@id"].rsplit("/", 1)[-1]: u["why"] for u in report["unmapped"]}
    farm = "79eba89b-0c26-414f-9f74-50aeb537519b"
    assert "latitude/longitude" in why[farm]
    assert "kilos unknown" in why[f"{farm}#suppliedProduct-bakery"]


def test_ofn_dfc_order_becomes_order_rows_in_kilos(territory):
    """The bar: OFN's DFC order (line, offer price, sale session) → orders.csv rows with the
    kilos (5 × 1 g) and the date the sale session closes; a second import adds nothing."""
    _mapping(
        territory,
        [
            ("site", "http://test.host/api/dfc/enterprises/11000", "S1"),
            (
                "product",
                "http://test.host/api/dfc/enterprises/10000/supplied_products/10001",
                "pomme",
            ),
        ],
    )
    payload = (DFC / "fdc-update-backorder.json").read_bytes()
    report = import_dfc(payload, territory, name="order.json")
    assert report["orders"] == 1 and report["rows"] == {"orders": 1}
    assert "orders.csv" in report["changed_files"]
    orders = load_territory(territory).orders
    row = orders.loc[orders["product_id"] == "pomme"].iloc[-1]
    assert (row["date"], row["site_id"], row["unit"]) == (pd.Timestamp("2025-03-27"), "S1", "kg")
    assert row["quantity"] == pytest.approx(0.005)
    assert pd.isna(row["unit_price_eur"])  # priced in Australian dollars: not a euro price
    count = len(orders)
    again = import_dfc(payload, territory, name="order.json")
    assert again["changed_files"] == [] and len(load_territory(territory).orders) == count
    changed = payload.replace(b'"dfc-b:quantity": 5', b'"dfc-b:quantity": 8')
    import_dfc(changed, territory, name="order.json")
    orders = load_territory(territory).orders
    assert len(orders) == count  # the order's line is replaced, not added
    assert orders.loc[orders["product_id"] == "pomme", "quantity"].iloc[-1] == pytest.approx(0.008)


def test_unmapped_customer_is_listed_not_fatal(territory):
    report = import_dfc((DFC / "fdc-update-backorder.json").read_bytes(), territory, name="o.json")
    assert report["rows"] == {}
    assert any("orderedBy" in u["why"] for u in report["unmapped"])


def test_new_farm_creates_rows_and_second_import_updates(territory):
    first = import_dfc(json.dumps(_farm()).encode(), territory, name="farm.json")
    assert first["rows"] == {"sites": 1, "producers": 1, "products": 1}
    t = load_territory(territory)  # the territory still passes every check
    farm_id = slug(f"{B}/enterprises/42", "Ferme des Quatre Vents")
    assert t.producers.set_index("producer_id").at[farm_id, "site_id"] == farm_id
    site = t.sites.set_index("site_id").loc[farm_id]
    assert (site["kind"], site["lat"], site["commune"]) == ("farm", 47.25, "Bouguenais")
    product = t.products.set_index("product_id").loc[
        slug(f"{B}/enterprises/42/products/7", "Poireau")
    ]
    assert (product["unit"], product["fair_price_eur_per_kg"], product["category"]) == (
        "kg",
        2.4,
        "vegetable",
    )
    counts = (len(t.sites), len(t.producers), len(t.products))
    import_dfc(json.dumps(_farm(name="Ferme des 4 Vents")).encode(), territory, name="farm.json")
    t = load_territory(territory)
    assert (len(t.sites), len(t.producers), len(t.products)) == counts
    assert t.producers.set_index("producer_id").at[farm_id, "name"] == "Ferme des 4 Vents"


def test_round_trip_plan_volumes(territory, tmp_path):
    """Export of a plan's weekly volumes, imported back: the same kilos per farm, product, week."""
    harvest = pd.DataFrame(
        {
            "week_start": ["2025-04-28", "2025-04-28", "2025-05-05", "2025-05-05"],
            "producer_id": ["P1", "P2", "P1", "P1"],
            "site_id": ["F1", "F2", "F1", "F1"],
            "product_id": ["laitue", "pomme", "laitue", "carotte"],
            "storage_class": ["fresh", "ambient", "fresh", "fresh"],
            "kg": [420.0, 12345.678, 120.25, 0.005],
            "committed_kg": 0.0,
        }
    )
    plan = tmp_path / "plan"
    plan.mkdir()
    harvest.to_csv(plan / "harvest.csv", index=False)
    out = tmp_path / "offers.jsonld"
    argv = ["export", "dfc", "--data", str(territory), "--plan", str(plan), "--out", str(out)]
    assert main(argv) == 0
    assert main(["import", "dfc", str(out), "--data", str(territory)]) == 0
    back = load_territory(territory).availability
    got = {(str(r.week_start.date()), r.site_id, r.product_id): r.kg for r in back.itertuples()}
    want = {(r.week_start, r.site_id, r.product_id): r.kg for r in harvest.itertuples()}
    assert got == pytest.approx(want)
    document = json.loads(out.read_text())
    kinds = {n["@type"] for n in document["@graph"]}
    assert {
        "dfc-b:Enterprise",
        "dfc-b:SuppliedProduct",
        "dfc-b:Offer",
        "dfc-b:SaleSession",
    } <= kinds


def test_week_pickups_export_as_orders_to_farms(territory, tmp_path):
    week = tmp_path / "week"
    week.mkdir()
    pd.DataFrame(
        {
            "site_id": ["F1", "F1", "F2"],
            "product_id": ["carotte", "laitue", "pomme"],
            "storage_class": "fresh",
            "kg": [30.0, 12.0, 0.0],
            "surplus_kg": 0.0,
        }
    ).to_csv(week / "pickups.csv", index=False)
    out = tmp_path / "pickups.jsonld"
    argv = [
        "export",
        "dfc",
        "--data",
        str(territory),
        "--week",
        str(week),
        "--week-start",
        "2025-05-05",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    nodes = {n["@id"]: n for n in json.loads(out.read_text())["@graph"]}
    orders = [n for n in nodes.values() if n["@type"] == "dfc-b:Order"]
    assert len(orders) == 1  # F2 picks up nothing
    lines = [nodes[i] for i in orders[0]["dfc-b:hasPart"]]
    assert sorted(line["dfc-b:quantity"] for line in lines) == [12.0, 30.0]
    # imported back, orders placed by our hub are not read as shop orders
    report = import_dfc(out.read_bytes(), territory, name="pickups.jsonld", dry_run=True)
    assert report["rows"] == {} and "hub" in report["unmapped"][0]["why"]


def test_suggest_mapping_by_name(territory, capsys):
    doc = _farm(price=None)
    doc["@graph"][2]["dfc-b:name"] = "Carottes"
    path = territory.parent / "carottes.json"
    path.write_text(json.dumps(doc))
    assert main(["import", "dfc", str(path), "--data", str(territory), "--suggest-mapping"]) == 0
    mapping = pd.read_csv(territory / "interop" / "dfc_mapping.csv", dtype=str).fillna("")
    row = mapping.loc[mapping["kind"] == "product"].iloc[0]
    assert (row["our_id"], row["managed"]) == ("carotte", "false")
    for table in ("orders.csv", "products.csv", "sites.csv"):  # only the mapping is written
        assert (territory / table).read_bytes() == (TINY / table).read_bytes()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"not json", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (
            json.dumps({"@context": "https://evil.example/ctx.jsonld", "@id": "x"}).encode(),
            "is not fetched",
        ),
        (json.dumps(_farm(lat=123.0)).encode(), "dfc-b:latitude"),
    ],
    ids=["not-json", "deep", "remote-context", "latitude"],
)
def test_bad_input_exits_2_naming_what(territory, tmp_path, capsys, payload, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(payload)
    before = _digest(territory)
    assert main(["import", "dfc", str(path), "--data", str(territory)]) == 2
    err = capsys.readouterr().err
    assert expected in " ".join(err.split()), err
    assert _digest(territory) == before


def test_too_large_and_too_many_nodes(territory, monkeypatch, tmp_path):
    payload = json.dumps(_farm()).encode()
    monkeypatch.setattr(graph_module, "MAX_BYTES", 100)
    with pytest.raises(graph_module.InputTooLarge, match="at most 100"):
        import_dfc(payload, territory, name="big.json")
    monkeypatch.setattr(graph_module, "MAX_BYTES", 10**6)
    monkeypatch.setattr(graph_module, "MAX_NODES", 3)
    with pytest.raises(graph_module.InputTooLarge, match="more than 3"):
        import_dfc(payload, territory, name="many.json")


def test_ids_from_hostile_at_ids_stay_plain_names(territory):
    doc = _farm()
    hostile = "../../../etc/passwd"
    doc["@graph"][0]["@id"] = hostile
    doc["@graph"][0]["dfc-b:hasAddress"] = "../../../etc/passwd#address"
    doc["@graph"][1]["@id"] = "../../../etc/passwd#address"
    report = import_dfc(json.dumps(doc).encode(), territory, name="hostile.json")
    assert report["rows"]["producers"] == 1
    producers = load_territory(territory).producers
    made = producers["producer_id"].iloc[-1]
    assert is_id(made) and "/" not in made and ".." not in made
    files = {p.name for p in territory.rglob("*") if p.is_file()}
    assert not any("passwd" in f for f in files)


def test_slug_is_deterministic_and_distinct():
    a = slug("https://a.example/enterprises/1", "Ferme")
    assert a == slug("https://a.example/enterprises/1", "Ferme")
    assert a != slug("https://b.example/enterprises/1", "Ferme")
    assert is_id(slug("x" * 5000)) and is_id(slug("///", ""))


@pytest.mark.slow
def test_round_trip_of_a_solved_plan(territory, tmp_path):
    """The bar on a real plan of the tiny territory: exported, imported back, same volumes."""
    plan = tmp_path / "plan"
    assert main(["plan", "--data", str(territory), "--out", str(plan), "--work", "0.05"]) == 0
    out = tmp_path / "offers.jsonld"
    argv = ["export", "dfc", "--data", str(territory), "--plan", str(plan), "--out", str(out)]
    assert main(argv) == 0
    assert main(["import", "dfc", str(out), "--data", str(territory)]) == 0
    harvest = read_csv_any(plan / "harvest.csv")
    harvest = harvest.loc[harvest["kg"] > 0]
    want = harvest.groupby(["week_start", "site_id", "product_id"])["kg"].sum().to_dict()
    back = load_territory(territory).availability
    got = {(str(r.week_start.date()), r.site_id, r.product_id): r.kg for r in back.itertuples()}
    assert len(want) > 5 and got == pytest.approx(want, abs=1e-3)


def test_fetch_a_document_with_its_token_within_the_cap(monkeypatch):
    import httpx

    from api.interop.dfc import fetch

    body = (DFC / "litefarm_v2.json").read_bytes()
    seen = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, content=body)

    client = httpx.Client(transport=httpx.MockTransport(answer))
    assert fetch("https://api.example/dfc/enterprises", "tok", client=client) == body
    assert seen["authorization"] == "Bearer tok" and "ld+json" in seen["accept"]
    monkeypatch.setattr(graph_module, "MAX_BYTES", 1000)
    with pytest.raises(graph_module.InputError, match="over 1,000 bytes"):
        fetch("https://api.example/dfc/enterprises", client=client)
    with pytest.raises(graph_module.InputError, match="http"):
        fetch("file:///etc/passwd")
