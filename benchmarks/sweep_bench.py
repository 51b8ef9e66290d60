"""``vivres bench sweep``: 64 plan runs on a 2-worker Dask LocalCluster against the same runs
in one process (speed-up), then again with one worker killed mid-sweep (every result present,
none twice).

The runs: the sample territory, the base and seven demand factors (0.85 … 1.2) × 8 seeds, each
plan stopped by a small work budget over 16 weeks (``--horizon``, ``--work``), so a run takes a
second or two.

Both sides do the same work: every run's row written to Parquet as it finishes and the table
gathered at the end (``run_here`` in this process, ``run_sweep`` on the cluster, whose start and
close are counted). Where the cluster loses time against ``workers`` × the sequential speed:
``overheads`` gives the CPU seconds per run in one process and in the workers (``cpu_seconds``
of each row: the whole process's CPU while the run ran, so a worker's own threads count), this
process's CPU during the cluster's sweep (scheduler, client, row writes) and the seconds the
workers were not running a run (start, imports, the territory's load, scheduling gaps, close).
On a busy machine the speed-up means little; these overheads still do.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FACTORS = (0.85, 0.9, 0.95, 1.05, 1.1, 1.15, 1.2)


def _sweep_file(folder: Path, seeds: int, horizon: int, work: float) -> Path:
    from core.territory import SAMPLE_DIR

    path = folder / "sweep.yaml"
    path.write_text(
        f"name: bench\nterritories: ['{SAMPLE_DIR}']\nscenarios: [base]\n"
        f"seeds: {list(range(seeds))}\ngrid: {{demand_factor: {list(FACTORS)}}}\n"
        f"plan: {{work: {work}, horizon_weeks: {horizon}}}\n",
        encoding="utf-8",
    )
    return path


def _kill_one_worker_after(out: Path, rows: int):
    """An ``on_client`` hook: once ``rows`` results are written, SIGKILL one worker process
    (its nanny starts another; its runs are retried elsewhere)."""
    killed: dict = {}

    def hook(client) -> None:
        pids = client.run(os.getpid)

        def watch() -> None:
            while len(list((out / "runs").glob("*.parquet"))) < rows:
                time.sleep(0.05)
            address, pid = sorted(pids.items())[0]
            os.kill(pid, signal.SIGKILL)
            killed.update(address=address, pid=pid, after_rows=rows)

        threading.Thread(target=watch, daemon=True).start()

    return hook, killed


def run(seeds: int = 8, horizon: int = 16, work: float = 0.02, workers: int = 2) -> dict:
    from api.sweep import load_sweep, run_here, run_sweep

    with tempfile.TemporaryDirectory(prefix="vivres-sweep-bench-") as tmp:
        folder = Path(tmp)
        spec = load_sweep(_sweep_file(folder, seeds, horizon, work))
        started = time.perf_counter()
        alone = run_here(spec, folder / "alone")
        sequential_s = time.perf_counter() - started

        started, cpu_started = time.perf_counter(), time.process_time()
        table = run_sweep(spec, folder / "dask", workers=workers)
        dask_s = time.perf_counter() - started
        main_cpu_s = time.process_time() - cpu_started
        same = dict(zip(table["run_id"], table["plan_sha256"], strict=True)) == dict(
            zip(alone["run_id"], alone["plan_sha256"], strict=True)
        )

        written: list[str] = []
        hook, killed = _kill_one_worker_after(folder / "killed", rows=len(spec.runs) // 4)
        again = run_sweep(
            spec,
            folder / "killed",
            workers=workers,
            on_done=lambda row: written.append(row["run_id"]),
            on_client=hook,
        )
    return {
        "runs": len(spec.runs),
        "workers": workers,
        "seconds": round(dask_s, 1),
        "sequential_seconds": round(sequential_s, 1),
        "speedup": round(sequential_s / dask_s, 2),
        "same_plans_as_sequential": bool(same),
        "errors": int((table["status"] == "error").sum()),
        "overheads": {
            "cpu_per_run_sequential_s": round(float(alone["cpu_seconds"].mean()), 3),
            "cpu_per_run_workers_s": round(float(table["cpu_seconds"].mean()), 3),
            "wall_per_run_sequential_s": round(float(alone["seconds"].mean()), 3),
            "wall_per_run_workers_s": round(float(table["seconds"].mean()), 3),
            "main_process_cpu_s": round(main_cpu_s, 1),
            "workers_idle_s": round(workers * dask_s - float(table["seconds"].sum()), 1),
        },
        "killed_worker": {
            "killed": killed,
            "results": int(again["run_id"].nunique()),
            "duplicates": int(len(again) - again["run_id"].nunique())
            + (len(written) - len(set(written))),
            "errors": int((again["status"] == "error").sum()),
        },
        "machine_load_1min": round(os.getloadavg()[0], 2),
    }
