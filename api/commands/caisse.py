"""``vivres caisse report|size|credits|approve``: the caisses communes of a territory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.commands import LangOpt
from api.messages import say
from core.csvio import check_lang, write_machine_csv
from core.errors import InputError
from core.excel import xlsx_twin
from core.fmt import num
from core.territory import SAMPLE_DIR, load_territory

caisse_app = typer.Typer(
    help="Caisses communes: balance month by month, sizing, the payment operator's credit "
    "file, the conventionnement grid.",
    no_args_is_help=True,
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False)
]


def _console():
    from api.cli import console

    return console


def _eur(value: float, lang: str = "fr") -> str:
    return num(value, 2, lang)


@caisse_app.command("report")
def report(
    data: DataOpt = SAMPLE_DIR,
    out: Annotated[
        Path, typer.Option("--out", help="Folder the tables are written to.", file_okay=False)
    ] = Path("out/caisse"),
    lang: LangOpt = "fr",
) -> None:
    """Each caisse's cash month by month (and when it runs out), contributions against the
    minimum, the solidarity transfer by band of means, the grid's verdicts."""
    from api.caisse_print import UNSPENT_FR
    from api.pipeline import run_caisse, write_caisse

    console = _console()
    stage = run_caisse(load_territory(data, strict=False))
    files = write_caisse(stage, out, lang=check_lang(lang))
    for cid, caisse in stage.caisses.items():
        book = stage.balance.loc[stage.balance["caisse_id"] == cid]
        unspent = caisse.unspent if lang == "en" else UNSPENT_FR.get(caisse.unspent, caisse.unspent)
        title = say(
            "caisse_title",
            lang,
            name=caisse.name,
            cid=cid,
            currency=caisse.currency,
            unspent=unspent,
        )
        table = Table(title=title, title_justify="left")
        names = say("caisse_columns", lang).split("|")
        columns = (
            "households",
            "contributions_eur",
            "cofunding_eur",
            "credited_eur",
            "spent_eur",
            "closing_cash_eur",
        )
        table.add_column(names[0], no_wrap=True)
        for name in names[1:]:
            table.add_column(name, justify="right")
        for _, row in book.iterrows():
            table.add_row(
                row["month"],
                *(str(row[c]) if c == "households" else _eur(row[c], lang) for c in columns),
            )
        console.print(table)
        out_month = stage.runs_out[cid]
        console.print(
            say("caisse_runs_out", lang, cid=cid, month=out_month)
            if out_month
            else say("caisse_stays", lang, cid=cid)
        )
    under = stage.contributions.loc[stage.contributions["under_minimum"]]
    console.print(say("caisse_under", lang, count=len(under)))
    if len(stage.grid):
        approved = int(stage.grid["approved"].sum())
        console.print(say("caisse_grid", lang, approved=approved, count=len(stage.grid)))
    console.print(say("files_written", lang, count=len(files), out=out))


@caisse_app.command("size")
def size(
    budget: Annotated[float, typer.Option("--budget", help="Budget of allocations (€).", min=0)],
    rule: Annotated[
        str,
        typer.Option("--rule", help="Allocation rule: '100/person' or '100+50'."),
    ],
    months: Annotated[int, typer.Option("--months", help="Months to carry.", min=1, max=600)],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Territory whose households give the mix of sizes (optional for a "
            "per-person rule).",
            file_okay=False,
        ),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the answer here.", dir_okay=False)
    ] = None,
    lang: LangOpt = "fr",
) -> None:
    """How many people (and households of the territory's mix) a budget carries."""
    from demand.caisse import parse_rule
    from demand.caisses import size_for_budget

    sizes = None
    if data is not None:
        territory = load_territory(data, strict=False, activity=False)
        if territory.households is None:
            raise InputError(f"{data}: no households.csv to take the mix of sizes from")
        sizes = territory.households["size"]
    sized = size_for_budget(budget, parse_rule(rule), months, sizes).as_dict()
    households = (
        ""
        if sized["households"] is None
        else say("caisse_size_households", lang, households=sized["households"])
    )
    _console().print(
        say(
            "caisse_size",
            lang,
            budget=_eur(budget, lang),
            months=months,
            rule=rule,
            people=sized["people"],
            households=households,
            monthly=_eur(sized["allocation_eur_per_month"], lang),
        )
    )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(sized, indent=2))


@caisse_app.command("credits")
def credits(
    caisse: Annotated[str, typer.Option("--caisse", help="Caisse id (caisses.csv).")],
    month: Annotated[str, typer.Option("--month", help="Month to credit, YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file written.", dir_okay=False)],
    data: DataOpt = SAMPLE_DIR,
    lang: LangOpt = "fr",
) -> None:
    """The payment operator's credit file for one month: household, amount, month, currency."""
    import pandas as pd

    from demand.caisses import caisses_of, credit_file, members_of

    try:
        when = pd.Timestamp(f"{month}-01")
    except ValueError:
        raise InputError(f"--month: expected YYYY-MM; got {month!r}") from None
    territory = load_territory(data, strict=False, activity=False)
    found = caisses_of(territory.caisses, territory.caisse_rule)
    if territory.households is None:
        raise InputError(f"{data}: no households.csv")
    members = members_of(territory.households, found, caisse)
    table = credit_file(found[caisse], members, when)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_machine_csv(table, out)  # the payment operator's system imports it
    twin = xlsx_twin(table, out)
    _console().print(
        say(
            "caisse_credits",
            lang,
            count=len(table),
            amount=_eur(table["amount"].sum(), lang),
            currency=found[caisse].currency,
            out=out,
            twin=twin.name,
        )
    )


@caisse_app.command("approve")
def approve(
    caisse: Annotated[str, typer.Option("--caisse", help="Caisse id.")],
    site: Annotated[str, typer.Option("--site", help="Shop (site id) assessed on the grid.")],
    data: DataOpt = SAMPLE_DIR,
    lang: LangOpt = "fr",
) -> None:
    """What would make a shop approvable: the fewest added points, criterion by criterion."""
    from demand.caisses import caisses_of
    from demand.grid import to_approve

    territory = load_territory(data, strict=False, activity=False)
    found = caisses_of(territory.caisses, territory.caisse_rule)
    if caisse not in found:
        raise InputError(f"--caisse: unknown caisse {caisse!r}; known: {', '.join(sorted(found))}")
    if territory.caisse_criteria is None or territory.shop_assessments is None:
        raise InputError(f"{data}: no grid (caisse_criteria.csv and shop_assessments.csv)")
    plan = to_approve(
        territory.caisse_criteria,
        territory.shop_assessments,
        caisse,
        site,
        found[caisse].approval_threshold_pct,
    )
    console = _console()
    if plan.empty:
        console.print(say("caisse_approvable", lang, site=site, caisse=caisse))
        return
    for row in plan.itertuples():
        console.print(f"  • {row.label}: {row.points} → {row.needed_points} points")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres caisse``."""
    app.add_typer(caisse_app, name="caisse")
