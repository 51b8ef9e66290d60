"""``vivres check``: validate a territory folder and summarise what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from api.commands import LangOpt
from core.csvio import check_lang, write_user_csv
from core.errors import InputError, InputTooLarge, RowError
from core.safety import short_repr
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
    errors_file: Annotated[
        Path | None,
        typer.Option(
            "--errors",
            help="Write every problem found to this CSV file (file, row, column, message, value).",
            dir_okay=False,
        ),
    ] = None,
    lang: LangOpt = "fr",
) -> None:
    """Validate every file of a territory in one pass; exit 2 listing every bad cell."""
    from api.cli import console, err_console

    try:
        territory = load_territory(data, strict=not keep_valid)
    except InputTooLarge:
        raise
    except InputError as exc:
        _list_errors(exc.errors, errors_file, err_console, lang=lang)
        raise typer.Exit(code=2) from None
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
    _list_rejects(territory, console)
    kinds = territory.sites["kind"].value_counts()
    console.print("sites: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    _flag_contributions(territory, console)
    console.print("[green]territory is valid[/]")


#: Problems printed on the terminal; all of them go to ``--errors FILE``.
MAX_SHOWN = 50


def _list_errors(errors: list[RowError], path: Path | None, out, *, lang: str = "fr") -> None:
    """Every problem on its own line, sorted by file and row, and a count."""
    ordered = sorted(errors, key=lambda e: (e.file, e.row if e.row is not None else 0))
    for error in ordered[:MAX_SHOWN]:
        out.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    files = len({e.file for e in ordered})
    more = len(ordered) - MAX_SHOWN
    if path is not None:
        frame = pd.DataFrame(
            [
                {
                    "file": e.file,
                    "row": e.row,
                    "column": e.column,
                    "message": e.message,
                    "value": short_repr(e.value) if e.value is not None else "",
                }
                for e in ordered
            ]
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        write_user_csv(frame, path, lang=check_lang(lang))
    tail = f"; {more} more not shown" if more > 0 else ""
    where = f", all of them in {path}" if path is not None else ""
    if more > 0 and path is None:
        where = " (--errors FILE lists them all)"
    out.print(f"{len(ordered)} problem(s) in {files} file(s){tail}{where}", highlight=False)


def _list_rejects(territory, out) -> None:
    """With --keep-valid: each rejected activity row, named."""
    for name, frame in territory.rejects.items():
        for record in frame.head(MAX_SHOWN).to_dict(orient="records"):
            out.print(
                f"[yellow]rejected:[/] {name}.csv row {record['row']}, column "
                f"{record['column']!r}: {record['reason']}",
                highlight=False,
                soft_wrap=True,
            )


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
