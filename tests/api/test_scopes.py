"""Keys scoped to territories: another hub's territory, jobs, scenarios and producers answer
404 for every role, on every route (issue 11, finding 2), cold and warm."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from api_helpers import tiny_files

from api import jobs
from api.store.keys import create_key
from api.store.models import ApiKey

#: under -n, on one worker: the module-scoped template is built once
pytestmark = pytest.mark.xdist_group("test_scopes")

PLAN = {"horizon_weeks": 52, "work": 0.2}
ROUTES = {"week": 48, "time_limit_s": 1, "seed": 1}


def _run(store, job_id: str) -> None:
    jobs.claim_next(store, "test:0")
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error


@pytest.fixture(scope="module")
def hub_template(tmp_path_factory) -> tuple[Path, dict]:
    """Two hubs with the same producer ids, built once per module in a SQLite file the tests
    copy: ``tiny`` (solved plan, frozen contract, routes, a scenario) and ``own``."""
    from api_helpers import test_client

    from api.http import create_app
    from api.store.db import Store

    db = tmp_path_factory.mktemp("hubs") / "vivres.db"
    store = Store.open(f"sqlite:///{db}")
    token, _ = create_key(store, "planner", all_territories=True)
    admin = {"Authorization": f"Bearer {token}"}
    with test_client(create_app(store, max_body_mb=2, rate_limit=(0, 0))) as client:
        for territory_id in ("tiny", "own"):
            r = client.put(f"/v1/territories/{territory_id}", files=tiny_files(), headers=admin)
            assert r.status_code == 200, r.text
        plan = client.post("/v1/territories/tiny/plans", json=PLAN, headers=admin).json()
        _run(store, plan["job_id"])
        frozen = client.post(
            "/v1/territories/tiny/contracts",
            json={"plan_job_id": plan["job_id"], "producer_id": "P1"},
            headers=admin,
        )
        assert frozen.status_code == 200, frozen.text
        routes = client.post(
            "/v1/territories/tiny/routes",
            json={**ROUTES, "plan_job_id": plan["job_id"]},
            headers=admin,
        ).json()
        _run(store, routes["job_id"])
        body = "name: drought\nchanges:\n  - demand: {factor: 1.1}\n"
        scenario = client.post(
            "/v1/territories/tiny/scenarios", json={"name": "drought", "body": body}, headers=admin
        )
        assert scenario.status_code in (200, 201), scenario.text
    store.engine.dispose()
    ids = {
        "plan": plan["job_id"],
        "routes": routes["job_id"],
        "scenario": scenario.json()["scenario_id"],
    }
    return db, ids


@pytest.fixture
def db_url(request, tmp_path, hub_template):
    """Each test gets its own copy of the two hubs' database."""
    assert request.param == "sqlite"
    db = tmp_path / "vivres.db"
    shutil.copyfile(hub_template[0], db)
    return f"sqlite:///{db}"


@pytest.fixture
def hubs(store, hub_template):
    """The two hubs (``hub_template``); keys of every role scoped to ``own`` only."""
    scoped = {}
    for role, producer in (("planner", None), ("logistics", None), ("producer", "P1")):
        token, _ = create_key(store, role, producer_id=producer, territories=["own"])
        scoped[role] = {"Authorization": f"Bearer {token}"}
    return {**hub_template[1], "keys": scoped}


def _fill(path: str, hubs: dict) -> str:
    job = hubs["routes"] if path.startswith(("/v1/routes", "/v1/jobs")) else hubs["plan"]
    values = {
        "territory_id": "tiny",
        "job_id": job,
        "producer_id": "P1",
        "scenario_id": hubs["scenario"],
        "table": "sites",
        "day": "2026-11-23",
        "vehicle_id": "V1",
        "name": "report.json",
        "contract_id": "P1",
        "source": "dfc",
    }
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: values[m.group(1)], path)


def _read_routes(store) -> list[str]:
    """Every GET route of the API that names a territory, job, scenario or producer: a new
    route is in the matrix without anyone adding it."""
    from api.http import create_app

    paths = create_app(store).openapi()["paths"]
    return sorted(
        p for p, ops in paths.items() if "get" in ops and p.startswith("/v1/") and "{" in p
    )


def test_every_read_route_of_another_territory_is_404_for_every_role(client, store, hubs):
    paths = _read_routes(store)
    assert len(paths) >= 20
    for role, headers in hubs["keys"].items():
        for path in paths:
            url = _fill(path, hubs)
            for attempt in ("cold", "warm"):
                r = client.get(url, headers=headers)
                assert r.status_code == 404, (role, url, attempt, r.status_code, r.text)
                assert r.headers["content-type"] == "application/problem+json"
    # the compare route takes its jobs in the query
    r = client.get(
        f"/v1/plans/compare?a={hubs['plan']}&b={hubs['plan']}", headers=hubs["keys"]["planner"]
    )
    assert r.status_code == 404


def test_warm_reads_of_an_admin_do_not_open_the_fast_path_to_other_hubs(client, keys, hubs):
    # an admin warms the cache with tiny's results; a key of 'own' still gets 404
    producers = client.get(f"/v1/plans/{hubs['plan']}/contracts", headers=keys["planner"])
    contracts = [f"/v1/plans/{hubs['plan']}/contracts/{p}" for p in producers.json()]
    assert contracts
    for path in (
        f"/v1/plans/{hubs['plan']}",
        *contracts,
        f"/v1/routes/{hubs['routes']}",
        f"/v1/routes/{hubs['routes']}/geojson",
    ):
        for _ in range(2):
            assert client.get(path, headers=keys["planner"]).status_code == 200
        for role, headers in hubs["keys"].items():
            r = client.get(path, headers=headers)
            assert r.status_code == 404, (role, path, r.status_code)


def test_writes_into_another_territory_are_404(client, hubs):
    h = hubs["keys"]["planner"]
    assert client.post("/v1/territories/tiny/plans", json=PLAN, headers=h).status_code == 404
    assert client.delete("/v1/territories/tiny", headers=h).status_code == 404
    assert client.put("/v1/territories/tiny", files=tiny_files(), headers=h).status_code == 404
    assert client.post(f"/v1/jobs/{hubs['plan']}/rerun", headers=h).status_code == 404
    assert client.post(f"/v1/jobs/{hubs['routes']}/cancel", headers=h).status_code == 404
    assert client.post(f"/v1/scenarios/{hubs['scenario']}/run", headers=h).status_code == 404
    r = client.post(
        "/v1/territories/tiny/orders", content=b"x", headers={**h, "Content-Type": "text/csv"}
    )
    assert r.status_code == 404


def test_route_job_cannot_take_another_territorys_plan(client, hubs):
    r = client.post(
        "/v1/territories/own/routes",
        json={**ROUTES, "plan_job_id": hubs["plan"]},
        headers=hubs["keys"]["logistics"],
    )
    assert r.status_code == 422 and "does not exist" in r.text


def test_lists_show_only_the_keys_territories(client, keys, hubs):
    h = hubs["keys"]["planner"]
    listing = client.get("/v1/territories", headers=h).json()
    assert [t["territory_id"] for t in listing["items"]] == ["own"] and listing["total"] == 1
    assert client.get("/v1/jobs", headers=h).json()["total"] == 0
    everything = client.get("/v1/jobs", headers=keys["planner"]).json()  # admin key
    assert everything["total"] >= 2
    r = client.get("/v1/territories/own/scenarios", headers=h)
    assert r.status_code == 200 and r.json()["total"] == 0


def test_deleted_territory_is_not_served_from_the_cache(client, keys, hubs):
    paths = [
        f"/v1/plans/{hubs['plan']}",
        f"/v1/routes/{hubs['routes']}/geojson",
        f"/v1/routes/{hubs['routes']}",
    ]
    for path in paths * 2:  # cold, then warm (fast path)
        assert client.get(path, headers=keys["planner"]).status_code == 200
    assert client.delete("/v1/territories/tiny", headers=keys["planner"]).status_code == 204
    for path in paths:
        assert client.get(path, headers=keys["planner"]).status_code == 404, path


def test_a_key_made_before_scopes_is_refused_until_scoped(client, store, hubs):
    from api.store.keys import scope_key

    token, principal = create_key(store, "logistics", territories=["own"])
    with store.session() as session:  # as the migration leaves a key made before scopes
        row = session.get(ApiKey, principal.key_id)
        row.territories, row.all_territories = None, False
    client.app.state.keys = type(client.app.state.keys)(store)  # a restarted server
    h = {"Authorization": f"Bearer {token}"}
    r = client.get("/v1/territories", headers=h)
    assert r.status_code == 403 and "vivres keys scope" in r.json()["detail"]
    scope_key(store, principal.key_id, territories=["own"])
    client.app.state.keys = type(client.app.state.keys)(store)
    assert client.get("/v1/territories", headers=h).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "--territory"),
        ({"territories": ["a"], "all_territories": True}, "not both"),
        ({"territories": ["../x"]}, "territory id"),
    ],
)
def test_key_scope_is_required_and_checked(sqlite_store, kwargs, message):
    from core.errors import InputError

    with pytest.raises(InputError, match=message):
        create_key(sqlite_store, "planner", **kwargs)
    with pytest.raises(InputError, match="one producer of one territory"):
        create_key(sqlite_store, "producer", producer_id="P1", territories=["a", "b"])


def test_a_new_scope_applies_at_once_on_routes_and_fast_path(
    client, store, keys, tiny, monkeypatch
):
    """Narrowing a key with `vivres keys scope` (another process) takes effect on the next
    key-cache check (every 0.5 s; 0 here so the test needs no sleep), warm cache or not
    (was: up to the cache's 30 s)."""
    from types import SimpleNamespace

    from api.http import deps
    from api.store.keys import scope_key

    monkeypatch.setattr(deps, "REVOCATION_CHECK_S", 0.0)
    assert (
        client.put("/v1/territories/own", files=tiny_files(), headers=keys["planner"]).status_code
        == 200
    )
    token, principal = create_key(store, "planner", territories=["tiny", "own"])
    h = {"Authorization": f"Bearer {token}"}
    results = client.app.state.results  # a warm plan of tiny, as the fast path serves it
    results.put(("job", "j1"), SimpleNamespace(kind="plan", territory_id="tiny"), 1)
    results.put(("summary", "j1"), b'{"warm": true}', 1)
    results.put(("territory-of", "j1"), "tiny", 1)
    for _ in range(2):
        assert client.get("/v1/territories/tiny", headers=h).status_code == 200
        assert client.get("/v1/plans/j1", headers=h).json() == {"warm": True}
    scope_key(store, principal.key_id, territories=["own"])
    assert client.get("/v1/territories/tiny", headers=h).status_code == 404
    assert client.get("/v1/plans/j1", headers=h).status_code == 404
    assert client.get("/v1/territories/own", headers=h).status_code == 200


def test_every_read_route_answers_the_same_cold_and_warm_for_every_role(
    client, store, keys, hubs, monkeypatch
):
    """Own territory: each GET route gives each role the same status, type and body whether
    FastAPI answers it (cold cache) or the fast path does (cache warmed by an admin), so the
    two copies of the rules cannot drift; a producer's other producer is 404 both ways."""
    from api.http import fastpath

    served = []  # (role, path) the fast path answered
    lookup = fastpath.CachedReads._lookup

    def spy(self, scope, *state):
        hit = lookup(self, scope, *state)
        if hit is not None:
            served.append(scope["path"])
        return hit

    monkeypatch.setattr(fastpath.CachedReads, "_lookup", spy)
    own = {}
    for role, producer in (("planner", None), ("logistics", None), ("producer", "P1")):
        token, _ = create_key(store, role, producer_id=producer, territories=["tiny"])
        own[role] = {"Authorization": f"Bearer {token}"}
    paths = [_fill(p, hubs) for p in _read_routes(store)]
    paths += [p.replace("/P1", "/P2") for p in paths if p.endswith("/P1")]
    results = client.app.state.results

    def answer(path, headers):
        r = client.get(path, headers=headers)
        return r.status_code, r.headers["content-type"], r.content

    by_fast_path = {}
    for role, headers in own.items():
        for path in paths:
            results.clear()
            cold = answer(path, headers)
            for _ in range(2):  # warm every cache the routes fill, as an admin
                client.get(path, headers=keys["planner"])
            before = len(served)
            warm = answer(path, headers)
            by_fast_path[role] = by_fast_path.get(role, 0) + (len(served) > before)
            assert warm == cold, (role, path, cold[:2], warm[:2])
            if role == "producer" and path.endswith("/P2"):
                assert cold[0] == 404, path
    assert all(by_fast_path[role] for role in own), by_fast_path  # the fast path was tested
