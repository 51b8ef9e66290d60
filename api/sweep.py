"""Scenario sweeps: territories × scenarios × seeds, every plan a task on Dask distributed.

A sweep file (YAML) names the runs::

    name: robustesse
    territories: [../sample]            # folders, relative to the sweep file; a federation
                                        # folder (federation.csv) stands for its territories
    scenarios: [base, ../scenarios/drought.yaml]
    seeds: [0, 1]
    grid: {demand_factor: [0.9, 1.1]}   # optional: one generated scenario per value
    plan: {work: 0.2, time_limit_s: 120, forecast: false}

Each run has an id (hash of the territory's files, the scenario's text, the seed and the plan
options). Its result row is written alone (``runs/<id>.parquet``, atomically) as soon as it
finishes, so a rerun skips finished runs, a run re-executed after a lost worker overwrites its
own row (never a duplicate), and a failing run is a row with its error. ``runs.parquet`` and
``summary.csv`` / ``summary.html`` gather them.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from core.csvio import write_user_csv
from core.errors import InputError

BASE = "base"
KPI_COLUMNS = (
    "coverage_pct",
    "shortfall_kg",
    "waste_kg",
    "purchase_cost_eur",
    "revenue_farm_min_eur",
    "farms_below_floor",
)
#: A federation folder's list of territories (``vivres federation generate``)
FEDERATION_MANIFEST = "federation.csv"
#: Dask settings of the sweep's own LocalCluster, whose workers run one plan at a time and
#: nothing else (an existing cluster's workers keep their own settings). Measured on 24 bench runs
#: (session 9, machine at load 12–15; CPU seconds per run: 1.21 in one process, 1.48 in a
#: default worker, 1.35 without the profiler, 1.32 without the trim threshold either):
LOCAL_CLUSTER_CONFIG = {
    # the statistical profiler samples the running task's stack every 10 ms, holding the GIL
    "distributed.worker.profile.enabled": False,
    # the nanny's MALLOC_TRIM_THRESHOLD_=65536 hands freed memory back to the system at once:
    # the plans' many short-lived arrays then cost 10× the system time (0.05 s per run, 0.004 s
    # in one process); the thread caps stay (one thread per worker)
    "distributed.nanny.pre-spawn-environ": {
        "OMP_NUM_THREADS": 1,
        "MKL_NUM_THREADS": 1,
        "OPENBLAS_NUM_THREADS": 1,
    },
}
PLAN_OPTIONS = ("work", "time_limit_s", "stop", "gap", "horizon_weeks", "budget_eur")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSpec:
    """One plan of a sweep."""

    run_id: str
    territory: str  # folder
    content: str  # hash of its files: a worker's cached territory is the one hashed
    scenario: str  # "base", a YAML file, or "grid:<name>=<value>"
    scenario_text: str  # the scenario as YAML ("" for the base)
    seed: int
    plan: dict = field(default_factory=dict)
    forecast: bool = False
    label: str = ""  # the territory's name in the results (default: its folder's)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """A validated sweep file."""

    name: str
    runs: tuple[RunSpec, ...]


def _folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".csv", ".xlsx", ".gz"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def grid_scenarios(grid: dict) -> list[tuple[str, str]]:
    scenarios = []
    for key, values in grid.items():
        if key != "demand_factor":
            raise InputError(f"sweep file: grid: unknown parameter {key!r} (known: demand_factor)")
        if not isinstance(values, list) or not values:
            raise InputError("sweep file: grid.demand_factor: expected a list of numbers")
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InputError(f"sweep file: grid.demand_factor: {value!r} is not a factor > 0")
            name = f"demand×{value:g}"
            text = f"name: '{name}'\nchanges:\n  - demand: {{factor: {float(value)!r}}}\n"
            scenarios.append((f"grid:demand_factor={value:g}", text))
    return scenarios


def load_sweep(path: Path) -> Sweep:
    """Read and check a sweep file; every scenario is parsed before any run starts."""
    from planner.scenario import parse_yaml

    path = Path(path)
    if not path.is_file():
        raise InputError(f"sweep file {path} does not exist")
    raw = parse_yaml(path.read_text(encoding="utf-8")[:100_000])
    if not isinstance(raw, dict):
        raise InputError(f"{path.name}: expected a mapping (name, territories, scenarios, seeds)")
    return sweep_of(raw, path.parent, name=str(raw.get("name") or path.stem), file=path.name)


def sweep_of(raw: dict, here: Path, *, name: str, file: str, label: str = "") -> Sweep:
    """A sweep from its mapping (a sweep file's, or an HTTP sweep job's): paths relative to
    ``here``; ``file`` names the source in errors; ``label`` names the territory in rows."""
    import planner

    unknown = set(raw) - {"name", "territories", "scenarios", "seeds", "grid", "plan"}
    if unknown:
        raise InputError(f"{file}: unknown key(s) {', '.join(sorted(unknown))}")
    territories = []
    for entry in raw.get("territories") or []:
        folder = here / str(entry)
        if not folder.is_dir():
            raise InputError(f"{file}: territories: {folder} is not a folder")
        territories += federation_members(folder, file) or [folder]
    if not territories:
        raise InputError(f"{file}: territories: give at least one territory folder")
    scenarios: list[tuple[str, str]] = []
    for entry in raw.get("scenarios") or [BASE]:
        if entry == BASE:
            scenarios.append((BASE, ""))
            continue
        file = here / str(entry)
        planner.load_scenario(file)  # fails fast on a bad scenario, naming its field
        scenarios.append((str(entry), file.read_text(encoding="utf-8")))
    scenarios += grid_scenarios(raw.get("grid") or {})
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**31 for s in seeds
    ):
        raise InputError(f"{file}: seeds: expected a list of whole numbers")
    plan = dict(raw.get("plan") or {})
    forecast = bool(plan.pop("forecast", False))
    bad = set(plan) - set(PLAN_OPTIONS)
    if bad:
        raise InputError(f"{file}: plan: unknown option(s) {', '.join(sorted(bad))}")
    from api.params import plan_params

    plan_params(**plan)  # the options are checked here, once
    runs = []
    for folder in territories:
        content = _folder_hash(folder)
        for scenario, text in scenarios:
            for seed in seeds:
                key = json.dumps([content, text, seed, plan, forecast], sort_keys=True)
                runs.append(
                    RunSpec(
                        run_id=hashlib.sha256(key.encode()).hexdigest()[:16],
                        territory=str(folder.resolve()),
                        content=content,
                        scenario=scenario,
                        scenario_text=text,
                        seed=seed,
                        plan=plan,
                        forecast=forecast,
                        label=label,
                    )
                )
    return Sweep(name=name, runs=tuple(runs))


def federation_members(folder: Path, file: str) -> list[Path] | None:
    """The territory folders of a federation (a folder with ``federation.csv``, written by
    ``vivres federation generate``), in its order; None when ``folder`` is not one."""
    manifest = folder / FEDERATION_MANIFEST
    if not manifest.is_file():
        return None
    try:
        names = pd.read_csv(manifest, dtype=str, usecols=["territory"])["territory"]
    except ValueError as exc:  # no such column, or not a CSV
        raise InputError(f"{file}: {manifest}: expected a column 'territory' ({exc})") from None
    members = []
    for row, name in enumerate(names, start=2):
        member = folder / str(name)
        if "/" in str(name) or "\\" in str(name) or not member.is_dir():
            raise InputError(
                f"{file}: {manifest.name} row {row}: territory {name!r} is not a folder of {folder}"
            )
        members.append(member)
    return members


@lru_cache(maxsize=8)
def _territory(folder: str, content: str) -> Any:
    """The territory of ``folder`` as it was hashed (``content``): a long-lived worker of an
    existing cluster loads it again when its files changed between sweeps."""
    del content  # part of the cache key only
    from api.pipeline import load

    return load(Path(folder), strict=False)


def run_one(spec: RunSpec) -> dict:
    """Solve one run (in a worker process): its KPIs, gap, time and status, or its error."""
    import dataclasses

    from api.params import plan_params
    from api.pipeline import plan_demand, run_plan
    from planner.outputs import plan_hash

    row: dict[str, Any] = {
        "run_id": spec.run_id,
        "territory": spec.label or Path(spec.territory).name,
        "scenario": spec.scenario,
        "seed": spec.seed,
        "worker_pid": os.getpid(),
    }
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        territory = _territory(spec.territory, spec.content)
        params = dataclasses.replace(plan_params(**spec.plan, seed=spec.seed), threads=1)
        hub = plan_demand(territory, params, forecast=spec.forecast)
        scenario = _scenario(spec.scenario_text) if spec.scenario_text else None
        stage = run_plan(territory, hub, params, scenario=scenario)
        result = stage.result
        row |= {k: stage.kpis.get(k) for k in KPI_COLUMNS}
        row |= {
            "status": result.status.value,
            "stopped_by": None if result.stopped_by is None else result.stopped_by.value,
            "objective": result.objective,
            "gap": result.gap,
            "plan_sha256": plan_hash(result),
            "error": "",
        }
    except Exception as exc:  # a failing run is a row with its error: the sweep goes on
        row |= {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    row["seconds"] = round(time.perf_counter() - started, 3)
    # the process's CPU time (all its threads: a Dask worker's own work counts too)
    row["cpu_seconds"] = round(time.process_time() - cpu_started, 3)
    return row


def _scenario(text: str) -> Any:
    """A scenario from its YAML text (validated as a file would be)."""
    import tempfile

    import planner

    with tempfile.TemporaryDirectory(prefix="vivres-sweep-") as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return planner.load_scenario(path)


def _write_row(row: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{row['run_id']}.{os.getpid()}.tmp"
    pd.DataFrame([row]).to_parquet(tmp, index=False)
    tmp.replace(folder / f"{row['run_id']}.parquet")


def finished_ids(out: Path) -> set[str]:
    """Runs already in ``out/runs`` (a rerun skips them)."""
    folder = out / "runs"
    return {p.stem for p in folder.glob("*.parquet")} if folder.is_dir() else set()


def run_sweep(
    sweep: Sweep,
    out: Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[dict], None] | None = None,
    retries: int = 2,
    on_client: Callable[[Any], None] | None = None,
) -> pd.DataFrame:
    """Run every unfinished run of ``sweep`` on Dask (a LocalCluster of ``workers`` processes
    with one thread each, or the cluster at ``scheduler``); write each row as it comes; return
    the whole table (earlier runs included). ``on_client`` is called with the Dask client once
    the runs are submitted (the benchmark kills a worker from there)."""
    try:
        import dask
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - the [sweep] extra is missing
        raise InputError("vivres sweep needs Dask: pip install 'vivres[sweep]'") from None

    _quiet_dask()
    out.mkdir(parents=True, exist_ok=True)
    done = finished_ids(out)
    todo = [r for r in sweep.runs if r.run_id not in done]
    if todo:
        cluster = None
        if not scheduler:
            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    # None still serves the scheduler's HTTP routes on 8787 and warns when a
                    # second sweep on the machine holds it; ":0" takes any free port
                    dashboard_address=":0",
                    silence_logs=40,
                )
        try:
            with Client(scheduler or cluster) as client:
                futures = [
                    client.submit(run_one, spec, key=f"run-{spec.run_id}", retries=retries)
                    for spec in todo
                ]
                if on_client is not None:
                    on_client(client)
                for future in as_completed(futures):
                    row = future.result()
                    _write_row(row, out / "runs")
                    if on_done is not None:
                        on_done(row)
        finally:
            if cluster is not None:
                cluster.close()
    return gather(out)


def run_here(
    sweep: Sweep, out: Path, *, on_done: Callable[[dict], None] | None = None
) -> pd.DataFrame:
    """Every unfinished run of ``sweep`` in this process, one after the other (no Dask: a
    one-worker sweep job); rows written as they come, as :func:`run_sweep` does."""
    done = finished_ids(out)
    for spec in sweep.runs:
        if spec.run_id in done:
            continue
        row = run_one(spec)
        _write_row(row, out / "runs")
        if on_done is not None:
            on_done(row)
    return gather(out)


def _quiet_dask() -> None:
    """Dask's scheduler and nannies log at INFO in this process: keep warnings only."""
    import logging

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("distributed"):
            logging.getLogger(name).setLevel(logging.WARNING)


def gather(out: Path) -> pd.DataFrame:
    """Every run row of ``out/runs`` in one table (sorted by territory, scenario, seed), also
    written as ``out/runs.parquet``."""
    files = sorted((out / "runs").glob("*.parquet"))
    if not files:
        return pd.DataFrame()
    table = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    table = table.sort_values(["territory", "scenario", "seed"], kind="stable", ignore_index=True)
    table.to_parquet(out / "runs.parquet", index=False)
    return table


def summarise(table: pd.DataFrame, out: Path) -> list[Path]:
    """Per territory and scenario: runs, errors, and each KPI's min / median / max (CSV and a
    printable HTML page with a bar per KPI)."""
    ok = table.loc[table["status"] != "error"]
    groups = ok.groupby(["territory", "scenario"])
    rows = []
    for (territory, scenario), runs in groups:
        row: dict[str, Any] = {
            "territory": territory,
            "scenario": scenario,
            "runs": len(runs),
            "errors": int(
                ((table["territory"] == territory) & (table["scenario"] == scenario)).sum()
                - len(runs)
            ),
            "gap_max_pct": None if runs["gap"].isna().all() else 100 * float(runs["gap"].max()),
        }
        for kpi in KPI_COLUMNS:
            values = pd.to_numeric(runs[kpi], errors="coerce")
            row |= {
                f"{kpi}_min": values.min(),
                f"{kpi}_median": values.median(),
                f"{kpi}_max": values.max(),
            }
        rows.append(row)
    summary = pd.DataFrame(rows)
    csv_path = out / "summary.csv"
    files = write_user_csv(summary, csv_path)
    html_path = out / "summary.html"
    html_path.write_text(_summary_html(summary, table), encoding="utf-8")
    return [*files, html_path]


def _summary_html(summary: pd.DataFrame, table: pd.DataFrame) -> str:
    parts = [
        "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Balayage</title>",
        "<style>body{font:13px sans-serif;margin:1.5cm}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:3px 6px;text-align:right}"
        "@page{size:A4;margin:1cm}</style>",
        f"<h1>Balayage de scénarios</h1><p>{len(table)} plans, "
        f"{int((table['status'] == 'error').sum())} en erreur</p>",
    ]
    for kpi in KPI_COLUMNS:
        if summary.empty:
            break
        top = float(pd.to_numeric(summary[f"{kpi}_max"], errors="coerce").max() or 0) or 1.0
        parts.append(
            f"<h2>{html.escape(kpi)}</h2><table><tr><th>territoire</th><th>scénario"
            "</th><th>min</th><th>médiane</th><th>max</th><th></th></tr>"
        )
        for _, r in summary.iterrows():
            lo, mid, hi = (r[f"{kpi}_{s}"] for s in ("min", "median", "max"))
            bar = (
                f"<svg width='200' height='12' role='img' aria-label='min {lo:.4g}, max {hi:.4g}'>"
                f"<rect x='{200 * lo / top:.1f}' y='3' width='{max(200 * (hi - lo) / top, 1):.1f}'"
                f" height='6' fill='#4a7'/><rect x='{200 * mid / top:.1f}' y='0' width='2' "
                "height='12' fill='#000'/></svg>"
                if pd.notna(lo) and pd.notna(hi) and top > 0
                else ""
            )
            parts.append(
                f"<tr><td>{html.escape(str(r['territory']))}</td>"
                f"<td>{html.escape(str(r['scenario']))}</td><td>{lo:.4g}</td><td>{mid:.4g}</td>"
                f"<td>{hi:.4g}</td><td>{bar}</td></tr>"
            )
        parts.append("</table>")
    return "\n".join(parts) + "</html>\n"
