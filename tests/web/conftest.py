"""Fixtures of the web page tests: one store per module with the tiny territory, a plan and
a week of routes solved once, keys per role, and a signed-in client per test."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from api import jobs
from api.store import territories as store_t
from api.store.db import Store
from api.store.keys import create_key

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"
ROUTES = {"week": 48, "time_limit_s": 5, "seed": 1, "knobs": {"day_solution_limit": 50}}
PLAN = {"work": 0.05, "horizon_weeks": 52, "seed": 3}
BAD_ORDERS = (
    "date,site_id,product_id,quantity,unit,unit_price_eur\n"
    "2025-02-03,S1,carotte,-3,kg,2.5\n"
    "2025-02-03,NOPE,carotte,4,kg,2.5\n"
    "31/02/2025,S2,pomme,2,kg,abc\n"
)


def run(store: Store, job_id: str) -> None:
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error


def put_tiny(store: Store, territory_id: str = "tiny") -> None:
    uploads = [
        store_t.Upload(table=p.stem, content=p.read_bytes(), format="csv")
        for p in sorted(TINY.glob("*.csv"))
    ]
    store_t.put_territory(store, territory_id, uploads)


@pytest.fixture(scope="module")
def web_store(tmp_path_factory):
    """The tiny territory (and a copy named ``other``), a plan and week 48's routes."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('web') / 'vivres.db'}")
    put_tiny(store)
    put_tiny(store, "other")
    plan = jobs.submit(store, "tiny", "plan", PLAN)
    run(store, plan.job_id)
    routes = jobs.submit(store, "tiny", "routes", ROUTES)
    run(store, routes.job_id)
    SOLVED[str(store.engine.url)] = {"plan": plan.job_id, "routes": routes.job_id}
    yield store
    store.engine.dispose()


SOLVED: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def solved(web_store) -> dict[str, str]:
    """The ids of the module's plan and routes jobs."""
    return SOLVED[str(web_store.engine.url)]


@pytest.fixture(scope="module")
def tokens(web_store) -> dict[str, str]:
    """A key per role: planner and logistics of ``tiny``, producers P1 and P2, and a planner
    of the ``other`` territory only."""
    made = {}
    for label, role, producer, territory in (
        ("planner", "planner", None, "tiny"),
        ("logistics", "logistics", None, "tiny"),
        ("producer", "producer", "P1", "tiny"),
        ("other_producer", "producer", "P2", "tiny"),
        ("other_territory", "planner", None, "other"),
    ):
        token, _ = create_key(web_store, role, producer_id=producer, territories=[territory])
        made[label] = token
    return made


@pytest.fixture(scope="module")
def web_app(web_store):
    from api.http import create_app

    return create_app(web_store, max_body_mb=2, rate_limit=(0, 0))


def make_client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    # https: the session cookie is Secure under TLS, and the test client keeps it then
    return TestClient(app, base_url="https://testserver")


@pytest.fixture
def client(web_app):
    with make_client(web_app) as c:
        yield c


CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(client, token: str):
    """Sign in through the form; return the response of the page it lands on."""
    form = client.get("/connexion")
    return client.post("/connexion", data={"key": token, "csrf": csrf_of(form.text)})


@pytest.fixture
def as_role(web_app, tokens):
    """``as_role("planner")``: a client signed in with that role's key."""
    clients = []

    def make(label: str):
        c = make_client(web_app)
        c.__enter__()
        clients.append(c)
        assert sign_in(c, tokens[label]).status_code == 200
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)
