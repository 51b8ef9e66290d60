"""Service hardening (issue 11, part A): concurrent creation on PostgreSQL, the SQLite file's
mode, HEAD on read routes, the database URL kept off the worker's command line."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.store.db import Store
from tests.api.conftest import tiny_files


@pytest.mark.both_databases
def test_ten_parallel_puts_creating_one_territory_never_fail(client, keys):
    """Ten PUTs racing to create the same territory: all 200 (was 500 UniqueViolation)."""
    files = tiny_files()

    def put(_):
        return client.put("/v1/territories/race", files=files, headers=keys["planner"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(put, range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 10, [
        a.text for a in answers if a.status_code != 200]
    versions = sorted(a.json()["version"] for a in answers)
    assert versions == list(range(1, 11))  # each PUT one version: none lost, none doubled


def test_sqlite_database_file_is_private(tmp_path):
    """The SQLite file (API key hashes, every hub's data) is created 0600, not 0644."""
    path = tmp_path / "new.db"
    old = os.umask(0o022)
    try:
        Store.open(f"sqlite:///{path}").engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
