"""``vivres demand build|forecast|ledger|backtest`` and ``vivres bench demand``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from api.commands import LangOpt, bench_module
from api.messages import label, say
from core.csvio import check_lang, write_user_csv
from core.errors import InputError
from core.fmt import num, short_amount, storage_class
from core.i18n import text
from core.territory import SAMPLE_DIR, Territory, load_territory

demand_app = typer.Typer(
    help="Weekly demand from orders and caisse spending, the caisse ledger, forecasts.",
    no_args_is_help=True,
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False)
]
OutOpt = Annotated[
    Path, typer.Option("--out", help="Folder the outputs are written to.", file_okay=False)
]
OrdersOpt = Annotated[
    Path | None,
    typer.Option(
        "--orders",
        help="Orders file (CSV or Excel) to use instead of the territory's orders.",
        dir_okay=False,
    ),
]
TxOpt = Annotated[
    Path | None,
    typer.Option(
        "--transactions",
        help="Caisse payments file (CSV or Excel) to use instead of the territory's.",
        dir_okay=False,
    ),
]

TIDY = {"week_start": "week", "site_id": "site", "product_id": "product"}


def _console():
    from api.cli import console

    return console


def _load(data: Path) -> Territory:
    # lenient on activity rows: bad order lines go to rejects.csv instead of stopping the run
    return load_territory(data, strict=False)


def _existing(path: Path | None, option: str) -> Path | None:
    if path is not None and not path.exists():
        raise InputError(f"{option} {path}: file not found")
    return path


def _write(
    frame: pd.DataFrame,
    out: Path,
    name: str,
    *,
    lang: str,
    parquet: bool = True,
    tidy_names: bool = True,
) -> list[Path]:
    """Write a table as a user CSV + .xlsx (and Parquet for programs); tidy tables get short
    names: week, site, product."""
    out.mkdir(parents=True, exist_ok=True)
    tidy = frame.rename(columns=TIDY) if tidy_names else frame.copy()
    tidy.attrs = {}
    if "week" in tidy.columns:
        tidy = tidy.assign(week=pd.to_datetime(tidy["week"]).dt.date)
    paths = write_user_csv(tidy, out / f"{name}.csv", lang=check_lang(lang))
    if parquet:
        paths.append(out / f"{name}.parquet")
        tidy.to_parquet(paths[-1], index=False)
    return paths


DropOpt = Annotated[
    bool,
    typer.Option(
        "--drop-outliers",
        help="Drop order lines of absurd quantity sold at no promotional price (default: keep "
        "them and list them in rejects.csv with kept=True).",
    ),
]


def _build(
    territory: Territory,
    orders: Path | None,
    transactions: Path | None,
    drop_outliers: bool = False,
):
    import demand

    return demand.build_weekly_demand(
        territory,
        orders=_existing(orders, "--orders"),
        transactions=_existing(transactions, "--transactions"),
        params=demand.OrderCheckParams(drop_outliers=drop_outliers),
    )


@demand_app.command("build")
def build(
    data: DataOpt = SAMPLE_DIR,
    out: OutOpt = Path("out/demand"),
    orders: OrdersOpt = None,
    transactions: TxOpt = None,
    drop_outliers: DropOpt = False,
    lang: LangOpt = "fr",
) -> None:
    """Build weekly demand per point of sale and product; write rejects, duplicates, flags.

    Orders are the demand of record where a shop ordered through the hub that week; caisse
    spending (turned into kilos through the shop's basket) counts only in weeks it did not.
    """
    console = _console()
    territory = _load(data)
    with console.status(label("Building weekly demand", lang)):
        result = _build(territory, orders, transactions, drop_outliers)
    files = _write(result.weekly, out, "weekly", lang=lang)
    # rejects and duplicates keep the input file's own column names
    files += _write(result.rejects, out, "rejects", parquet=False, tidy_names=False, lang=lang)
    files += _write(
        result.duplicates, out, "duplicates", parquet=False, tidy_names=False, lang=lang
    )
    files += _write(result.flags, out, "caisse_flags", parquet=False, tidy_names=False, lang=lang)
    files += _write(result.caisse_share, out, "caisse_share", parquet=False, lang=lang)

    w = result.weekly
    table = Table(title=label("Weekly demand", lang), show_header=False, title_justify="left")
    n = lambda value: num(value, 0, lang)  # noqa: E731
    table.add_row(
        label("series (site × product)", lang), n(w.groupby(["site_id", "product_id"]).ngroups)
    )
    table.add_row(
        label("weeks", lang),
        f"{w['week_start'].nunique()} ({w['week_start'].min().date()} … "
        f"{w['week_start'].max().date()})",
    )
    table.add_row(
        label("demand kg / week (mean)", lang), n(w.groupby("week_start")["kg"].sum().mean())
    )
    table.add_row(
        label("of which from caisse-only weeks", lang),
        f"{n((w['kg'] - w['orders_kg']).clip(lower=0).sum())} kg",
    )
    kept = result.rejects["kept"].astype(bool)
    table.add_row(label("rejected rows", lang), n(int((~kept).sum())))
    table.add_row(label("absurd lines flagged, kept", lang), n(int(kept.sum())))
    table.add_row(label("duplicate lines (dropped)", lang), n(len(result.duplicates)))
    for flag, count in result.flags["flag"].value_counts().items():
        table.add_row(f"{label('caisse payments flagged', lang)} {flag}", n(count))
    console.print(table)
    if len(result.rejects):
        reasons = result.rejects.groupby(["file", "column", "reason"]).size().rename("rows")
        shown = Table(title=label("Rejected rows by reason (first 10)", lang), title_justify="left")
        for name in ("file", "column", "reason", "rows"):
            shown.add_column(label(name, lang))
        for (file, column, reason), count in reasons.sort_values(ascending=False).head(10).items():
            shown.add_row(str(file), str(column), text(str(reason), lang), str(count))
        console.print(shown)
    console.print(say("files_written", lang, count=len(files), out=out))


@demand_app.command("forecast")
def forecast(
    data: DataOpt = SAMPLE_DIR,
    out: OutOpt = Path("out/demand"),
    horizon: Annotated[
        int, typer.Option("--horizon", help="Weeks to forecast.", min=1, max=260)
    ] = 52,
    level: Annotated[
        int, typer.Option("--level", help="Prediction interval level (%).", min=1, max=99)
    ] = 80,
    orders: OrdersOpt = None,
    transactions: TxOpt = None,
    drop_outliers: DropOpt = False,
    lang: LangOpt = "fr",
) -> None:
    """Forecast demand per site and product (kg, low, high) and its hub total per product."""
    import demand

    console = _console()
    territory = _load(data)
    families = territory.products.set_index("product_id")["category"]
    with console.status(label("Building weekly demand", lang)):
        built = _build(territory, orders, transactions, drop_outliers)
    with console.status(say("forecasting", lang, horizon=horizon)):
        fc = demand.forecast_demand(
            built.weekly, horizon_weeks=horizon, level=level, families=families
        )
        hub = demand.hub_demand(fc, territory.products)
    files = _write(fc, out, "forecast", lang=lang) + _write(hub, out, "hub_forecast", lang=lang)
    files += _write(built.rejects, out, "rejects", parquet=False, tidy_names=False, lang=lang)

    by_class = (
        hub.assign(month=pd.to_datetime(hub["week_start"]).dt.to_period("M"))
        .groupby(["month", "storage_class"])["kg"]
        .sum()
        .unstack(fill_value=0.0)
    )
    table = Table(title=say("hub_forecast_title", lang, level=level), title_justify="left")
    table.add_column(label("month", lang))
    for name in by_class.columns:
        table.add_column(storage_class(str(name), lang), justify="right")
    n = lambda value: num(value, 0, lang)  # noqa: E731
    for month, row in by_class.iterrows():
        table.add_row(str(month), *(n(v) for v in row))
    console.print(table)
    chosen = fc.attrs.get("choice", {}).get("shop", {})
    if chosen:
        methods = "; ".join(f"{fam} {' + '.join(m)}" for fam, m in sorted(chosen.items()))
        console.print(say("methods_chosen", lang, methods=methods), soft_wrap=True)
    series = n(fc.groupby(["site_id", "product_id"]).ngroups)
    console.print(
        say("forecast_done", lang, series=series, horizon=horizon, count=len(files), out=out)
    )


@demand_app.command("ledger")
def ledger(
    data: DataOpt = SAMPLE_DIR,
    out: OutOpt = Path("out/demand"),
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule",
            help="Allocation rule instead of caisse_rule.csv: '100+50' (first person + "
            "each further person) or '150/person'.",
        ),
    ] = None,
    extra_households: Annotated[
        int,
        typer.Option(
            "--extra-households",
            help="What-if: households added (same size and contribution mix).",
            min=0,
        ),
    ] = 0,
    whatif_rule: Annotated[
        str | None, typer.Option("--whatif-rule", help="What-if: another allocation rule.")
    ] = None,
    contribution_factor: Annotated[
        float,
        typer.Option("--contribution-factor", help="What-if: multiply every contribution.", min=0),
    ] = 1.0,
    contribution_eur: Annotated[
        float | None,
        typer.Option(
            "--contribution-eur",
            help="What-if: every household contributes this flat amount.",
            min=0,
        ),
    ] = None,
    transactions: TxOpt = None,
    lang: LangOpt = "fr",
) -> None:
    """Monthly caisse ledger: contributions, allocations, spending, unspent, co-financing.

    cofinancing = allocations − contributions (what co-funders must bring so every allocation
    can be credited); cash_gap = spent − contributions. A what-if option adds the what-if
    columns and the extra monthly co-financing it needs.
    """
    import demand
    from demand.caisse import normalise_transactions

    console = _console()
    territory = _load(data)
    if territory.households is None:
        raise InputError(f"{data}: no households.csv: this territory has no caisse")
    chosen = demand.parse_rule(rule if rule is not None else territory.caisse_rule)
    if rule is not None and not chosen.local_currency:
        # another rule keeps the territory's local currency (its payments stay valid)
        from demand.caisses import caisses_of

        known = caisses_of(territory.caisses, territory.caisse_rule)
        currencies = sorted({c.currency for c in known.values() if c.currency != "EUR"})
        if len(currencies) == 1:
            import dataclasses

            chosen = dataclasses.replace(chosen, local_currency=currencies[0])
    if transactions is not None:
        from core.territory import read_activity

        read = read_activity(
            _existing(transactions, "--transactions"), "caisse_transactions", territory
        )
        tx = read.valid
    else:
        tx = territory.caisse_transactions
    if tx is None or tx.empty:
        raise InputError(f"{data}: no caisse payments (caisse_transactions.csv)")
    tx, refused = normalise_transactions(tx, rule=chosen)
    if len(refused):
        reasons = refused.groupby("reason").size()
        for reason, count in reasons.items():
            why = text(str(reason), lang)
            console.print(say("payments_left_out", lang, count=count, reason=why), highlight=False)
        files_refused = _write(refused, out, "caisse_rejects", lang=lang)
        console.print(say("payments_listed", lang, path=files_refused[0]))
    scenario = None
    asked = (extra_households, whatif_rule, contribution_factor != 1.0, contribution_eur)
    if any(a is not None and a is not False and a != 0 for a in asked):
        scenario = demand.WhatIf(
            extra_households=extra_households,
            rule=whatif_rule,
            contribution_factor=contribution_factor,
            contribution_eur=contribution_eur,
        )
    book = demand.caisse_ledger(
        territory.households, tx, chosen, what_if=scenario, sites=territory.sites
    )
    files = _write(book, out, "caisse_ledger", lang=lang)

    cols = {
        "households": "hh",
        "contributions_eur": "contrib €",
        "allocations_eur": "alloc €",
        "spent_eur": "spent €",
        "unspent_eur": "unspent €",
        "cofinancing_eur": "cofin €",
    }
    if scenario is not None:
        cols |= {
            "whatif_cofinancing_eur": "what-if cofin €",
            "whatif_extra_cofinancing_eur": "extra €",
        }
    first, further = (
        num(v, 0 if float(v).is_integer() else 2, lang)
        for v in (chosen.first_person_eur, chosen.additional_person_eur)
    )
    title = say("ledger_title", lang, rule=chosen.name, first=first, further=further)
    table = Table(title=title, title_justify="left")
    table.add_column(label("month", lang), min_width=7, no_wrap=True)
    for name in cols.values():
        table.add_column(label(name, lang), justify="right")
    for _, row in book.iterrows():
        table.add_row(row["month"], *(short_amount(row[c], lang) for c in cols))
    totals = (short_amount(book[c].sum(), lang) if c != "households" else "" for c in cols)
    table.add_row(label("total", lang), *totals, style="bold")
    console.print(table)
    note = say("ledger_whatif_note", lang) if scenario is not None else ""
    console.print(say("ledger_note", lang) + note)
    console.print(say("files_written", lang, count=len(files), out=out))


def _backtest_table(result) -> Table:
    table = Table(
        title=f"Backtest: model {result.model['name']} vs baseline "
        f"{result.baseline['name']}; {len(result.origins)} origins "
        f"({', '.join(result.origins)}), {result.horizon} weeks ahead",
        title_justify="left",
    )
    table.add_column("family")
    for who in ("model", "base"):
        for metric in ("WAPE", "MASE", f"cov{result.level}"):
            table.add_column(f"{who} {metric}", justify="right")
    rows = [("all shops", result.model, result.baseline)]
    if result.hub:
        rows.append(("hub totals", result.hub["model"], result.hub["baseline"]))
    rows += [(f["family"], f["model"], f["baseline"]) for f in result.by_family]
    for name, m, b in rows:
        table.add_row(
            name,
            *(f"{d[k]:.3f}" for d in (m, b) for k in ("wape", "mase", "coverage80")),
            style="bold" if name in ("all shops", "hub totals") else None,
        )
    return table


def _methods_table(result) -> Table:
    table = Table(
        title="Each candidate alone, same origins (WAPE; the model chooses among them by "
        "family, on the history before each origin)",
        title_justify="left",
    )
    for name in ("method", "shops", "hub totals"):
        table.add_column(name, justify="left" if name == "method" else "right")
    hub = {m["name"]: m for m in result.hub.get("methods", [])}
    table.add_row(
        result.model["name"],
        f"{result.model['wape']:.3f}",
        f"{result.hub['model']['wape']:.3f}",
        style="bold",
    )
    for m in result.methods:
        table.add_row(m["name"], f"{m['wape']:.3f}", f"{hub[m['name']]['wape']:.3f}")
    return table


@demand_app.command("backtest")
def backtest(
    data: DataOpt = SAMPLE_DIR,
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write {model, baseline, by_family, hub, methods, choices} figures to this file.",
            dir_okay=False,
        ),
    ] = None,
    origins: Annotated[
        int, typer.Option("--origins", help="Number of forecast origins.", min=1)
    ] = 4,
    horizon: Annotated[
        int, typer.Option("--horizon", help="Weeks ahead from each origin.", min=1)
    ] = 13,
    step: Annotated[int, typer.Option("--step", help="Weeks between origins.", min=1)] = 8,
    drop_outliers: DropOpt = False,
) -> None:
    """Rolling-origin backtest of the model against seasonal naive and every standard method
    alone, at shop and hub level."""
    import demand

    console = _console()
    territory = _load(data)
    families = territory.products.set_index("product_id")["category"]
    with console.status("Building weekly demand"):
        built = _build(territory, None, None, drop_outliers)
    with console.status("Backtesting"):
        result = demand.backtest(
            built.weekly, origins=origins, horizon=horizon, step=step, families=families
        )
    console.print(_backtest_table(result))
    if result.methods:
        console.print(_methods_table(result))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result.to_json_dict(), indent=2))
        console.print(f"figures written to [bold]{json_path}[/]")


def bench_demand(
    data: DataOpt = SAMPLE_DIR,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the figures to this JSON file.", dir_okay=False),
    ] = None,
    scale: Annotated[
        float,
        typer.Option(
            "--scale",
            help="Scale of the generated territory for the speed run (0 skips it).",
            min=0,
        ),
    ] = 10,
    dataset: Annotated[
        list[Path] | None,
        typer.Option(
            "--dataset",
            help="Another territory folder to backtest (e.g. one converted by "
            "benchmarks/convert_*.py); repeatable.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Backtest the model against every standard method (shop and hub level) on the sample
    and any --dataset, and build+forecast time at scale 10."""
    figures = bench_module("demand_bench").run(
        data=data, scale=scale, console=_console(), extra=dataset
    )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2))
        _console().print(f"figures written to [bold]{json_path}[/]")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres demand …`` and ``vivres bench demand``."""
    app.add_typer(demand_app, name="demand")
    bench_app.command("demand")(bench_demand)
