"""Helpers of the API tests: the tiny territory as uploads, a test client, the keys of every
role, and SQLite databases built once per test process that tests start from a copy of."""

from __future__ import annotations

import io
import shutil
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"


def test_client(app):
    """A TestClient (starlette warns that it prefers httpx2, which is not packaged here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app)


test_client.__test__ = False

_SHARED_APPS: dict[float, Any] = {}


def shared_app(store, *, max_body_mb: float = 2):
    """This test process's app with a ``max_body_mb`` body limit and no rate limit, given a new
    state over ``store`` (``api.http.app.bind_state``): as a new app would be, but FastAPI
    builds an app's routes on its first requests (≈ 20 ms a router), so once per process here
    instead of once per test."""
    from api.http.app import bind_state, create_app

    app = _SHARED_APPS.get(max_body_mb)
    if app is None:
        app = _SHARED_APPS[max_body_mb] = create_app(
            store, max_body_mb=max_body_mb, rate_limit=(0, 0)
        )
    else:
        bind_state(app, store, rate_limit=(0, 0))
    return app


def tiny_files() -> dict[str, tuple[str, bytes, str]]:
    """The tiny territory as multipart fields."""
    return {p.stem: (p.name, p.read_bytes(), "text/csv") for p in sorted(TINY.glob("*.csv"))}


def tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(TINY.glob("*.csv")):
            archive.write(path, f"tiny/{path.name}")
    return buffer.getvalue()


def make_keys(store) -> dict[str, dict[str, str]]:
    """Authorization headers per role; producers P1 and P2 of the tiny territory."""
    from api.store.keys import create_key

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


@dataclass(frozen=True)
class Template:
    """A SQLite database (closed, checkpointed), the keys made in it and the ids of what was
    prepared in it (jobs run, say)."""

    path: Path
    keys: dict[str, dict[str, str]]
    ids: dict[str, str] = field(default_factory=dict)

    def copy_to(self, target: Path) -> None:
        shutil.copyfile(self.path, target)


#: where ``db_url`` notes the template a test's SQLite database was copied from
TEMPLATE = pytest.StashKey[Template]()


def from_template(request) -> Template | None:
    """The template the test's database was copied from, or None for a new database."""
    return request.node.stash.get(TEMPLATE, None)


def build_template(
    path: Path,
    files: dict[str, tuple[str, bytes, str]],
    prepare: Callable[..., dict[str, str]] | None = None,
) -> Template:
    """Make the role keys and ``PUT /v1/territories/tiny`` with ``files`` in a new SQLite
    database at ``path`` — what the ``keys`` and ``tiny`` fixtures do — then
    ``prepare(client, store, keys)`` (ids by name), once, for tests to start from a copy (a
    test writes only into its copy)."""
    from api.store.db import Store

    store = Store.open(f"sqlite:///{path}")
    made = make_keys(store)
    with test_client(shared_app(store)) as client:
        response = client.put("/v1/territories/tiny", files=files, headers=made["planner"])
        assert response.status_code == 200, response.text
        ids = prepare(client, store, made) if prepare is not None else {}
    store.engine.dispose()  # the last connection closed checkpoints the WAL into the file
    return Template(path=path, keys=made, ids=ids)


def solved_job_fixtures(kind: str, solve: Callable[..., dict[str, str]]) -> tuple[Any, Any, Any]:
    """Fixtures of a module whose tests share one solved ``kind`` job of the tiny territory.

    ``solve(client, store, keys)`` posts and runs the job and returns ``{kind: job_id}``. The
    module binds the three fixtures returned: ``{kind}_template`` (module scope: the keys,
    tiny and the job solved once), ``sqlite_template`` (a SQLite test taking ``{kind}_job``
    starts from a copy of it, one taking ``tiny`` from ``tiny_template``) and ``{kind}_job``
    (the job's id; solved in the test's own database on PostgreSQL)::

        plan_template, sqlite_template, plan_job = solved_job_fixtures("plan", _solve_plan)
    """

    @pytest.fixture(scope="module", name=f"{kind}_template")
    def template(tmp_path_factory) -> Template:
        db = tmp_path_factory.mktemp(f"{kind}_template") / "vivres.db"
        return build_template(db, tiny_files(), prepare=solve)

    @pytest.fixture(name="sqlite_template")
    def chooser(request) -> Template | None:
        if f"{kind}_job" in request.fixturenames:
            return request.getfixturevalue(f"{kind}_template")
        if "tiny" in request.fixturenames:
            return request.getfixturevalue("tiny_template")
        return None

    @pytest.fixture(name=f"{kind}_job")
    def job(request, client, keys, tiny, store) -> str:
        template = from_template(request)
        if template is not None:
            return template.ids[kind]
        return solve(client, store, keys)[kind]

    return template, chooser, job
