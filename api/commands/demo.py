"""``vivres demo``: the whole weekly job on the sample territory (or any other)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.commands import LangOpt
from core.territory import SAMPLE_DIR


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder the outputs are written to.")] = Path(
        "out"
    ),
    data: Annotated[
        Path,
        typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False),
    ] = SAMPLE_DIR,
    week: Annotated[
        int,
        typer.Option("--week", help="Season week to route (1 = the week after the order history)."),
    ] = 1,
    osm: Annotated[
        Path | None,
        typer.Option(
            "--osm",
            help="Local OpenStreetMap file (.osm, "
            ".osm.bz2, .osm.pbf) for road travel times; without it, straight-line "
            "estimates are used and flagged.",
            dir_okay=False,
        ),
    ] = None,
    plan_time_limit: Annotated[
        float | None,
        typer.Option(
            "--plan-time-limit",
            help="Safety cap on the planner's seconds (default: the work "
            "rule's cap, planner.params.DEFAULT_CAP_S; the plan stops on its work budget, the "
            "same on any machine).",
        ),
    ] = None,
    plan_work: Annotated[
        float | None,
        typer.Option(
            "--plan-work",
            help="Scale of the planner's work budget (2 = twice the search; "
            "default: PlanParams.work).",
            min=0.001,
            max=1000,
            show_default=False,
        ),
    ] = None,
    route_time_limit: Annotated[
        float | None,
        typer.Option(
            "--route-time-limit",
            help="Seconds for the whole week's routes (days usually stop "
            "sooner; default: RouteParams.time_limit_s).",
            min=0.5,
            show_default=False,
        ),
    ] = None,
    lang: LangOpt = "fr",
) -> None:
    """Run demand → plan → routes on a territory and write every output to OUT."""
    from api.cli import console
    from api.commands.routes import routing_warnings
    from api.messages import label, say
    from api.params import plan_params, route_params
    from api.pipeline import run_demo

    # the one place `vivres demo` options become the pipeline's settings
    plan = plan_params(time_limit_s=plan_time_limit, work=plan_work)
    routes = route_params(time_limit_s=route_time_limit)

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(say("starting", lang), total=None)

        def step(message: str) -> None:
            bar.update(task, description=message)
            console.log(message)

        with routing_warnings(console, None, lang):
            summary = run_demo(
                data,
                out,
                week=week,
                plan_params=plan,
                route_params=routes,
                osm=osm,
                progress=step,
                lang=lang,
            )
        bar.update(task, description=say("done", lang))

    for stage, figures in summary.stages.items():
        table = Table(title=label(stage, lang), show_header=False, title_justify="left")
        for key, value in figures.items():
            table.add_row(label(key, lang), _shown(value, lang))
        console.print(table)
    console.print(say("files_written", lang, count=len(summary.files), out=summary.out_dir))


def _shown(value: object, lang: str = "fr") -> str:
    """A figure as people read it: numbers with separators (``1 234,5`` in French), enums by
    their value, a mapping as ``key value`` pairs, a list joined (an empty list as —)."""
    from enum import Enum

    from core.fmt import num

    if isinstance(value, float):
        return num(value, 3, lang)
    if isinstance(value, int) and not isinstance(value, bool):
        return num(value, 0, lang)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(v, lang)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v, lang) for v in value) or "—"
    return str(value)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres demo``."""
    app.command("demo")(demo)
