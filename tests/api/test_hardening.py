"""Service hardening (issue 11, part A): concurrent creation on PostgreSQL, the SQLite file's
mode, HEAD on read routes, the database URL kept off the worker's command line."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.store.db import Store
from tests.api.conftest import tiny_files


@pytest.mark.slow
@pytest.mark.both_databases
def test_ten_parallel_puts_creating_one_territory_never_fail(client, keys):
    """Ten PUTs racing to create the same territory: all 200 (was 500 UniqueViolation)."""
    files = tiny_files()

    def put(_):
        return client.put("/v1/territories/race", files=files, headers=keys["planner"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(put, range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 10, [
        a.text for a in answers if a.status_code != 200
    ]
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


@pytest.mark.slow
def test_worker_killed_is_restarted_and_its_job_interrupted_at_once(tmp_path):
    """kill -9 the job worker during a solve: its job is interrupted within seconds (not after
    the 15 s stale heartbeat), a new worker answers /health, and no URL is on its argv."""
    import signal
    import time

    import httpx

    from api.store.keys import create_key
    from tests.api.test_restart import _free_port, _kill_all, _start, _wait

    url = f"sqlite:///{tmp_path / 'vivres.db'}"
    store = Store.open(url)
    token, _ = create_key(store, "planner", all_territories=True)
    store.engine.dispose()
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = _start(url, port, log)
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
        health = client.get("/v1/health").json()
        assert health["worker"] == "alive" and health["queued_jobs"] == 0, health
        old_pid = health["worker_pid"]
        argv = Path(f"/proc/{old_pid}/cmdline").read_bytes().decode()
        assert "sqlite" not in argv and "vivres.db" not in argv, argv

        assert client.put("/v1/territories/tiny", files=tiny_files()).status_code == 200
        plan = client.post(
            "/v1/territories/tiny/plans", json={"time_limit_s": 20, "gap": 0}
        ).json()["job_id"]
        _wait(client, plan, lambda j: j["status"] == "running" and "planner" in j["message"])
        killed_at = time.monotonic()
        os.kill(old_pid, signal.SIGKILL)
        job = _wait(client, plan, lambda j: j["status"] != "running", timeout_s=10)
        interrupted_after_s = time.monotonic() - killed_at
        assert job["status"] == "interrupted" and "re-run" in job["message"], job
        assert interrupted_after_s < 5

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            health = client.get("/v1/health")
            if health.status_code == 200 and health.json()["worker_pid"] not in (None, old_pid):
                break
            time.sleep(0.2)
        assert health.json()["worker"] == "alive" and health.json()["worker_pid"] != old_pid
        again = client.post(f"/v1/jobs/{plan}/rerun").json()["job_id"]
        done = _wait(client, again, lambda j: j["status"] not in ("queued", "running"))
        assert done["status"] == "succeeded", done  # the new worker takes jobs
    finally:
        _kill_all(server)
        log.close()


def test_health_says_not_ok_when_the_supervised_worker_is_dead(client, tmp_path, monkeypatch):
    """A pidfile naming a dead process: /health answers 503 'worker down' with the queue."""
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pidfile = tmp_path / "worker.pid"
    pidfile.write_text(str(dead.pid))
    monkeypatch.setenv("VIVRES_WORKER_PIDFILE", str(pidfile))
    answer = client.get("/v1/health")
    assert answer.status_code == 503
    assert answer.json()["worker"] == "dead" and answer.json()["queued_jobs"] == 0
    pidfile.write_text(str(os.getpid()))
    assert client.get("/v1/health").json()["worker"] == "alive"


def test_head_answers_like_get_without_a_body(client, keys, tiny):
    """HEAD on read routes: GET's status and headers, no body (was 405); errors alike."""
    for path in (
        "/v1/health",
        "/v1/territories/tiny",
        "/v1/territories/tiny/tables/orders",
        "/v1/territories/nowhere",
    ):
        get = client.get(path, headers=keys["planner"])
        head = client.head(path, headers=keys["planner"])
        assert head.status_code == get.status_code, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers.get("content-length") == get.headers.get("content-length")
    assert client.head("/v1/territories/tiny").status_code == 401  # no key: still refused


def test_revoked_key_stops_working_within_a_second(client, store, tiny):
    """Revoking a key from another process (the CLI) reaches the running API at once, on the
    FastAPI routes and on the cached fast path (was: up to 30 s of the key cache)."""
    import time

    from api.store.keys import create_key, revoke_key

    token, principal = create_key(store, "planner", territories=["tiny"])
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # warm the key cache and the fast path
        assert client.get("/v1/territories/tiny", headers=headers).status_code == 200
    revoke_key(store, principal.key_id)
    time.sleep(0.6)
    for path in ("/v1/territories/tiny", "/v1/me"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, path
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_job_quota_per_territory_answers_429_with_retry_after(client, keys, tiny, monkeypatch):
    """A key flooding one territory with jobs: past the quota, 429 problem+json with
    Retry-After; cancelling a job frees a place (no worker runs here: jobs stay queued)."""
    monkeypatch.setenv("VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY", "3")
    planner = keys["planner"]
    made = [client.post("/v1/territories/tiny/demand", json={}, headers=planner) for _ in range(3)]
    assert [a.status_code for a in made] == [202] * 3, made[0].text
    refused = client.post("/v1/territories/tiny/demand", json={}, headers=planner)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) > 0
    assert "VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY" in refused.json()["detail"]
    job_id = made[0].json()["job_id"]
    assert client.post(f"/v1/jobs/{job_id}/cancel", headers=planner).status_code in (200, 202)
    assert client.post("/v1/territories/tiny/demand", json={}, headers=planner).status_code == 202
