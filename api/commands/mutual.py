"""``vivres mutualisation`` (pooled vs stand-alone, the split of the pooled cost) and
``vivres bench mutualisation``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.commands import bench_module
from api.commands.routes import (
    AllowFallbackOpt,
    DataOpt,
    OsmOpt,
    SolutionLimitOpt,
    load_osm,
    routing_warnings,
)
from core.territory import SAMPLE_DIR, load_territory


def _console():
    from api.cli import console

    return console


def mutualisation(
    week_texts: Annotated[
        list[str],
        typer.Option(
            "--week",
            help="Delivery week: an ISO week (2025-W50) or a date in it; repeat it to sum "
            "several weeks.",
        ),
    ],
    data: DataOpt = SAMPLE_DIR,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="Plan folder holding harvest.csv (supply not confirmed in availability.csv).",
            file_okay=False,
        ),
    ] = None,
    vehicle_day_eur: Annotated[
        float | None,
        typer.Option(
            "--vehicle-day-eur",
            help="Fixed cost of a vehicle used on a day, € (default 45: data/README.md).",
            show_default=False,
        ),
    ] = None,
    outsourced_eur_per_kg: Annotated[
        float | None,
        typer.Option(
            "--outsourced-eur-per-kg",
            help="Carrier's price of the kilos a coalition cannot carry itself, €/kg "
            "(default 0.35: data/README.md).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Routing solves in parallel.", min=1, max=64)
    ] = 2,
    orders_sampled: Annotated[
        int | None,
        typer.Option(
            "--samples",
            help="Beyond 10 organisations: random orders of arrival of the sampled Shapley "
            "value (default 200).",
            min=2,
            show_default=False,
        ),
    ] = None,
    osm: OsmOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.", file_okay=False)] = Path(
        "out/mutualisation"
    ),
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Routing: at most this many solver seconds per coalition week (a safety "
            "cap; default 600).",
            min=0.5,
            show_default=False,
        ),
    ] = None,
    solution_limit: SolutionLimitOpt = None,
    allow_fallback: AllowFallbackOpt = False,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Routing and sampling seed.", show_default=False),
    ] = None,
) -> None:
    """Économies d'intégration: each organisation alone vs pooled, and the split of the pooled
    cost (Shapley, core check, per kg / stop / km, Equal Profit Method)."""
    from api import pipeline
    from api.commands.routes import _read_harvest
    from api.mutual import ROUTING_CAP_S
    from api.params import mutual_params, route_params
    from api.week import parse_week

    console = _console()
    weeks = [parse_week(text) for text in week_texts]
    params = mutual_params(
        vehicle_day_eur=vehicle_day_eur,
        outsourced_eur_per_kg=outsourced_eur_per_kg,
        workers=workers,
        num_orders=orders_sampled,
        seed=seed,
    )
    territory = load_territory(data, strict=False)
    harvest = _read_harvest(plan)
    rparams = route_params(
        time_limit_s=time_limit or ROUTING_CAP_S,
        seed=seed,
        cache_dir=out / ".cache",
        day_solution_limit=solution_limit,
        allow_fallback=allow_fallback or None,
    )
    network = load_osm(osm, rparams, console)
    with routing_warnings(console, "Mutualisation: every coalition's week"):
        stage = pipeline.run_mutual(
            territory, weeks, rparams, params, harvest=harvest, network=network
        )
    files = pipeline.write_mutual(stage, out)
    print_summary(stage)
    console.print(f"{len(files)} files written to [bold]{out}[/]")


def print_summary(stage) -> None:
    """The comparison, the split and the core verdict on the console."""
    from api.mutual_report import NOT_REPEATABLE, verdict

    console = _console()
    if not stage.assessable:
        console.print(f"[yellow]pooling cannot be assessed:[/] {stage.reason}")
        return
    s = stage.summary
    console.print(
        f"weeks {', '.join(s['weeks'])}: pooled {s['pooled_eur']:,.2f} € vs stand-alone "
        f"{s['standalone_eur']:,.2f} € — saving {s['saving_eur']:,.2f} € "
        f"({s['saving_pct']:.1f} %); {s['coalitions']} coalitions in {s['seconds']:.0f} s"
    )
    parts = Table(title="pooled vs the sum of stand-alone weeks")
    for col in ("", "stand-alone", "pooled"):
        parts.add_column(col, justify="right")
    for key, pair in s["saving_parts"].items():
        parts.add_row(key, f"{pair['standalone']:,.1f}", f"{pair['pooled']:,.1f}")
    console.print(parts)
    split = Table(title=f"split of the pooled cost (Shapley {s['shapley_method']})")
    for col in ("organisation", "alone €", "Shapley €", "per kg €", "per stop €", "per km €",
                "EPM €"):  # fmt: skip
        split.add_column(col, justify="right")
    for r in stage.split.to_dict("records"):
        split.add_row(
            r["organisation_id"],
            *(
                f"{r[k]:,.2f}"
                for k in (
                    "standalone_eur",
                    "shapley_eur",
                    "per_kg_eur",
                    "per_stop_eur",
                    "per_km_eur",
                    "epm_eur",
                )
            ),
        )
    console.print(split)
    console.print(f"Shapley shares sum to {s['shapley_sum_eur']:,.2f} € (pooled cost)")
    console.print(f"core: {verdict(s)}")
    if not s["repeatable"]:
        console.print(f"[yellow]warning:[/] {NOT_REPEATABLE}")


def bench_mutualisation(
    json_path: Annotated[
        Path, typer.Option("--json", help="Write the figures to this JSON file.", dir_okay=False)
    ],
    data: Annotated[
        Path, typer.Option("--data", help="Territory (default: the sample).", file_okay=False)
    ] = SAMPLE_DIR,
    week_text: Annotated[str, typer.Option("--week", help="Delivery week.")] = "2025-W51",
    literature: Annotated[
        bool,
        typer.Option(
            "--literature/--no-literature",
            help="Also run the synthetic literature setting (many small producers).",
        ),
    ] = True,
) -> None:
    """4 organisations (15 coalitions) on the sample week, and the literature setting."""
    figures = bench_module("mutual_bench").run(
        data=data, week=week_text, literature=literature, console=_console()
    )
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    _console().print(f"figures written to [bold]{json_path}[/]")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres mutualisation`` and ``vivres bench mutualisation``."""
    app.command("mutualisation")(mutualisation)
    bench_app.command("mutualisation")(bench_mutualisation)
