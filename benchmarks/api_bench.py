"""HTTP API benchmark: read-endpoint latency and throughput under load, job turnaround, memory.

Starts ``vivres serve`` on a free loopback port with a fresh SQLite database, uploads the sample
territory, submits the sample plan and the routes of week 1 (timing submission → result), then
drives the read endpoints (plan result, route sheets, one producer's contract) with ``wrk``
(a C load generator: ``apt-get install wrk``) at ``clients`` concurrent connections, and reads
the server's resident memory from ``/proc``. Run::

    vivres bench api --json out/bench_api.json
    python -m benchmarks.api_bench --clients 50 --duration 20
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"

LUA = r"""
local paths = %(paths)s
local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  i = offset
end

function request()
  i = (i %% #paths) + 1
  local p = paths[i]
  return wrk.format("GET", p[1], {["Authorization"] = "Bearer " .. p[2]})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"timeout": %%d, "status": %%d, "p50_us": %%f, "p95_us": %%f, "p99_us": %%f, ' ..
    '"max_us": %%f, "mean_us": %%f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _tree(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def _memory(server_pid: int) -> dict:
    """RSS of the HTTP server processes and, apart, of the job worker."""
    http, worker = 0.0, 0.0
    for pid in _tree(server_pid):
        if "api.jobs" in _cmdline(pid):
            worker += sum(_rss_mb(p) for p in _tree(pid))
        elif not any("api.jobs" in _cmdline(a) for a in _ancestors(pid, server_pid)):
            http += _rss_mb(pid)
    return {"server_rss_mb": round(http, 1), "worker_rss_mb": round(worker, 1)}


def _ancestors(pid: int, stop: int) -> list[int]:
    out = []
    while pid != stop and pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        out.append(pid)
    return out


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()


def _wait_job(client, job_id: str, timeout_s: float = 900) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise RuntimeError(f"job {job_id} did not finish in {timeout_s} s")


def _wrk(
    base: str,
    paths: list[tuple[str, str]],
    *,
    clients: int,
    duration_s: int,
    threads: int,
    tmp: Path,
) -> dict:
    lua_paths = "{" + ", ".join(f'{{"{p}", "{k}"}}' for p, k in paths) + "}"
    script = tmp / "bench.lua"
    script.write_text(LUA % {"paths": lua_paths})
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{duration_s}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)


def run(
    *,
    clients: int = 50,
    duration_s: int = 20,
    workers: int = 2,
    plan_time_limit_s: float = 60,
    route_time_limit_s: float = 20,
    console=None,
) -> dict:
    """Run the benchmark; return the figures (also printed)."""
    import httpx

    from api.store.db import Store
    from api.store.keys import create_key
    from core.errors import InputError

    say = console.print if console is not None else print
    if shutil.which("wrk") is None:
        raise InputError(
            "the API benchmark needs the load generator wrk: "
            "`apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"
        )
    tmp = Path(tempfile.mkdtemp(prefix="vivres-bench-api-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    store = Store.open(url)
    planner_key, _ = create_key(store, "planner", name="bench", all_territories=True)
    store.engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / "serve.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.cli import entry_point; entry_point()",
            "serve",
            "--port",
            str(port),
            "--db",
            url,
            "--workers",
            str(workers),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=tmp,
        env={**os.environ, "VIVRES_RATE_LIMIT_PER_MIN": "0"},
    )  # measure the server, not 429s
    figures: dict = {"clients": clients, "workers": workers, "duration_s": duration_s}
    try:
        client = httpx.Client(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {planner_key}"}
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                if client.get("/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"vivres serve did not start; see {tmp}/serve.log") from None
                time.sleep(0.2)
        say(f"server on {base} ({workers} HTTP worker(s)); uploading the sample territory")
        started = time.perf_counter()
        r = client.put(
            "/v1/territories/sample",
            content=_zip_folder(SAMPLE),
            headers={"Content-Type": "application/zip"},
        )
        r.raise_for_status()
        figures["upload_sample_s"] = round(time.perf_counter() - started, 2)

        say(f"plan job (time limit {plan_time_limit_s:g} s) …")
        started = time.perf_counter()
        plan = client.post(
            "/v1/territories/sample/plans", json={"time_limit_s": plan_time_limit_s}
        ).json()["job_id"]
        plan_job = _wait_job(client, plan)
        figures["plan_job_s"] = round(time.perf_counter() - started, 2)
        if plan_job["status"] != "succeeded":
            raise RuntimeError(f"plan job {plan_job['status']}: {plan_job['error']}")
        figures["plan_status"] = plan_job["summary"]["status"]
        figures["plan_solver_s"] = round(plan_job["summary"]["runtime_s"], 2)

        say(f"routes job, week 1 (time limit {route_time_limit_s:g} s) …")
        started = time.perf_counter()
        routes = client.post(
            "/v1/territories/sample/routes",
            json={"week": 1, "time_limit_s": route_time_limit_s, "plan_job_id": plan},
        ).json()["job_id"]
        routes_job = _wait_job(client, routes)
        figures["routes_job_s"] = round(time.perf_counter() - started, 2)
        if routes_job["status"] != "succeeded":
            raise RuntimeError(f"routes job {routes_job['status']}: {routes_job['error']}")

        producers = client.get(f"/v1/plans/{plan}/contracts").json()
        producer = producers[0]
        producer_key, _ = create_key(
            Store.open(url, upgrade=False),
            "producer",
            producer_id=producer,
            name="bench",
            territories=["sample"],
        )
        sheets = client.get(f"/v1/routes/{routes}/sheets").json()[:4]
        paths = [
            (f"/v1/plans/{plan}", planner_key),
            (f"/v1/plans/{plan}/contracts/{producer}", producer_key),
        ]
        paths += [(f"/v1/routes/{routes}/sheets/{s}", planner_key) for s in sheets]
        paths += [
            (f"/v1/plans/{plan}/contracts/{p}?format=html", planner_key) for p in producers[1:3]
        ]
        for path, key in paths:  # every path answers 200 before the load starts
            answer = client.get(path, headers={"Authorization": f"Bearer {key}"})
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:200]}")
        figures["endpoints"] = [p for p, _ in paths]

        say(f"wrk: {clients} connections, {duration_s} s, {len(paths)} read endpoints …")
        idle = _memory(server.pid)
        result = _wrk(
            base,
            paths,
            clients=clients,
            duration_s=duration_s,
            threads=min(4, os.cpu_count() or 2),
            tmp=tmp,
        )
        loaded = _memory(server.pid)
        errors = sum(result[k] for k in ("connect", "read", "write", "timeout", "status"))
        figures.update(
            {
                "requests": result["requests"],
                "errors": errors,
                "p50_ms": round(result["p50_us"] / 1000, 2),
                "p95_ms": round(result["p95_us"] / 1000, 2),
                "p99_ms": round(result["p99_us"] / 1000, 2),
                "max_ms": round(result["max_us"] / 1000, 2),
                "rps": round(result["requests"] / (result["duration_us"] / 1e6), 1),
                "server_rss_mb": loaded["server_rss_mb"],
                "server_rss_idle_mb": idle["server_rss_mb"],
                "worker_rss_mb": loaded["worker_rss_mb"],
                "load_generator": "wrk "
                + subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1],
            }
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    bars = figures["p95_ms"] <= 50 and figures["rps"] >= 500 and figures["errors"] == 0
    say(
        f"read endpoints, {clients} clients: p50 {figures['p50_ms']} ms, p95 "
        f"{figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, {figures['rps']} req/s, "
        f"{figures['errors']} errors of {figures['requests']}; server RSS "
        f"{figures['server_rss_mb']} MB (worker {figures['worker_rss_mb']} MB)"
    )
    say(
        f"jobs, submission → result: plan {figures['plan_job_s']} s "
        f"({figures['plan_status']}, solver {figures['plan_solver_s']} s), routes week 1 "
        f"{figures['routes_job_s']} s; sample upload {figures['upload_sample_s']} s"
    )
    say("bars (p95 ≤ 50 ms, ≥ 500 req/s, 0 errors): " + ("met" if bars else "NOT met"))
    figures["bars_met"] = bars
    return figures


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plan-time-limit", type=float, default=60)
    parser.add_argument("--route-time-limit", type=float, default=20)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    figures = run(
        clients=args.clients,
        duration_s=args.duration,
        workers=args.workers,
        plan_time_limit_s=args.plan_time_limit,
        route_time_limit_s=args.route_time_limit,
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
