"""API keys and roles: 401 without a key, 403 outside one's role, producers see only their own."""

from __future__ import annotations

import pytest
from api_helpers import solved_job_fixtures

from api import jobs
from api.store.keys import create_key, hash_token, list_keys, revoke_key
from core.errors import InputError

#: under -n, on one worker: the module-scoped template is built once
pytestmark = pytest.mark.xdist_group("test_roles")

ROUTES = {"week": 48, "time_limit_s": 1, "seed": 1}


def _solve_routes(client, store, keys) -> dict[str, str]:
    job = client.post("/v1/territories/tiny/routes", json=ROUTES, headers=keys["planner"]).json()
    jobs.claim_next(store, "test:0")
    assert jobs.execute(store, job["job_id"]) == "succeeded"
    return {"routes": job["job_id"]}


routes_template, sqlite_template, routes_job = solved_job_fixtures("routes", _solve_routes)


def test_no_key_or_unknown_key_is_401_problem(client):
    r = client.get("/v1/jobs")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/jobs", headers={"Authorization": "Bearer vvr_nope"}).status_code == 401
    assert client.get("/v1/health").status_code == 200


def test_keys_are_stored_hashed_and_revocable(sqlite_store):
    token, principal = create_key(sqlite_store, "logistics", name="van team", territories=["tiny"])
    stored = {k.key_id: k for k in list_keys(sqlite_store)}[principal.key_id]
    assert stored.key_hash == hash_token(token) and token not in stored.key_hash
    revoke_key(sqlite_store, principal.key_id)
    from api.store.keys import find_key

    assert find_key(sqlite_store, token) is None


@pytest.mark.parametrize(
    ("role", "producer", "message"),
    [
        ("admin", None, "--role must be one of"),
        ("producer", None, "needs --producer"),
        ("planner", "P1", "only applies to producer keys"),
    ],
)
def test_bad_key_requests(sqlite_store, role, producer, message):
    with pytest.raises(InputError, match=message):
        create_key(sqlite_store, role, producer_id=producer, territories=["tiny"])


def test_logistics_runs_routes_uploads_orders_but_not_payments_nor_plans(client, keys, tiny):
    h = keys["logistics"]
    assert client.get("/v1/territories/tiny", headers=h).status_code == 200
    assert client.post("/v1/territories/tiny/routes", json=ROUTES, headers=h).status_code == 202
    # the week's orders, as on the web page: checked, a bad file stores nothing (422)
    r = client.post(
        "/v1/territories/tiny/orders", content=b"x", headers={**h, "Content-Type": "text/csv"}
    )
    assert r.status_code == 422
    r = client.post(
        "/v1/territories/tiny/caisse-transactions",
        content=b"x",
        headers={**h, "Content-Type": "text/csv"},
    )
    assert r.status_code == 403 and "logistics" in r.json()["detail"]
    assert client.post("/v1/territories/tiny/plans", json={}, headers=h).status_code == 403
    assert client.post("/v1/territories/tiny/demand", json={}, headers=h).status_code == 403
    assert client.delete("/v1/territories/tiny", headers=h).status_code == 403


def test_logistics_cannot_cancel_a_demand_job(client, keys, tiny):
    job = client.post("/v1/territories/tiny/demand", json={}, headers=keys["planner"]).json()
    r = client.post(f"/v1/jobs/{job['job_id']}/cancel", headers=keys["logistics"])
    assert r.status_code == 403


def test_producer_reads_only_own_pickups(client, keys, routes_job):
    own = client.get(f"/v1/routes/{routes_job}/pickups/P1", headers=keys["producer"])
    assert own.status_code == 200, own.text
    assert own.json()["producer_id"] == "P1"
    other = client.get(f"/v1/routes/{routes_job}/pickups/P2", headers=keys["producer"])
    assert other.status_code == 404 and "P2" in other.json()["detail"]  # as if absent
    # and the other producer the other way round
    assert (
        client.get(
            f"/v1/routes/{routes_job}/pickups/P1", headers=keys["other_producer"]
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/v1/routes/{routes_job}/pickups/P2", headers=keys["other_producer"]
        ).status_code
        == 200
    )


PRODUCER_FORBIDDEN = [
    "/v1/territories",
    "/v1/territories/tiny",
    "/v1/territories/tiny/tables/producers",
    "/v1/jobs",
    "/v1/routes/{job}",
    "/v1/routes/{job}/geojson",
    "/v1/routes/{job}/stops",
    "/v1/routes/{job}/sheets",
    "/v1/routes/{job}/files/stops.csv",
    "/v1/plans/{job}",
    "/v1/plans/{job}/contracts",
    "/v1/jobs/{job}/logs",
]
#: another producer's data reads as data that does not exist
PRODUCER_NOT_FOUND = ["/v1/plans/{job}/contracts/P2", "/v1/plans/{job}/harvest?producer_id=P2"]


def test_producer_is_403_everywhere_else(client, keys, routes_job):
    for path in PRODUCER_FORBIDDEN:
        r = client.get(path.format(job=routes_job), headers=keys["producer"])
        assert r.status_code == 403, (path, r.status_code, r.text)
    for path in PRODUCER_NOT_FOUND:
        r = client.get(path.format(job=routes_job), headers=keys["producer"])
        assert r.status_code == 404, (path, r.status_code, r.text)
    r = client.post(f"/v1/jobs/{routes_job}/rerun", headers=keys["producer"])
    assert r.status_code == 403


def test_producer_contract_of_another_producer_is_404_before_lookup(client, keys):
    # even for a plan that does not exist: never reveal whether another producer's data exists
    r = client.get("/v1/plans/whatever/contracts/P2", headers=keys["producer"])
    assert r.status_code == 404


def test_me(client, keys):
    me = client.get("/v1/me", headers=keys["producer"]).json()
    assert (me["role"], me["producer_id"]) == ("producer", "P1")


def test_keys_cli_prints_the_token_once_and_rejects_bad_roles(tmp_path, capsys):
    from api.cli import main
    from api.store.db import Store
    from api.store.keys import find_key

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["keys", "create", "--role", "producer", "--producer", "P1", "--db", url]) == 2
    assert "--territory" in capsys.readouterr().err  # a key without a scope is refused
    assert (
        main(
            [
                "keys",
                "create",
                "--role",
                "producer",
                "--producer",
                "P1",
                "--territory",
                "tiny",
                "--db",
                url,
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]
    principal = find_key(Store.open(url), token)
    assert (principal.role, principal.producer_id) == ("producer", "P1")
    assert main(["keys", "create", "--role", "boss", "--db", url]) == 2
    assert "--role doit être l'une des valeurs planner" in capsys.readouterr().err  # French
    assert main(["keys", "revoke", "1", "--db", url]) == 0
    assert find_key(Store.open(url), token) is None


def test_latest_job_lets_a_producer_find_its_pickups(client, keys, routes_job):
    r = client.get("/v1/territories/tiny/latest?kind=routes&week=48", headers=keys["producer"])
    assert r.status_code == 200 and r.json()["job_id"] == routes_job
    assert "summary" not in r.json()
    r = client.get("/v1/territories/tiny/latest?kind=plan", headers=keys["producer"])
    assert r.status_code == 404
    assert (
        client.get(
            "/v1/territories/tiny/latest?kind=routes&week=3", headers=keys["producer"]
        ).status_code
        == 404
    )
