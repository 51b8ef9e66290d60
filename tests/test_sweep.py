"""``vivres sweep``: runs on Dask, rows written as they finish, resumable, errors recorded
(issue 17)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_cli import run

from api.sweep import load_sweep, run_one

TINY = Path(__file__).resolve().parent / "data" / "tiny"


def _sweep_file(folder: Path, body: str) -> Path:
    (folder / "sans-P1.yaml").write_text("name: sans-P1\nchanges:\n  - drop_farm: P1\n")
    (folder / "unknown.yaml").write_text("name: inconnu\nchanges:\n  - drop_farm: P9\n")
    path = folder / "sweep.yaml"
    path.write_text(body.format(tiny=TINY), encoding="utf-8")
    return path


def test_a_sweep_file_names_its_runs_with_stable_ids(tmp_path):
    path = _sweep_file(
        tmp_path,
        "territories: [{tiny}]\nscenarios: [base, sans-P1.yaml]\nseeds: [0, 1]\n"
        "grid: {{demand_factor: [1.1]}}\nplan: {{work: 0.05}}\n",
    )
    first, again = load_sweep(path), load_sweep(path)
    assert len(first.runs) == 1 * 3 * 2
    assert [r.run_id for r in first.runs] == [r.run_id for r in again.runs]
    assert len({r.run_id for r in first.runs}) == 6
    assert {r.scenario for r in first.runs} == {"base", "sans-P1.yaml", "grid:demand_factor=1.1"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("territories: []\n", "give at least one territory"),
        ("territories: [{tiny}]\nseeds: [0.5]\n", "seeds: expected a list of whole numbers"),
        ("territories: [{tiny}]\nplan: {{speed: 3}}\n", "plan: unknown option(s) speed"),
        ("territories: [{tiny}]\ngrid: {{demand_factor: [0]}}\n", "is not a factor > 0"),
        ("territories: [{tiny}]\nscenarios: [missing.yaml]\n", "does not exist"),
        ("territories: [{tiny}]\nthreads: 4\n", "unknown key(s) threads"),
    ],
)
def test_a_bad_sweep_file_exits_2_naming_the_field(tmp_path, capsys, body, message):
    path = _sweep_file(tmp_path, body)
    code, _, err = run(["sweep", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and message in err


def test_a_failing_run_is_a_row_with_its_error(tmp_path):
    path = _sweep_file(
        tmp_path, "territories: [{tiny}]\nscenarios: [unknown.yaml]\nplan: {{work: 0.05}}\n"
    )
    row = run_one(load_sweep(path).runs[0])
    assert row["status"] == "error" and "P9" in row["error"]


@pytest.mark.slow
def test_a_sweep_on_two_workers_writes_every_row_once_and_a_rerun_skips_them(tmp_path, capsys):
    path = _sweep_file(
        tmp_path,
        "territories: [{tiny}]\nscenarios: [base, sans-P1.yaml, unknown.yaml]\nseeds: [0, 1]\n"
        "plan: {{work: 0.05}}\n",
    )
    out = tmp_path / "out"
    code, stdout, _ = run(["sweep", str(path), "--out", str(out)], capsys)
    assert code == 0, stdout
    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == 6 and table["run_id"].is_unique
    assert (table["status"] == "error").sum() == 2  # the unknown farm, both seeds
    assert (out / "summary.csv").exists() and "<svg" in (out / "summary.html").read_text()
    # the same seed gives the same plan, wherever it ran
    base = table.loc[table["scenario"] == "base"]
    again = run_one(load_sweep(path).runs[0])
    assert again["plan_sha256"] == base.loc[base["seed"] == 0, "plan_sha256"].item()
    code, stdout, _ = run(["sweep", str(path), "--out", str(out)], capsys)
    assert code == 0 and "(6 already done)" in stdout
    assert len(pd.read_parquet(out / "runs.parquet")) == 6


@pytest.mark.slow
def test_the_local_cluster_workers_run_without_profiler_or_trim_threshold(tmp_path):
    """Also with port 8787 taken (another sweep on the machine): no warning, no failure."""
    import socket
    from contextlib import suppress

    from api.sweep import run_sweep

    holder = socket.socket()
    with suppress(OSError):  # already held by someone else: the case tested all the same
        holder.bind(("127.0.0.1", 8787))
        holder.listen()

    path = _sweep_file(tmp_path, "territories: [{tiny}]\nplan: {{work: 0.05}}\n")
    seen: dict = {}

    def settings() -> tuple:
        import os

        import dask

        return (
            dask.config.get("distributed.worker.profile.enabled"),
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            os.environ.get("OMP_NUM_THREADS"),
        )

    try:
        table = run_sweep(
            load_sweep(path),
            tmp_path / "out",
            workers=1,
            on_client=lambda client: seen.update(client.run(settings)),
        )
    finally:
        holder.close()
    assert list(seen.values()) == [(False, None, "1")]
    assert table["status"].tolist() == ["optimal"] and table["cpu_seconds"].item() > 0
