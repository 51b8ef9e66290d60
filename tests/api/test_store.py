"""The store: migrations, and job claiming that never hands one job to two workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect

from api import jobs
from api.store.db import Store, migrate
from api.store.territories import Upload, put_territory
from tests.api.conftest import TINY


@pytest.fixture
def empty_template() -> None:
    """None: these tests migrate a new database (tests/api/conftest.py copies a migrated one)."""


@pytest.mark.both_databases(postgres_in_fast_lane=True)
def test_migrations_create_every_table_and_are_idempotent(store):
    migrate(store.engine)  # a second run changes nothing
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "territories",
        "territory_files",
        "api_keys",
        "jobs",
        "job_logs",
        "artifacts",
        "scenarios",
        "alembic_version",
    } <= tables


@pytest.mark.both_databases(postgres_in_fast_lane=True)
def test_each_queued_job_is_claimed_once(store, db_url):
    put_territory(
        store, "tiny", [Upload(table=p.stem, content=p.read_bytes()) for p in TINY.glob("*.csv")]
    )
    queued = {jobs.submit(store, "tiny", "routes", {"week": 48}).job_id for _ in range(6)}
    stores = [Store.open(db_url, upgrade=False) for _ in range(3)]

    def drain(i: int) -> list[str]:
        taken = []
        while (job_id := jobs.claim_next(stores[i], f"w{i}:1")) is not None:
            taken.append(job_id)
        return taken

    with ThreadPoolExecutor(3) as pool:
        claims = [job for taken in pool.map(drain, range(3)) for job in taken]
    for s in stores:
        s.engine.dispose()
    assert sorted(claims) == sorted(queued)  # every job once, none twice
    assert {jobs.get_job(store, j).status for j in queued} == {"running"}


@pytest.mark.both_databases(postgres_in_fast_lane=True)
def test_keys_of_revision_0002_keep_working_after_0003(db_url):
    """0003_key_changes adds the change counter; keys made before keep their scope."""
    from sqlalchemy import text

    from api.store.keys import find_key, hash_token, revocation_stamp, scope_key

    store = Store.open(db_url, upgrade=False)
    migrate(store.engine, "0002_key_scopes")
    with store.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO api_keys (key_hash, prefix, role, name, created_at, "
                "territories, all_territories) VALUES (:h, 'vvr_x', 'planner', '', "
                "CURRENT_TIMESTAMP, '[\"tiny\"]', false)"
            ),
            {"h": hash_token("vvr_x")},
        )
    migrate(store.engine)
    found = find_key(store, "vvr_x")
    assert found is not None and found.territories == {"tiny"}
    before = revocation_stamp(store)
    scope_key(store, found.key_id, territories=["tiny", "own"])
    assert revocation_stamp(store) != before
    assert find_key(store, "vvr_x").territories == {"tiny", "own"}
    store.engine.dispose()


def test_a_table_changed_since_it_was_read_is_not_overwritten(store):
    import hashlib

    from api.store import territories as store_t

    put_territory(
        store, "tiny", [Upload(table=p.stem, content=p.read_bytes()) for p in TINY.glob("*.csv")]
    )
    first = b"week_start,site_id,product_id,kg\n2025-01-06,F1,carotte,12\n"
    second = b"week_start,site_id,product_id,kg\n2025-01-06,F2,carotte,3\n"
    with pytest.raises(store_t.Changed):  # the caller saw a table; there was none
        store_t.put_table(store, "tiny", Upload(table="availability", content=first), if_sha256="0")
    store_t.put_table(store, "tiny", Upload(table="availability", content=first), if_sha256="")
    read = store_t.table_content(store, "tiny", "availability")
    version = store_t.territory_row(store, "tiny").version
    with pytest.raises(store_t.Changed):  # it has none no more
        store_t.put_table(store, "tiny", Upload(table="availability", content=second), if_sha256="")
    assert store_t.territory_row(store, "tiny").version == version  # nothing stored
    store_t.put_table(
        store,
        "tiny",
        Upload(table="availability", content=second),
        if_sha256=hashlib.sha256(read).hexdigest(),
    )
    assert b"F2" in store_t.table_content(store, "tiny", "availability")
