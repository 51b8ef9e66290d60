"""Kill ``vivres serve`` (kill -9, server and worker) during a plan solve, restart it: the job
is reported interrupted, re-running it succeeds, and no stored result or upload is lost."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from api.store.db import Store
from api.store.keys import create_key
from tests.api.conftest import tiny_files

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str, port: int, log) -> subprocess.Popen:
    code = "from api.cli import entry_point; entry_point()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--db", url],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None, "vivres serve exited at start"
        time.sleep(0.2)
    raise AssertionError("vivres serve did not answer within 60 s")


def _kill_all(process: subprocess.Popen) -> None:
    """kill -9 the server and everything it started (worker, job child): a crash."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _wait(client: httpx.Client, job_id: str, until, timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if until(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached the state: {job}")


@pytest.mark.both_databases
def test_kill_during_plan_solve_then_restart(tmp_path, db_url):
    url = db_url
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
        assert client.put("/v1/territories/tiny", files=tiny_files()).status_code == 200
        before = client.get("/v1/territories/tiny").json()
        routes = client.post(
            "/v1/territories/tiny/routes", json={"week": 48, "time_limit_s": 1}
        ).json()["job_id"]
        _wait(client, routes, lambda j: j["status"] == "succeeded")
        geojson = client.get(f"/v1/routes/{routes}/geojson").content

        plan = client.post("/v1/territories/tiny/plans", json={"time_limit_s": 8, "gap": 0}).json()[
            "job_id"
        ]
        running = _wait(
            client, plan, lambda j: j["status"] != "queued" and "planner" in j["message"]
        )
        assert running["status"] == "running", running
        _kill_all(server)

        server = _start(url, port, log)
        job = _wait(client, plan, lambda j: j["status"] != "running", timeout_s=30)
        assert job["status"] == "interrupted" and "re-run" in job["message"]
        assert client.get(f"/v1/plans/{plan}").status_code == 409

        # nothing stored was lost: the upload and the earlier result are intact
        after = client.get("/v1/territories/tiny").json()
        assert after["version"] == before["version"]
        assert after["tables"] == before["tables"]
        assert client.get(f"/v1/routes/{routes}/geojson").content == geojson

        again = client.post(f"/v1/jobs/{plan}/rerun")
        assert again.status_code == 202 and again.json()["rerun_of"] == plan
        done = _wait(
            client, again.json()["job_id"], lambda j: j["status"] not in ("queued", "running")
        )
        assert done["status"] == "succeeded", done
        contracts = client.get(f"/v1/plans/{done['job_id']}/contracts").json()
        assert contracts
    finally:
        _kill_all(server)
        log.close()
