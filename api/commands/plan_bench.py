"""``vivres bench planner`` (generated instances up to metro size) and ``vivres bench
stability`` (the same plan on a busy machine)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from api.commands import bench_module
from api.commands.plan import _DEFAULTS, StopOpt, _console


def bench_planner(
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the rows to this JSON file.", dir_okay=False),
    ] = None,
    sizes: Annotated[
        str,
        typer.Option(
            "--sizes",
            help="Instances, comma-separated: sample, medium, metro, regional300, regional600.",
        ),
    ] = "sample,metro",
    solvers: Annotated[str, typer.Option("--solvers", help="highs,cbc")] = "highs,cbc",
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Solver seconds per run under --stop time and for CBC (default: "
            "29 for sample, 225 for metro); a safety cap under the work rule (default 600).",
            min=1,
        ),
    ] = None,
    cbc_time_limit: Annotated[
        float | None,
        typer.Option(
            "--cbc-time-limit", help="Seconds per CBC run (default: as --time-limit).", min=1
        ),
    ] = None,
    stop: StopOpt = _DEFAULTS.stop,
) -> None:
    """Build and solve generated instances up to metro size with HiGHS and CBC."""
    module = bench_module("planner_bench")
    started = time.perf_counter()
    rows = module.run(
        sizes=[s.strip() for s in sizes.split(",") if s.strip()],
        solvers=[s.strip() for s in solvers.split(",") if s.strip()],
        time_limit_s=time_limit,
        cbc_time_limit_s=cbc_time_limit,
        console=_console(),
        stop=stop,
    )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(rows, indent=2))
        _console().print(
            f"{len(rows)} rows written to [bold]{json_path}[/] "
            f"({time.perf_counter() - started:.0f} s)"
        )


def bench_stability(
    runs: Annotated[int, typer.Option("--runs", help="Plans solved.", min=1)] = 3,
    hogs: Annotated[
        int | None,
        typer.Option(
            "--hogs",
            help="Busy processes beside them (default: 2 for plans, 1 for --tests).",
            min=0,
        ),
    ] = None,
    tests: Annotated[
        int,
        typer.Option(
            "--tests",
            help="Instead: run the README's test command this many times beside busy processes.",
            min=0,
        ),
    ] = 0,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the rows here.", dir_okay=False)
    ] = None,
    here: Annotated[
        bool,
        typer.Option(
            "--here",
            help="With --tests: pytest in this checkout instead of .ci/run on a clean clone.",
        ),
    ] = False,
) -> None:
    """Same plan on a busy machine: `vivres plan` N times beside CPU hogs, plan hashes."""
    module = bench_module("stability_bench")
    console = _console()
    if tests:

        def said(r: dict, so_far: list[dict]) -> None:
            console.print(
                f"run {r['run']}: exit {r['exit']} in {r['minutes']} min · {r['summary']}",
                highlight=False,
            )
            for line in [*r.get("failed", []), *r.get("stderr_tail", [])]:
                console.print(f"    {line}", highlight=False)
            if json_path is not None:  # written after every run: a stopped bench keeps them
                json_path.parent.mkdir(parents=True, exist_ok=True)
                json_path.write_text(json.dumps(so_far, indent=2))

        hogs = 1 if hogs is None else hogs
        rows = module.test_runs(tests, hogs=hogs, on_row=said, clone=not here)
        passed = sum(r["exit"] == 0 for r in rows)
        console.print(f"[bold]{passed}/{len(rows)} passed[/] beside {hogs} busy processes")
    else:
        hogs = 2 if hogs is None else hogs
        rows = module.plan_runs(runs, hogs=hogs)
        for r in rows:
            gap = "—" if r.get("gap_pct") is None else f"{r['gap_pct']:.3f} %"
            console.print(
                f"run {r['run']}: exit {r['exit']} · {r['seconds']} s · gap {gap} · "
                f"stopped by {r.get('stopped_by')} · plan "
                f"{(r.get('plan_sha256') or '—')[:16]} {r.get('error', '')}",
                highlight=False,
            )
        hashes = {r.get("plan_sha256") for r in rows}
        crashed = sum(r["exit"] != 0 for r in rows)
        same = len(hashes) == 1 and None not in hashes
        console.print(
            f"[bold]{len(rows)} runs beside {hogs} busy processes: "
            f"{'identical plans' if same else f'{len(hashes)} different plans'}, "
            f"{crashed} crashed[/]"
        )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(rows, indent=2))


def bench_deadlines(
    hogs: Annotated[int, typer.Option("--hogs", help="Busy processes beside them.", min=0)] = 2,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the result here.", dir_okay=False)
    ] = None,
) -> None:
    """Deadlines under load: each solve (plan, routes, sweep task) against its time limit."""
    module = bench_module("deadline_bench")
    console = _console()
    result = module.run(hogs=hogs)
    for s in result["solves"]:
        extra = ", ".join(f"{k} {v}" for k, v in s.items() if k not in _DEADLINE_KEYS)
        console.print(
            f"{s['what']}: {s['seconds']} s for a limit of {s['limit_s']:g} s · overrun "
            f"{s['overrun_s']} s · {extra}",
            highlight=False,
        )
    verdict = "every solve within its limit + 1 s" if result["all_within"] else "OVERRUN"
    console.print(
        f"[bold]beside {hogs} busy processes: worst overrun {result['worst_overrun_s']} s "
        f"— {verdict}[/]"
    )
    if json_path is not None:
        module.write(result, json_path)


_DEADLINE_KEYS = {"what", "limit_s", "seconds", "overrun_s", "within"}
