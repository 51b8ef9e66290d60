"""``vivres sweep FILE``: territories × scenarios × seeds, every plan a Dask task."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep file (YAML).", dir_okay=False)],
    out: Annotated[
        Path, typer.Option("--out", help="Folder of the results (runs/, runs.parquet, summary).")
    ] = Path("out/sweep"),
    workers: Annotated[
        int, typer.Option("--workers", help="Local worker processes (one thread each).", min=1)
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="An existing Dask cluster, e.g. tcp://host:8786."),
    ] = None,
) -> None:
    """Run every plan of a sweep on Dask distributed; a rerun skips the finished runs."""
    from api.cli import console
    from api.sweep import finished_ids, load_sweep, run_sweep, summarise

    spec = load_sweep(file)
    already = len(finished_ids(out) & {r.run_id for r in spec.runs})
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"{spec.name}", total=len(spec.runs), completed=already)
        table = run_sweep(
            spec,
            out,
            workers=workers,
            scheduler=scheduler,
            on_done=lambda row: progress.advance(task),
        )
    files = summarise(table, out)
    errors = int((table["status"] == "error").sum()) if len(table) else 0
    console.print(
        f"{len(spec.runs)} runs ({already} already done), {errors} in error → "
        f"{out / 'runs.parquet'}, {', '.join(str(f) for f in files)}"
    )
    for row in table.loc[table["status"] == "error"].head(5).itertuples():
        console.print(f"  • {row.territory} {row.scenario} seed {row.seed}: {row.error}")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres sweep`` and ``vivres bench sweep``."""
    app.command("sweep")(sweep)
    bench_app.command("sweep")(bench_sweep)


def bench_sweep(
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the figures here.", dir_okay=False)
    ] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds per scenario (8 → 64 runs).")] = 8,
    horizon: Annotated[int, typer.Option("--horizon", help="Weeks planned per run.")] = 16,
    work: Annotated[float, typer.Option("--work", help="Work budget per run.")] = 0.02,
) -> None:
    """64 plan runs on a 2-worker LocalCluster vs one process; then with a worker killed."""
    import json

    from api.cli import console
    from api.commands import bench_module

    module = bench_module("sweep_bench")
    figures = module.run(seeds=seeds, horizon=horizon, work=work)
    console.print_json(data=figures)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2))
