"""``vivres week`` (the hub's real delivery week) and ``vivres bench week``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.commands import LangOpt, bench_module
from api.commands.routes import (
    AllowFallbackOpt,
    DataOpt,
    OsmOpt,
    OutOpt,
    SolutionLimitOpt,
    load_osm,
    routing_warnings,
)
from api.messages import label, say
from api.sheet_words import sheet_words
from core.csvio import check_lang
from core.fmt import num
from core.territory import SAMPLE_DIR, load_territory


def _console():
    from api.cli import console

    return console


def week(
    week_text: Annotated[
        str,
        typer.Option(
            "--week",
            help="Delivery week: an ISO week (2025-W50) or any date in it (2025-12-10).",
        ),
    ],
    data: DataOpt = SAMPLE_DIR,
    orders: Annotated[
        Path | None,
        typer.Option(
            "--orders",
            help="This week's orders only (columns of orders.csv); default: the territory's "
            "orders dated in the week.",
            dir_okay=False,
        ),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="Plan folder holding harvest.csv: the supply of products the farms have "
            "not confirmed in availability.csv that week.",
            file_okay=False,
        ),
    ] = None,
    sharing_method: Annotated[
        str,
        typer.Option(
            "--sharing",
            help="How short products are shared: maxmin (raise the worst-served shop first, "
            "weighted by sites.share_weight) or proportional (same share of every order).",
        ),
    ] = "maxmin",
    carry: Annotated[
        Path | None,
        typer.Option(
            "--carry",
            help="fill_history.csv of the previous week: shops served least so far come first.",
            dir_okay=False,
        ),
    ] = None,
    osm: OsmOpt = None,
    out: OutOpt = Path("out/week"),
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Routing: at most this many solver seconds for the week (a cap).",
            min=0.5,
            show_default=False,
        ),
    ] = None,
    solution_limit: SolutionLimitOpt = None,
    allow_fallback: AllowFallbackOpt = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Routing seed.", show_default=False)
    ] = None,
    what_if_farm: Annotated[
        list[str] | None,
        typer.Option(
            "--what-if-farm",
            help="What-if: this farm (site or producer id) delivers nothing (repeatable); the "
            "week is also solved as it is, and what_if/ + what_if_compare.csv show the change.",
        ),
    ] = None,
    what_if_product: Annotated[
        list[str] | None,
        typer.Option(
            "--what-if-product",
            help="What-if: PRODUCT=SHARE, the product comes at that share of its supply "
            "(carotte=0.6 or carotte=60%; repeatable).",
        ),
    ] = None,
    lang: LangOpt = "fr",
) -> None:
    """Route this week's orders: share what is short, deliver the allocations, print sheets."""
    from api import week as wk
    from api.commands.routes import _read_harvest
    from api.params import route_params, share_params
    from api.week_outputs import write_week
    from api.week_whatif import parse_product_share, supply_change, write_what_if

    console = _console()
    week_start = wk.parse_week(week_text)
    share = share_params(method=sharing_method)
    shares = [parse_product_share(text) for text in what_if_product or ()]
    past = wk.read_history(carry)
    territory = load_territory(data, strict=False)
    change = supply_change(territory, farms=what_if_farm or (), products=shares)
    harvest = _read_harvest(plan)
    params = route_params(
        time_limit_s=time_limit,
        seed=seed,
        cache_dir=out / ".cache",
        day_solution_limit=solution_limit,
        allow_fallback=allow_fallback or None,
    )
    network = load_osm(osm, params, console)
    status = say("sharing_week", lang, week=wk.week_label(week_start))
    with routing_warnings(console, status, lang):
        same = {
            "orders_file": orders,
            "harvest": harvest,
            "share_params": share,
            "past": past,
            "network": network,
        }  # the week as it is and its what-if differ only by the change
        stage = wk.run_week(territory, week_start, params, **same)
        other = None
        if what_if_farm or what_if_product:
            other = wk.run_week(territory, week_start, params, **same, supply_change=change)
    files = write_week(stage, territory, out, lang=check_lang(lang))
    _print_summary(stage.summary, lang)
    if other is not None:
        more, figures = write_what_if(stage, other, territory, out, lang=check_lang(lang))
        files += more
        console.print(say("what_if", lang))
        for key, pair in figures.items():
            console.print(f"  {key}: {pair['base']} → {pair['what_if']}")
    console.print(say("files_written", lang, count=len(files), out=out))


def _print_summary(s: dict, lang: str = "fr") -> None:
    console = _console()
    table = Table(
        title=say("week_title", lang, week=s["week"], start=s["week_start"], shops=s["shops"])
    )
    table.add_column(label("kilos", lang))
    table.add_column("kg", justify="right")
    table.add_row(label("ordered", lang), num(s["ordered_kg"], 1, lang))
    table.add_row(label("delivered", lang), num(s["delivered_kg"], 1, lang))
    for reason, kg in s["reported_kg"].items():
        why = sheet_words(lang).get(f"{reason}_kg", reason.replace("_", " "))
        table.add_row(f"{label('not delivered', lang)} : {why}", num(kg, 1, lang))
    table.add_row(label("unaccounted", lang), num(s["unaccounted_kg"], 1, lang))
    console.print(table)
    if s["shared_products"]:
        console.print(
            say(
                "shared",
                lang,
                method=s["sharing"],
                products=", ".join(s["shared_products"]),
                min_fill=num(100 * s["min_fill_rate"], 1, lang),
                gini=num(s["gini"], 3, lang),
                undistributed=num(s["undistributed_kg"], 1, lang),
            )
        )
    else:
        console.print(say("nothing_short", lang))
    sources = s.get("supply_sources", {})
    if sources.get("orders"):
        console.print(say("no_supply_note", lang, count=sources["orders"]))
    r = s["routes"]
    console.print(
        say(
            "week_routes",
            lang,
            km=num(r["km"], 0, lang),
            cost=num(r["cost_eur"], 0, lang),
            unserved=r["unserved"],
            kg=num(r["unserved_kg"], 0, lang),
            seconds=num(s["seconds"], 1, lang),
        )
    )


def bench_week(
    json_path: Annotated[
        Path, typer.Option("--json", help="Write the figures to this JSON file.", dir_okay=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Also write DIR/<week>/allocation.csv and supply.csv.",
            file_okay=False,
        ),
    ] = None,
    data: Annotated[
        Path, typer.Option("--data", help="Territory (default: the sample).", file_okay=False)
    ] = SAMPLE_DIR,
) -> None:
    """A normal and a shortage delivery week on the sample: kilos, fill rates, check LP."""
    figures = bench_module("week_bench").run(data=data, out=out, console=_console())
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(figures, indent=2))
    _console().print(f"figures written to [bold]{json_path}[/]")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres week`` and ``vivres bench week``."""
    app.command("week")(week)
    bench_app.command("week")(bench_week)
