"""``POST /v1/territories/{id}/imports/{dfc|ofn}``: the CLI's import over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from tests.interop.test_dfc import _farm

DATA = Path(__file__).resolve().parents[1] / "data"
URL = "/v1/territories/tiny/imports/dfc"
LD = {"Content-Type": "application/ld+json"}


def test_import_dfc_stores_a_new_version(client, keys, tiny):
    body = json.dumps(_farm()).encode()
    version = client.get("/v1/territories/tiny", headers=keys["planner"]).json()["version"]
    dry = client.post(
        URL, params={"dry_run": True}, content=body, headers={**keys["planner"], **LD}
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["version"] == version and dry.json()["report"]["changed_files"] == []
    assert "sites.csv" in dry.json()["report"]["would_change"]
    done = client.post(URL, content=body, headers={**keys["planner"], **LD})
    assert done.status_code == 200, done.text
    assert done.json()["version"] == version + 1
    sites = client.get("/v1/territories/tiny/tables/sites", headers=keys["planner"]).text
    assert "Ferme des Quatre Vents" in sites
    # the mapping is stored with the territory: the second import changes nothing
    again = client.post(URL, content=body, headers={**keys["planner"], **LD})
    assert again.json()["report"]["changed_files"] == []
    assert again.json()["version"] == version + 1


def test_import_refusals_are_problems(client, keys, tiny):
    remote = json.dumps({"@context": "https://evil.example/c.jsonld", "@id": "x"}).encode()
    r = client.post(URL, content=remote, headers={**keys["planner"], **LD})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
    assert "not fetched" in r.text
    r = client.post(URL, content=b"a,b\n", headers={**keys["planner"], "Content-Type": "text/csv"})
    assert r.status_code == 415
    r = client.post(URL, content=b"{}", headers={**keys["logistics"], **LD})
    assert r.status_code == 403
    r = client.post(
        "/v1/territories/nope/imports/dfc", content=b"{}", headers={**keys["planner"], **LD}
    )
    assert r.status_code == 404
    r = client.post(
        "/v1/territories/tiny/imports/csv", content=b"{}", headers={**keys["planner"], **LD}
    )
    assert r.status_code == 422


def test_import_ofn_over_http(client, keys, tiny):
    saved = (DATA / "ofn" / "orders_v0.json").read_bytes()
    r = client.post(
        "/v1/territories/tiny/imports/ofn",
        content=saved,
        headers={**keys["planner"], "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert report["rows"] == {} and len(report["unmapped"]) == 2  # two shops to map first


def test_import_is_limited_to_the_key_territories(client, store, keys, tiny):
    from api.store.keys import create_key

    token, _ = create_key(store, "planner", territories=["elsewhere"])
    r = client.post(URL, content=b"{}", headers={"Authorization": f"Bearer {token}", **LD})
    assert r.status_code == 404


def test_the_mapping_is_read_edited_and_used_over_http(client, keys, tiny):
    """Unmapped customer → the user maps it over HTTP → the next import writes the order."""
    order = (DATA / "dfc" / "fdc-update-backorder.json").read_bytes()
    first = client.post(URL, content=order, headers={**keys["planner"], **LD})
    assert first.json()["report"]["rows"] == {}
    mapping = client.get(f"{URL}/mapping", headers=keys["planner"])
    assert mapping.status_code == 200 and "enterprises/11000" in mapping.text
    edited = (
        "kind,source_id,our_id,name,managed\n"
        "site,http://test.host/api/dfc/enterprises/11000,S1,,false\n"
        "product,http://test.host/api/dfc/enterprises/10000/supplied_products/10001,pomme,,false\n"
    )
    csv = {**keys["planner"], "Content-Type": "text/csv"}
    r = client.put(f"{URL}/mapping", content=edited, headers=csv)
    assert r.status_code == 200, r.text
    second = client.post(URL, content=order, headers={**keys["planner"], **LD})
    assert second.json()["report"]["rows"] == {"orders": 1}
    bad = client.put(f"{URL}/mapping", content="kind,source_id,our_id\nfarm,x,../y\n", headers=csv)
    assert bad.status_code == 422 and "kind" in bad.text
    assert (
        client.get("/v1/territories/tiny/imports/ofn/mapping", headers=keys["planner"]).status_code
        == 404
    )
