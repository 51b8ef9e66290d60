"""Stability benchmark: the same plan on a busy machine, and the test suite beside a CPU hog.

``vivres bench stability`` runs ``vivres plan`` on the sample N times (default 3) with K busy
processes beside it (default 2, each spinning a core), under the default work rule, and prints
each run's exit code, seconds, gap, what stopped it and the plan's sha256; the bar is N
identical hashes and no crash. ``--tests N`` instead runs the README's test command N times in
a row on a clean clone (``.ci/run``, as CI does) beside one hog and prints the tally (minutes
per run: for a CI-like check, not every commit); ``--here`` runs pytest in this checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class CpuHogs:
    """``count`` processes spinning a core each, for the duration of a ``with`` block."""

    def __init__(self, count: int):
        self.count = count
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> CpuHogs:
        self.procs = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)
        ]
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.kill()
            p.wait()


def plan_runs(runs: int = 3, hogs: int = 2, extra: list[str] | None = None) -> list[dict]:
    """Run ``vivres plan`` ``runs`` times beside ``hogs`` busy processes; one row per run."""
    rows = []
    with CpuHogs(hogs), tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            out = Path(tmp) / f"run{i}"
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "api.cli", "plan", "--out", str(out), *(extra or [])],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            report = out / "report.json"
            row = {"run": i + 1, "exit": proc.returncode, "seconds": round(seconds, 1)}
            if report.exists():
                data = json.loads(report.read_text())
                row.update(
                    gap_pct=None if data["gap"] is None else 100 * data["gap"],
                    stopped_by=data.get("stopped_by"),
                    plan_sha256=data.get("plan_sha256"),
                )
            else:
                row["error"] = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            rows.append(row)
    return rows


def test_runs(runs: int = 5, hogs: int = 1, on_row=None, *, clone: bool = True) -> list[dict]:
    """Run the README's test command ``runs`` times in a row beside ``hogs`` busy processes;
    one row per run, each also given to ``on_row`` as it ends (a run takes 10–20 minutes: a
    stopped bench keeps what it ran).

    With ``clone`` (the default) the command is ``CI=true bash .ci/run`` — venv, install,
    ruff, mypy and the whole suite, exactly as CI runs it — in a clean clone of this
    checkout's HEAD made once in a temporary folder beside it; without it, ``pytest -q -n 2``
    in this checkout's environment."""
    # the clone sits beside this checkout, so that ``../shared`` is found as in CI (a clone in
    # /tmp skipped the 20 tests that read ../shared)
    with (
        tempfile.TemporaryDirectory(dir=ROOT.parent, prefix=".vivres-stability-") as tmp,
        CpuHogs(hogs),
    ):
        return _test_runs(runs, Path(tmp) if clone else None, on_row)


def _test_runs(runs: int, clone_dir: Path | None, on_row) -> list[dict]:
    """The runs of :func:`test_runs`, in ``clone_dir`` (a clone of HEAD) or in this checkout."""
    rows: list[dict] = []
    where = ROOT
    command = [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"]
    if clone_dir is not None:
        where = clone_dir
        subprocess.run(["git", "clone", "-q", str(ROOT), str(where)], check=True)
        command = ["bash", ".ci/run"]
    for i in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(
            command,
            cwd=where,
            capture_output=True,
            text=True,
            env={**os.environ, "CI": "true"},
        )
        lines = proc.stdout.strip().splitlines()
        rows.append(
            {
                "run": i + 1,
                "exit": proc.returncode,
                "minutes": round((time.perf_counter() - started) / 60, 1),
                "summary": (lines or [""])[-1],
                # which tests failed, so a flaky one can be found
                "failed": [ln for ln in lines if ln.startswith(("FAILED ", "ERROR "))][:20],
                "stderr_tail": [
                    line
                    for line in proc.stderr.strip().splitlines()
                    if not line.startswith("WARNING: Location")  # pip's, harmless
                ][-3:]
                if proc.returncode
                else [],
            }
        )
        if on_row is not None:
            on_row(rows[-1], rows)
    return rows
