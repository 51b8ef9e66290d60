"""Fixtures of the API tests: a store on SQLite (and on PostgreSQL when one answers), a client,
one key per role, and the tiny territory uploaded."""

from __future__ import annotations

import socket
import uuid

import pytest

# helpers of the API tests live in api_helpers (tests import them from there: ``from conftest
# import`` picks another folder's conftest when several test folders run together)
from api_helpers import TINY, test_client, tiny_files, tiny_zip  # noqa: F401

from api.store.db import Store
from api.store.keys import create_key

PG_BASE = "postgresql+psycopg://{user}@127.0.0.1:5432/test"


def _pg_user() -> str | None:
    """A user the local PostgreSQL accepts with trust auth, or None when none answers."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            pass
    except OSError:
        return None
    import psycopg

    for user in ("postgres", "root"):
        try:
            psycopg.connect(
                host="127.0.0.1", port=5432, dbname="test", user=user, connect_timeout=2
            ).close()
            return user
        except psycopg.Error:
            continue
    return None


PG_USER = _pg_user()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "both_databases: run on SQLite and on PostgreSQL (when a server answers on 127.0.0.1:5432)",
    )


def pytest_generate_tests(metafunc):
    """Persistence and job tests (marked both_databases) run on both; the rest on SQLite."""
    if "db_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_databases"):
        params = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
    else:
        params = ["sqlite"]
    metafunc.parametrize("db_url", params, indirect=True)


@pytest.fixture
def db_url(request, tmp_path):
    """A fresh database: a SQLite file, or a private schema of the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vivres.db'}"
        return
    if PG_USER is None:
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    import psycopg

    schema = f"vivres_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host="127.0.0.1", dbname="test", user=PG_USER, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield PG_BASE.format(user=PG_USER) + f"?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(host="127.0.0.1", dbname="test", user=PG_USER, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(db_url):
    store = Store.open(db_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'vivres.db'}")
    yield store
    store.engine.dispose()


@pytest.fixture
def keys(store) -> dict[str, dict[str, str]]:
    """Authorization headers per role; producers prod_a and prod_b of the tiny territory."""
    made = {}
    for label, role, producer in (
        ("planner", "planner", None),
        ("logistics", "logistics", None),
        ("producer", "producer", "P1"),
        ("other_producer", "producer", "P2"),
    ):
        # planner and logistics keys reach every territory (tests upload several); producer
        # keys belong to the tiny territory; the scope tests make narrower keys
        scope = {"territories": ["tiny"]} if producer else {"all_territories": True}
        token, _ = create_key(store, role, producer_id=producer, **scope)
        made[label] = {"Authorization": f"Bearer {token}"}
    return made


@pytest.fixture
def client(store):
    from api.http import create_app

    # no request rate limit here: tests send bursts; test_ratelimit.py turns it on
    with test_client(create_app(store, max_body_mb=2, rate_limit=(0, 0))) as c:
        yield c


@pytest.fixture
def tiny(client, keys) -> str:
    """The tiny territory uploaded as ``tiny``; returns its id."""
    response = client.put("/v1/territories/tiny", files=tiny_files(), headers=keys["planner"])
    assert response.status_code == 200, response.text
    return "tiny"
