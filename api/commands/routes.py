"""``vivres routes`` (the week's shared-truck routes) and ``vivres bench routing``."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from api.commands import LangOpt, bench_module
from api.messages import label, say, warning_text
from core.csvio import Lang, check_lang, read_csv_any
from core.errors import FallbackWarning, InputError
from core.fmt import date_words, day_fr, num, reason_words
from core.territory import SAMPLE_DIR, load_territory


def _console():
    from api.cli import console

    return console


def _read_harvest(plan_dir: Path | None) -> pd.DataFrame | None:
    """The planner's weekly harvest (``harvest.csv``) when a plan folder is given."""
    if plan_dir is None:
        return None
    path = plan_dir / "harvest.csv"
    if not path.exists():
        raise InputError(f"--plan {plan_dir}: no harvest.csv in this folder (run `vivres plan`)")
    harvest = read_csv_any(path)
    missing = {"week_start", "site_id", "product_id", "storage_class", "kg"} - set(harvest)
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    return harvest


def _read_transfers(path: Path | None) -> pd.DataFrame | None:
    """Direct farm → shop pairs (``from_site_id, to_site_id, storage_class, kg``)."""
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"--transfers {path}: file not found")
    try:
        return read_csv_any(path, dtype={"from_site_id": str, "to_site_id": str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"--transfers {path}: not a readable CSV ({exc})") from exc


def load_osm(osm: str | None, params, console):
    """The road network of ``--osm`` (None without it), with a spinner."""
    if osm is None:
        return None
    from api import pipeline

    with console.status(f"Building the road network from {osm}"):
        return pipeline.load_network(osm, cache_dir=params.cache_dir)


@contextmanager
def routing_warnings(console, status: str | None, lang: str = "fr") -> Iterator[None]:
    """Run a routing stage (under a spinner saying ``status``, unless None); print its
    warnings (fallback distances, sites far from roads, pins honoured in part) once it is done,
    one line each in the user's language: never Python's warning with a file and line."""
    import routing

    with warnings.catch_warnings(record=True) as caught:
        for kind in (FallbackWarning, routing.SnapWarning, routing.PinWarning):
            warnings.simplefilter("always", kind)
        if status is None:
            yield
        else:
            with console.status(status):
                yield
    for w in caught:
        console.print(say("warning", lang, text=warning_text(str(w.message), lang)))


DataOpt = Annotated[
    Path,
    typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False),
]
OsmOpt = Annotated[
    str | None,
    typer.Option(
        "--osm",
        help="Road network: a local OpenStreetMap file (.osm, .osm.bz2, .osm.pbf), or "
        "place:NAME / bbox:W,S,E,N to download (cached). Without it, great-circle estimates "
        "are used and flagged haversine_fallback in every output.",
    ),
]
OutOpt = Annotated[
    Path, typer.Option("--out", help="Folder the outputs are written to.", file_okay=False)
]
SolutionLimitOpt = Annotated[
    int | None,
    typer.Option(
        "--solution-limit",
        help="Stop each day's search after this many solutions: a count, "
        "so the same routes on any machine; --time-limit stays a safety cap.",
        min=1,
    ),
]
AllowFallbackOpt = Annotated[
    bool,
    typer.Option(
        "--allow-fallback",
        help="When the road extract does not cover some sites, time their trips as "
        "straight lines × 1.3 (listed in kpis.json: estimated_sites) instead of stopping.",
    ),
]


def routes(
    week: Annotated[
        int,
        typer.Option(
            "--week",
            help="Season week to route (1 = the week after the order history).",
            min=1,
            max=53,
        ),
    ],
    data: DataOpt = SAMPLE_DIR,
    osm: OsmOpt = None,
    out: OutOpt = Path("out/routes"),
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="Plan folder holding harvest.csv: farm pickups come from the plan "
            "(otherwise from the land able to grow the week's demand).",
            file_okay=True,
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="At most this many solver seconds for the whole week (each "
            "day's search usually stops sooner, at a local optimum); default: "
            "routing.RouteParams.time_limit_s.",
            min=0.5,
            show_default=False,
        ),
    ] = None,
    solution_limit: SolutionLimitOpt = None,
    guided: Annotated[
        bool,
        typer.Option(
            "--guided",
            help="Spend the whole time limit in guided local search: often "
            "shorter routes, but they then depend on the machine's speed.",
        ),
    ] = False,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Seed of the day choice (default: routing.RouteParams.seed). Same input "
            "+ seed = same routes, unless a day's search hits the time limit (then limit_reached "
            "in kpis.json).",
            show_default=False,
        ),
    ] = None,
    pin: Annotated[
        list[str] | None,
        typer.Option(
            "--pin",
            help="Pin a stop: SITE=VEHICLE, SITE=VEHICLE@DAY or SITE=@DAY (repeatable); "
            "the rest is re-optimised.",
        ),
    ] = None,
    params_file: Annotated[
        Path | None,
        typer.Option(
            "--params",
            help="TOML file of routing knobs (penalties, limits, rules: the fields of "
            "routing.RouteParams, e.g. drop_penalty_eur = 2000, break_after_h = 4.5); "
            "--time-limit, --seed and --guided win over it.",
            dir_okay=False,
        ),
    ] = None,
    allow_fallback: AllowFallbackOpt = False,
    transfers: Annotated[
        Path | None,
        typer.Option(
            "--transfers",
            help="CSV of direct farm → shop pairs (from_site_id, to_site_id, "
            "storage_class, kg): picked up at the farm and delivered to the shop by the same "
            "truck, without going through the hub.",
            dir_okay=False,
        ),
    ] = None,
    lang: LangOpt = "fr",
) -> None:
    """Plan the week's routes: sheets per vehicle and day, GeoJSON, maps, KPIs, unserved."""
    from api import pipeline
    from api.params import route_params

    console = _console()
    territory = load_territory(data, strict=False)
    harvest, transfer_rows = _read_harvest(plan), _read_transfers(transfers)
    # the one place `vivres routes` options become RouteParams
    params = route_params(
        time_limit_s=time_limit,
        seed=seed,
        guided=guided,
        pins=pin or (),
        knobs_file=params_file,
        cache_dir=out / ".cache",
        day_solution_limit=solution_limit,
        allow_fallback=allow_fallback or None,
    )
    network = load_osm(osm, params, console)
    week_start = pipeline.week_start_of(territory, week)
    status = say("solving_week", lang, week=week, start=date_words(week_start, lang))
    with routing_warnings(console, status, lang):
        stage = pipeline.run_routes(
            territory, week, params, harvest=harvest, network=network, transfers=transfer_rows
        )
    result = stage.result
    files = pipeline.write_routes(stage, out, lang=check_lang(lang))

    _print_routes(console, result, params, week, week_start, check_lang(lang))
    console.print(say("files_written", lang, count=len(files), out=out))


def _print_routes(console, result, params, week: int, week_start, lang: Lang) -> None:
    """The week's routes per vehicle-day, the totals, and what is not served and why."""
    table = Table(
        title=say(
            "routes_title",
            lang,
            week=week,
            start=date_words(week_start, lang),
            method=result.method,
            engine=result.engine,
        )
    )
    for col in (
        "day",
        "vehicle",
        "km",
        "hours",
        "cost €",
        "CO2 kg",
        "stops",
        "kg moved",
        "max load %",
    ):
        justify = "right" if col not in ("day", "vehicle") else "left"
        table.add_column(label(col, lang), justify=justify)
    for r in result.vehicle_kpis.itertuples():
        table.add_row(
            day_fr(r.day) if lang == "fr" else r.day,
            r.vehicle_id,
            num(r.km, 1, lang),
            num(r.hours, 1, lang),
            num(r.cost_eur, 0, lang),
            num(r.co2_kg, 1, lang),
            str(r.stops),
            num(r.kg_moved, 0, lang),
            num(r.max_load_pct, 0, lang),
        )
    console.print(table)
    k = result.kpis
    console.print(
        say(
            "routes_total",
            lang,
            km=num(k["km"], 0, lang),
            hours=num(k["hours"], 1, lang),
            cost=num(k["cost_eur"], 0, lang),
            co2=num(k["co2_kg"], 0, lang),
            seconds=num(k["runtime_s"], 1, lang),
        )
    )
    cut = [day for day, status in result.day_status.items() if status == "limit_reached"]
    if params.guided:
        console.print(say("guided_note", lang))
    elif cut:
        console.print(say("cut_note", lang, days=", ".join(cut)))
    if len(result.unserved):
        console.print(
            say("unserved", lang, count=len(result.unserved), kg=num(k["unserved_kg"], 0, lang))
        )
        for reason, n in result.unserved["reason"].value_counts().items():
            colon = " :" if lang == "fr" else ":"
            console.print(f"  {reason_words(str(reason), lang)}{colon} {n}")


def bench_routing(
    instances: Annotated[
        Path | None,
        typer.Option(
            "--instances",
            help="Folder of CVRPLIB .vrp/.sol and/or Solomon .txt/.sol files "
            "(searched recursively).",
            file_okay=False,
        ),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds per instance and solver.", min=0.1)
    ] = 10,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the rows to this JSON file.", dir_okay=False),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of both solvers.")] = 1,
    osm: Annotated[
        Path | None,
        typer.Option(
            "--osm",
            help="OSM file to time the graph build and 100/500-point matrices on.",
            dir_okay=False,
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Territory whose week 1 is solved and timed (default: the sample).",
            file_okay=False,
        ),
    ] = SAMPLE_DIR,
    week_time_limit: Annotated[
        float, typer.Option("--week-time-limit", help="Solver seconds for the territory's week.")
    ] = 45,
) -> None:
    """VRP quality vs PyVRP and the best-known solutions; matrix, build and week timings."""
    module = bench_module("routing_bench")
    figures = module.run(
        instances=instances,
        time_limit_s=time_limit,
        seed=seed,
        osm=osm,
        data=data,
        week_time_limit_s=week_time_limit,
        console=_console(),
    )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures["rows"], indent=2))
        extra = json_path.with_name(json_path.stem + "_timings.json")
        extra.write_text(
            json.dumps({k: v for k, v in figures.items() if k != "rows"}, indent=2, default=str)
        )
        _console().print(f"rows written to [bold]{json_path}[/], timings to {extra}")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres routes`` and ``vivres bench routing``."""
    app.command("routes")(routes)
    bench_app.command("routing")(bench_routing)
