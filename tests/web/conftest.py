"""Fixtures of the web page tests: one store per module with the tiny territory, a plan and
a week of routes (a copy of a database where they were solved once per test process), keys
per role, and a signed-in client per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from web_helpers import PLAN, ROUTES, WEEK, make_client, put_availability, put_tiny, run, sign_in

from api import jobs
from api.store.db import Store
from api.store.keys import create_key

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The web modules run on one worker under ``-n``: they share ``web_template``. They run
    first, so that this big group does not end the run on one worker while the other idles."""
    web = [item for item in items if HERE in item.path.parents]
    for item in web:
        item.add_marker(pytest.mark.xdist_group("web"))
    items[:] = web + [item for item in items if HERE not in item.path.parents]


@pytest.fixture(scope="session")
def web_template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The tiny territory (and a copy named ``other``), a plan, week 48's routes and the real
    week of 6 Jan 2025 (with the farms' confirmed carrots), solved once per test process in a
    SQLite file; returns it and the ids of the plan, routes and week jobs."""
    db = tmp_path_factory.mktemp("web_template") / "vivres.db"
    store = Store.open(f"sqlite:///{db}")
    put_tiny(store)
    put_tiny(store, "other")
    plan = jobs.submit(store, "tiny", "plan", PLAN)
    run(store, plan.job_id)
    routes = jobs.submit(store, "tiny", "routes", ROUTES)
    run(store, routes.job_id)
    put_availability(store)
    week = jobs.submit(store, "tiny", "week", WEEK)
    run(store, week.job_id)
    store.engine.dispose()  # the last connection closed checkpoints the WAL into the file
    return db, {"plan": plan.job_id, "routes": routes.job_id, "week": week.job_id}


@pytest.fixture(scope="module")
def web_store(tmp_path_factory, web_template):
    """The module's own copy of ``web_template``: what a module's tests write stays in it."""
    db = tmp_path_factory.mktemp("web") / "vivres.db"
    shutil.copyfile(web_template[0], db)
    store = Store.open(f"sqlite:///{db}")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def solved(web_template) -> dict[str, str]:
    """The ids of the plan, routes and week jobs of ``web_template``."""
    return dict(web_template[1])


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


@pytest.fixture
def client(web_app):
    with make_client(web_app) as c:
        yield c


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
