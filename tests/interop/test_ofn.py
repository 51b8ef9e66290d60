"""Open Food Network API v0 orders: a saved response and the API itself (recorded, no network)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pandas as pd
import pytest

from api.cli import main
from api.interop import import_ofn
from api.interop.ofn import fetch
from core.territory import load_territory

DATA = Path(__file__).resolve().parents[1] / "data"
SAVED = DATA / "ofn" / "orders_v0.json"


@pytest.fixture
def territory(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(DATA / "tiny", folder)
    (folder / "interop").mkdir()
    (folder / "interop" / "ofn_mapping.csv").write_text(
        "kind,source_id,our_id,name,managed\n"
        "site,distributor:3,S1,Green Hub,false\n"
        "product,variant:10,carotte,Tomatoes - 1 kg,false\n"
        "product,variant:11,laitue,Lettuce - 1 each,false\n"
    )
    return folder


def _new_rows(folder: Path) -> pd.DataFrame:
    orders = load_territory(folder).orders
    return orders.loc[orders["date"] == pd.Timestamp("2024-01-01")]


def test_complete_orders_of_the_distributor_become_kilos(territory):
    report = import_ofn(SAVED.read_bytes(), territory, name="orders_v0.json", distributor="3")
    assert report["rows"] == {"orders": 2}
    rows = _new_rows(territory).set_index("product_id")
    # 2 × 1 kg of variant 10; 3 lettuces × 0.4 kg (our product's weight of one piece)
    assert rows.at["carotte", "quantity"] == pytest.approx(2.0)
    assert rows.at["carotte", "unit_price_eur"] == pytest.approx(4.5)
    assert rows.at["laitue", "quantity"] == pytest.approx(1.2)
    assert rows.at["laitue", "unit_price_eur"] == pytest.approx(5.0)
    assert set(rows["site_id"]) == {"S1"} and set(rows["unit"]) == {"kg"}
    assert any("not complete" in n for n in report["notes"])


def test_second_import_upserts_by_order_number(territory):
    import_ofn(SAVED.read_bytes(), territory, name="a.json", distributor="3")
    count = len(load_territory(territory).orders)
    document = json.loads(SAVED.read_text())
    document["orders"][0]["line_items"][0]["quantity"] = 5
    again = import_ofn(json.dumps(document).encode(), territory, name="b.json", distributor="3")
    assert again["rows"] == {"orders": 2}
    assert len(load_territory(territory).orders) == count
    assert _new_rows(territory).set_index("product_id").at["carotte", "quantity"] == 5.0


def test_unmapped_distributor_and_variant_are_listed(territory, tmp_path):
    (territory / "interop" / "ofn_mapping.csv").unlink()
    out = tmp_path / "r.json"
    argv = ["import", "ofn", str(SAVED), "--data", str(territory), "--dry-run", "--json", str(out)]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert report["rows"] == {} and report["changed_files"] == []
    assert {u["why"] for u in report["unmapped"]} >= {
        "distributor '3' is not mapped to one of our sites",
        "distributor '4' is not mapped to one of our sites",
    }


def test_since_skips_older_orders(territory):
    report = import_ofn(
        SAVED.read_bytes(), territory, name="x.json", since=pd.Timestamp("2024-01-01T12:00")
    )
    assert report["rows"] == {}  # order R123… completed before; R555… has an unmapped shop


def test_not_orders_exits_2(territory, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"orders": "nope"}')
    assert main(["import", "ofn", str(bad), "--data", str(territory)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_fetch_pages_and_details_with_the_token():
    """The API client, on a recorded exchange: index pages, then each order's detail."""
    saved = json.loads(SAVED.read_text())["orders"]
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, dict(request.url.params), request.headers["X-Spree-Token"]))
        if request.url.path == "/api/v0/orders":
            page = int(request.url.params["page"])
            summary = [{"number": saved[page - 1]["number"]}]
            return httpx.Response(200, json={"orders": summary, "pagination": {"pages": 2}})
        number = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=next(o for o in saved if o["number"] == number))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    body = fetch("https://ofn.example", "s3cret", distributor="3", client=client)
    numbers = [o["number"] for o in json.loads(body)["orders"]]
    assert numbers == ["R123456789", "R987654321"]
    assert seen[0][1]["q[distributor_id_eq]"] == "3" and seen[0][1]["q[state_eq]"] == "complete"
    assert {token for *_, token in seen} == {"s3cret"}


def test_fetch_refuses_odd_addresses():
    with pytest.raises(ValueError, match="http"):
        fetch("file:///etc/passwd", "t", distributor="3")


def test_url_needs_distributor_and_token(territory, monkeypatch, capsys):
    monkeypatch.delenv("OFN_TOKEN", raising=False)
    argv = ["import", "ofn", "--url", "https://ofn.example", "--data", str(territory)]
    assert main(argv) == 2
    assert "OFN_TOKEN" in capsys.readouterr().err
