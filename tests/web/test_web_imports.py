"""The import page: an Open Food Network or DFC file checked (nothing stored) then imported (a
new version), elements not taken listed in French, the correspondence table downloaded,
completed and uploaded; roles, territories and sizes kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web_helpers import csrf_of
from web_sites import open_site

from api.store import territories as store_t
from tests.interop.test_dfc import _farm

DATA = Path(__file__).resolve().parents[1] / "data"
BACKORDER = DATA / "dfc" / "fdc-update-backorder.json"
MAPPED = (
    "kind,source_id,our_id,name,managed\n"
    "site,http://test.host/api/dfc/enterprises/11000,S1,,false\n"
    "product,http://test.host/api/dfc/enterprises/10000/supplied_products/10001,pomme,,false\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A store (tiny and ``other``), the app, and a signed-in client per key; the tests
    compare versions before and after, so they hold whichever test ran before."""
    store, clients = open_site(tmp_path_factory.mktemp("imports"))
    yield store, clients
    store.engine.dispose()


def post_file(client, url: str, content: bytes, name: str, **fields):
    csrf = csrf_of(client.get("/t/tiny/import").text)
    return client.post(
        url, data={"csrf": csrf, **fields}, files={"file": (name, content, "application/json")}
    )


def version(store) -> int:
    return store_t.territory_row(store, "tiny").version


def test_check_changes_nothing_then_import_stores_a_version(site):
    store, clients = site
    body = json.dumps(_farm()).encode()
    before = version(store)
    checked = post_file(
        clients["planner"], "/t/tiny/import", body, "ferme.json", source="dfc", mode="check"
    )
    assert checked.status_code == 200, checked.text[:500]
    assert "rien n'a été enregistré" in checked.text and "sites.csv" in checked.text
    assert "complétez producers.csv" in checked.text  # the import's notes, in French
    assert version(store) == before
    done = post_file(
        clients["planner"], "/t/tiny/import", body, "ferme.json", source="dfc", mode="import"
    )
    assert done.status_code == 200
    assert version(store) == before + 1
    assert b"Ferme des Quatre Vents" in store_t.table_content(store, "tiny", "sites")


def test_unmapped_elements_are_listed_then_mapped_through_the_table(site):
    _, clients = site
    client = clients["planner"]
    order = BACKORDER.read_bytes()
    first = post_file(client, "/t/tiny/import", order, "commande.json", source="dfc", mode="import")
    assert first.status_code == 200
    assert "non repris" in first.text and "ne correspond à aucun de nos sites" in first.text
    table = client.get("/t/tiny/import/dfc/correspondances.csv")
    assert table.status_code == 200 and "enterprises/11000" in table.text
    assert "attachment" in table.headers["content-disposition"]
    csrf = csrf_of(client.get("/t/tiny/import").text)
    saved = client.post(
        "/t/tiny/import/correspondances",
        data={"csrf": csrf, "source": "dfc"},
        files={"file": ("correspondances.csv", MAPPED.encode(), "text/csv")},
    )
    assert saved.status_code == 200 and "2 correspondances enregistrées" in saved.text
    again = post_file(client, "/t/tiny/import", order, "commande.json", source="dfc", mode="import")
    assert "commandes : 1 ligne(s) écrites" in again.text
    bad = client.post(
        "/t/tiny/import/correspondances",
        data={"csrf": csrf, "source": "dfc"},
        files={"file": ("c.csv", b"kind,source_id,our_id\nfarm,x,../y\n", "text/csv")},
    )
    assert bad.status_code == 422 and "kind" in bad.text


def test_ofn_orders_without_mapping_say_which_shops_to_map(site):
    _, clients = site
    saved = (DATA / "ofn" / "orders_v0.json").read_bytes()
    page = post_file(clients["planner"], "/t/tiny/import", saved, "ofn.json", source="ofn")
    assert page.status_code == 200
    assert page.text.count("le distributeur") == 2  # two shops to map first


def test_refusals(site):
    _, clients = site
    planner = clients["planner"]
    broken = post_file(planner, "/t/tiny/import", b"{not json", "x.json", source="ofn")
    assert broken.status_code == 422 and 'role="alert"' in broken.text
    assert post_file(planner, "/t/tiny/import", b"{}", "x.json", source="csv").status_code == 404
    assert clients["logistics"].get("/t/tiny/import").status_code == 403
    assert clients["other"].get("/t/tiny/import").status_code == 404
    assert clients["other"].get("/t/tiny/import/dfc/correspondances.csv").status_code == 404
    assert planner.get("/t/tiny/import/ofn/correspondances.csv").status_code == 404  # none yet
    assert planner.get("/t/tiny/import/..%2F..%2Fetc/correspondances.csv").status_code == 404
