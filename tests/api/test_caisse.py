"""The caisses over HTTP: the same stage as ``vivres caisse`` (issue 15)."""

from __future__ import annotations

from api_helpers import tiny_files

CAISSES = (
    "caisse_id,name,area,currency,start,first_person_eur,additional_person_eur,"
    "min_contribution_per_person_eur,unspent,approval_threshold_pct\n"
    "nantes,CCA urbaine,Nantes,SONANTES,2025-01-01,100,50,5,carry,60\n"
    "retz,CCA Pays de Retz,Pays de Retz,EUR,2025-02-01,80,40,2,expire,50\n"
)
HOUSEHOLDS = (
    "household_id,size,monthly_contribution_eur,joined,caisse_id\n"
    "H1,1,20,2025-01-01,nantes\nH2,3,10,2025-01-01,nantes\nH3,2,40,2025-02-01,retz\n"
)
FUNDERS = "funder,caisse_id,month,amount_eur\nCCAS de Nantes,nantes,2025-01-01,36500\n"
CRITERIA = (
    "caisse_id,criterion_id,label,weight,max_points,eliminatory,min_points\n"
    "nantes,local,Approvisionnement local,3,4,false,0\n"
    "nantes,prix,Prix justes,3,4,true,2\n"
)
ASSESSMENTS = (
    "caisse_id,site_id,criterion_id,points,assessor,assessed_on\n"
    "nantes,S1,local,4,comité,2025-01-05\nnantes,S1,prix,2,comité,2025-01-05\n"
)


def _two_caisses(client, keys):
    files = {k: v for k, v in tiny_files().items() if k not in ("caisse_rule", "households")}
    for name, text in (
        ("caisses", CAISSES),
        ("households", HOUSEHOLDS),
        ("funders", FUNDERS),
        ("caisse_criteria", CRITERIA),
        ("shop_assessments", ASSESSMENTS),
    ):
        files[name] = (f"{name}.csv", text.encode(), "text/csv")
    r = client.put("/v1/territories/deux", files=files, headers=keys["planner"])
    assert r.status_code == 200, r.text


def test_balance_grid_contributions_and_credits(client, keys):
    _two_caisses(client, keys)
    h = keys["planner"]
    book = client.get("/v1/territories/deux/caisse/balance?caisse_id=nantes", headers=h).json()
    january = book["items"][0]
    assert january["month"] == "2025-01"
    assert january["closing_cash_eur"] == 36_500 + 30 - 300  # H1 100 €, H2 200 €
    grid = client.get("/v1/territories/deux/caisse/grid", headers=h).json()["items"]
    assert [(g["site_id"], g["approved"]) for g in grid] == [("S1", True)]
    under = client.get("/v1/territories/deux/caisse/contributions", headers=h).json()["items"]
    assert {u["household_id"] for u in under if u["under_minimum"]} == {"H2"}  # 10 < 3 × 5
    credits = client.get(
        "/v1/territories/deux/caisse-credits?caisse_id=retz&month=2025-03", headers=h
    )
    assert credits.status_code == 200
    assert credits.text.splitlines() == [
        "household_id,amount,month,currency",
        "H3,120.0,2025-03,EUR",
    ]
    bad = client.get("/v1/territories/deux/caisse-credits?caisse_id=lyon&month=2025-03", headers=h)
    assert bad.status_code == 422 and "unknown caisse" in bad.json()["detail"]
    for month in ("0000-01", "9999-12", "2025-13"):  # beyond pandas' dates: a 422, never a 500
        r = client.get(
            f"/v1/territories/deux/caisse-credits?caisse_id=retz&month={month}", headers=h
        )
        assert r.status_code == 422, (month, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "month" in {e["field"].split(".")[-1] for e in r.json()["errors"]}, r.text
    assert (
        client.get("/v1/territories/deux/caisse/grid", headers=keys["logistics"]).status_code == 403
    )


def test_sizing_over_http(client, keys):
    h = keys["planner"]
    body = {"budget_eur": 240000, "rule": "100/person", "months": 12}
    r = client.post("/v1/caisse/size", json=body, headers=h)
    assert r.status_code == 200 and r.json()["people"] == 200
    r = client.post("/v1/caisse/size", json={**body, "rule": "100+50"}, headers=h)
    assert r.status_code == 422 and "depends on the household size" in r.json()["detail"]
    r = client.post("/v1/caisse/size", json={**body, "months": 0}, headers=h)
    assert r.status_code == 422


def test_sizing_with_another_hubs_territory_is_404(client, keys, store, tiny):
    from api.store.keys import create_key

    token, _ = create_key(store, "planner", territories=["elsewhere"])
    r = client.post(
        "/v1/caisse/size",
        json={"budget_eur": 1000, "rule": "100+50", "months": 1, "territory_id": "tiny"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 404


def test_what_would_make_a_shop_approvable_over_http(client, keys):
    _two_caisses(client, keys)
    h = keys["planner"]
    r = client.get("/v1/territories/deux/caisse-approve?caisse_id=nantes&site_id=S1", headers=h)
    assert r.status_code == 200 and r.json()["approvable"] is True
    bad = client.get("/v1/territories/deux/caisse-approve?caisse_id=x&site_id=S1", headers=h)
    assert bad.status_code == 422 and "unknown caisse" in bad.json()["detail"]
    none = client.get("/v1/territories/deux/caisse-approve?caisse_id=nantes&site_id=S9", headers=h)
    assert none.status_code == 422 and "no assessment" in none.json()["detail"]
