"""``vivres check``: validate a territory folder and summarise what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from core.schema import TABLES
from core.tables import find_table_file
from core.territory import SAMPLE_DIR, load_territory


def check(
    data: Annotated[
        Path,
        typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False),
    ] = SAMPLE_DIR,
    keep_valid: Annotated[
        bool,
        typer.Option(
            "--keep-valid", help="Report bad order/transaction rows instead of failing on them."
        ),
    ] = False,
) -> None:
    """Validate every file of a territory; exit 2 naming the first bad cells if any."""
    from api.cli import console

    territory = load_territory(data, strict=not keep_valid)
    table = Table(title=f"Territory {data}", title_justify="left")
    table.add_column("table")
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("rejected", justify="right")
    for name in TABLES:
        frame = getattr(territory, name)
        path = find_table_file(Path(data), TABLES[name])
        rejected = len(territory.rejects.get(name, ()))
        rows = "-" if frame is None else f"{len(frame):,}"
        table.add_row(
            name, path.name if path else "(absent)", rows, str(rejected) if rejected else ""
        )
    console.print(table)
    kinds = territory.sites["kind"].value_counts()
    console.print("sites: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    _flag_contributions(territory, console)
    console.print("[green]territory is valid[/]")


def _flag_contributions(territory, console) -> None:
    """Name the households paying under their caisse's minimum (a flag, not an error: the
    contribution is the household's choice)."""
    from demand.caisses import caisses_of, contribution_check

    caisses = caisses_of(territory.caisses, territory.caisse_rule)
    if territory.households is None or not caisses:
        return
    under = contribution_check(territory.households, caisses)
    under = under.loc[under["under_minimum"]]
    if under.empty:
        return
    shown = ", ".join(
        f"{r.household_id} (households.csv row {r.row}: {r.contribution_eur:g} € < "
        f"{r.minimum_eur:g} €)"
        for r in under.head(10).itertuples()
    )
    more = f" and {len(under) - 10} more" if len(under) > 10 else ""
    console.print(
        f"[yellow]{len(under)} household(s) contribute under their caisse's minimum per "
        f"person[/]: {shown}{more}",
        soft_wrap=True,
    )


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres check``."""
    app.command("check")(check)
