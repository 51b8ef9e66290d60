"""The store: migrations, and job claiming that never hands one job to two workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect

from api import jobs
from api.store.db import Store, migrate
from api.store.territories import Upload, put_territory
from tests.api.conftest import TINY


@pytest.mark.both_databases
def test_migrations_create_every_table_and_are_idempotent(store):
    migrate(store.engine)  # a second run changes nothing
    tables = set(inspect(store.engine).get_table_names())
    assert {"territories", "territory_files", "api_keys", "jobs", "job_logs", "artifacts",
            "scenarios", "alembic_version"} <= tables


@pytest.mark.both_databases
def test_each_queued_job_is_claimed_once(store, db_url):
    put_territory(store, "tiny", [Upload(table=p.stem, content=p.read_bytes())
                                  for p in TINY.glob("*.csv")])
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
