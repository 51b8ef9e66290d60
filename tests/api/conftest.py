"""Fixtures of the API tests: a store on SQLite (and on PostgreSQL when one answers), a client,
one key per role, and the tiny territory uploaded.

On SQLite, a test that takes ``tiny`` starts from a copy of a database where the keys were
made and the tiny territory uploaded (over HTTP) once per test process (``tiny_template``);
a module overrides ``sqlite_template`` to start its tests from another one."""

from __future__ import annotations

import copy
import socket
import uuid

import pytest

# helpers of the API tests live in api_helpers (tests import them from there: ``from conftest
# import`` picks another folder's conftest when several test folders run together)
from api_helpers import (  # noqa: F401
    TEMPLATE,
    TINY,
    Template,
    build_template,
    from_template,
    make_keys,
    shared_app,
    test_client,
    tiny_files,
    tiny_zip,
)

from api.store.db import Store

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
        "both_databases(postgres_in_fast_lane=False): run on SQLite and on PostgreSQL (when a "
        "server answers on 127.0.0.1:5432); the PostgreSQL run is slow unless told",
    )


def pytest_generate_tests(metafunc):
    """Persistence and job tests (marked both_databases) run on both; the rest on SQLite.

    The PostgreSQL twin of a test is in the slow lane (CI's full run has both), except for
    tests marked ``both_databases(postgres_in_fast_lane=True)``: the store's own checks."""
    if "db_url" not in metafunc.fixturenames:
        return
    both = metafunc.definition.get_closest_marker("both_databases")
    if both:
        marks = [pytest.mark.postgres]
        if not both.kwargs.get("postgres_in_fast_lane"):
            marks.append(pytest.mark.slow)
        params = ["sqlite", pytest.param("postgres", marks=marks)]
    else:
        params = ["sqlite"]
    metafunc.parametrize("db_url", params, indirect=True)


@pytest.fixture(scope="session")
def tiny_template(tmp_path_factory) -> Template:
    """The keys of every role and the tiny territory, uploaded once per test process."""
    return build_template(tmp_path_factory.mktemp("tiny_template") / "vivres.db", tiny_files())


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory) -> Template:
    """A database migrated to head with nothing in it, once per test process: a SQLite test
    with no other template starts from a copy (migrating a new file takes ≈ 20 ms of CPU, a
    copy ≈ 0.2 ms). A module whose tests migrate a new database overrides it with None."""
    path = tmp_path_factory.mktemp("empty_template") / "vivres.db"
    Store.open(f"sqlite:///{path}").engine.dispose()
    return Template(path=path, keys={})


@pytest.fixture
def sqlite_template(request) -> Template | None:
    """The database a SQLite test starts from a copy of, or None for a new one."""
    if "tiny" in request.fixturenames:
        return request.getfixturevalue("tiny_template")
    return None


@pytest.fixture
def db_url(request, tmp_path):
    """A database: a SQLite file (a copy of ``sqlite_template``, else of ``empty_template``,
    else new), or a new private schema of the local PostgreSQL."""
    if request.param == "sqlite":
        db = tmp_path / "vivres.db"
        template = request.getfixturevalue("sqlite_template")
        if template is not None:
            template.copy_to(db)
            request.node.stash[TEMPLATE] = template
        elif (empty := request.getfixturevalue("empty_template")) is not None:
            empty.copy_to(db)
        yield f"sqlite:///{db}"
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
def sqlite_store(tmp_path, empty_template):
    db = tmp_path / "vivres.db"
    if empty_template is not None:
        empty_template.copy_to(db)
    store = Store.open(f"sqlite:///{db}")
    yield store
    store.engine.dispose()


@pytest.fixture
def keys(request, store) -> dict[str, dict[str, str]]:
    """Authorization headers per role; producers P1 and P2 of the tiny territory."""
    template = from_template(request)
    if template is not None:  # made in the template (tests may add headers to their copy)
        return copy.deepcopy(template.keys)
    return make_keys(store)


@pytest.fixture
def client(store):
    # no request rate limit here: tests send bursts; test_ratelimit.py turns it on
    with test_client(shared_app(store)) as c:
        yield c


@pytest.fixture
def tiny(request, client, keys) -> str:
    """The tiny territory uploaded as ``tiny``; returns its id."""
    if from_template(request) is not None:  # uploaded in the template the database copies
        return "tiny"
    response = client.put("/v1/territories/tiny", files=tiny_files(), headers=keys["planner"])
    assert response.status_code == 200, response.text
    return "tiny"
