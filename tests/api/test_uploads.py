"""Territory and activity uploads: atomic, validated like the command line, rejects reported."""

from __future__ import annotations

import pytest

from tests.api.conftest import TINY, tiny_files, tiny_zip

PROBLEM = "application/problem+json"
BAD_ORDERS = (
    b"date,site_id,product_id,quantity,unit\n"
    b"2025-01-08,S1,carotte,12,kg\n"
    b"2025-01-08,S2,carotte,twelve,kg\n"
    b"2025-01-08,NOPE,carotte,3,kg\n"
)


def _rows(client, keys, table="orders") -> int:
    body = client.get("/v1/territories/tiny", headers=keys["planner"]).json()
    return body["tables"][table]["rows"]


@pytest.mark.both_databases
def test_put_territory_multipart_and_zip_store_every_table(client, keys):
    r = client.put("/v1/territories/tiny", files=tiny_files(), headers=keys["planner"])
    assert r.status_code == 200, r.text
    assert r.json()["tables"]["orders"] == len((TINY / "orders.csv").read_text().splitlines()) - 1
    r = client.put(
        "/v1/territories/tiny2",
        content=tiny_zip(),
        headers={**keys["planner"], "Content-Type": "application/zip"},
    )
    assert r.status_code == 200, r.text
    listing = client.get("/v1/territories", headers=keys["logistics"]).json()
    assert [t["territory_id"] for t in listing["items"]] == ["tiny", "tiny2"]
    csv = client.get("/v1/territories/tiny2/tables/sites", headers=keys["planner"])
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("site_id,")


def test_put_territory_missing_table_names_the_file(client, keys):
    files = tiny_files()
    del files["vehicles"]
    r = client.put("/v1/territories/t", files=files, headers=keys["planner"])
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert any("vehicles.csv" in e["file"] for e in r.json()["errors"])
    assert client.get("/v1/territories/t", headers=keys["planner"]).status_code == 404


@pytest.mark.both_databases
def test_bad_orders_are_rejected_whole_with_file_row_column(client, keys, tiny):
    before = _rows(client, keys)
    r = client.post(
        "/v1/territories/tiny/orders",
        content=BAD_ORDERS,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["status"] == 422 and body["type"].endswith("invalid-input")
    found = {(e["file"], e["row"], e["column"]) for e in body["errors"]}
    assert found == {("orders.csv", 3, "quantity"), ("orders.csv", 4, "site_id")}
    assert _rows(client, keys) == before  # nothing half-applied


@pytest.mark.both_databases
def test_keep_valid_stores_valid_rows_and_reports_rejects(client, keys, tiny):
    before = _rows(client, keys)
    version = client.get("/v1/territories/tiny", headers=keys["planner"]).json()["version"]
    r = client.post(
        "/v1/territories/tiny/orders?keep_valid=true",
        content=BAD_ORDERS,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["received_rows"], body["accepted_rows"], body["num_rejected"]) == (3, 1, 2)
    assert [(x["row"], x["column"]) for x in body["rejects"]] == [(3, "quantity"), (4, "site_id")]
    assert body["rejects"][0]["values"]["quantity"] == "twelve"
    assert body["version"] == version + 1
    assert _rows(client, keys) == before + 1


def test_replace_orders_and_json_rows(client, keys, tiny):
    rows = [
        {
            "date": "2025-01-08",
            "site_id": "S1",
            "product_id": "carotte",
            "quantity": 5,
            "unit": "kg",
        }
    ] * 2
    r = client.post("/v1/territories/tiny/orders?mode=replace", json=rows, headers=keys["planner"])
    assert r.status_code == 200, r.text
    assert _rows(client, keys) == 2
    page = client.get(
        "/v1/territories/tiny/tables/orders/rows?site_id=S1&limit=1", headers=keys["planner"]
    ).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["quantity"] == 5


def test_replacing_master_table_checks_rows_that_refer_to_it(client, keys, tiny):
    products = (TINY / "products.csv").read_text().splitlines()
    without_carrots = "\n".join(line for line in products if not line.startswith("carotte,"))
    r = client.put(
        "/v1/territories/tiny/tables/products",
        content=without_carrots,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    files = {e["file"] for e in r.json()["errors"]}
    assert files & {"crops.csv", "orders.csv"}
    assert (
        "carotte,"
        in client.get("/v1/territories/tiny/tables/products", headers=keys["planner"]).text
    )


def test_caisse_transactions_upload_uses_households(client, keys, tiny):
    bad = b"timestamp,household_id,site_id,amount\n2025-01-08T10:00,H_UNKNOWN,S1,12.5\n"
    r = client.post(
        "/v1/territories/tiny/caisse-transactions",
        content=bad,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["column"] == "household_id"


def test_unsupported_media_type_and_oversized_body(client, keys, tiny):
    r = client.post(
        "/v1/territories/tiny/orders",
        content=b"<x/>",
        headers={**keys["planner"], "Content-Type": "application/xml"},
    )
    assert r.status_code == 415 and r.headers["content-type"] == PROBLEM
    big = b"date,site_id,product_id,quantity,unit\n" + b"2025-01-08,S1,carotte,1,kg\n" * 120_000
    r = client.post(
        "/v1/territories/tiny/orders",
        content=big,
        headers={**keys["planner"], "Content-Type": "text/csv"},
    )
    assert r.status_code == 413 and r.json()["title"] == "Content Too Large"


def test_bad_zip_and_unknown_table_field(client, keys):
    r = client.put(
        "/v1/territories/z",
        content=b"not a zip",
        headers={**keys["planner"], "Content-Type": "application/zip"},
    )
    assert r.status_code == 422
    r = client.put(
        "/v1/territories/z",
        files={"nonsense": ("x.csv", b"a\n1\n", "text/csv")},
        headers=keys["planner"],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.nonsense"


def test_caisse_ledger_what_if(client, keys, tiny):
    h = keys["planner"]
    base = client.get("/v1/territories/tiny/caisse-ledger", headers=h)
    assert base.status_code == 200, base.text
    more = client.get("/v1/territories/tiny/caisse-ledger?extra_households=10", headers=h)
    assert base.json()["total"] == more.json()["total"] > 0
    assert base.json()["items"] != more.json()["items"]
    assert (
        client.get("/v1/territories/tiny/caisse-ledger", headers=keys["logistics"]).status_code
        == 403
    )


def test_put_territory_as_json_tables(client, keys):
    import csv

    tables = {}
    for path in sorted(TINY.glob("*.csv")):
        with path.open(newline="") as fh:
            tables[path.stem] = list(csv.DictReader(fh))
    r = client.put("/v1/territories/tj", json=tables, headers=keys["planner"])
    assert r.status_code == 200, r.text
    assert r.json()["tables"]["sites"] == len(tables["sites"])
    tables["sites"][0]["lat"] = "north"
    r = client.put("/v1/territories/tj", json=tables, headers=keys["planner"])
    assert r.status_code == 422
    assert (r.json()["errors"][0]["file"], r.json()["errors"][0]["column"]) == ("sites.csv", "lat")
    r = client.put("/v1/territories/tj", json={"sitez": []}, headers=keys["planner"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.sitez"
