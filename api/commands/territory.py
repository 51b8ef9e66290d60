"""``vivres check``: validate a territory folder and summarise what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from api.commands import LangOpt
from api.messages import say
from core.csvio import check_lang, write_user_csv
from core.errors import InputError, InputTooLarge, RowError
from core.fmt import num
from core.i18n import row_error_fr, text
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
    table = Table(title=say("check_title", lang, data=data), title_justify="left")
    names = say("check_columns", lang).split("|")
    table.add_column(names[0])
    table.add_column(names[1])
    table.add_column(names[2], justify="right")
    table.add_column(names[3], justify="right")
    for name in TABLES:
        frame = getattr(territory, name)
        path = find_table_file(Path(data), TABLES[name])
        rejected = len(territory.rejects.get(name, ()))
        rows = "-" if frame is None else num(len(frame), 0, check_lang(lang))
        shown = path.name if path else say("absent", lang)
        table.add_row(name, shown, rows, str(rejected) if rejected else "")
    console.print(table)
    _list_rejects(territory, console, lang)
    kinds = territory.sites["kind"].value_counts()
    console.print(
        say("check_sites", lang, kinds=", ".join(f"{k} {v}" for k, v in kinds.items())),
        highlight=False,
    )
    _flag_contributions(territory, console, lang)
    console.print(say("check_valid", lang))


#: Problems printed on the terminal; all of them go to ``--errors FILE``.
MAX_SHOWN = 50


def _list_errors(errors: list[RowError], path: Path | None, out, *, lang: str = "fr") -> None:
    """Every problem on its own line, sorted by file and row, and a count."""
    ordered = sorted(errors, key=lambda e: (e.file, e.row if e.row is not None else 0))
    for error in ordered[:MAX_SHOWN]:
        shown = row_error_fr(error) if lang == "fr" else str(error)
        out.print(say("check_error", lang, text=escape(shown)), highlight=False, soft_wrap=True)
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
    tail = say("check_more", lang, more=more) if more > 0 else ""
    where = say("check_all_in", lang, path=path) if path is not None else ""
    if more > 0 and path is None:
        where = say("check_list_all", lang)
    count = say("check_count", lang, count=len(ordered), files=files)
    out.print(f"{count}{tail}{where}", highlight=False, soft_wrap=True)


def _list_rejects(territory, out, lang: str = "fr") -> None:
    """With --keep-valid: each rejected activity row, named."""
    for name, frame in territory.rejects.items():
        for record in frame.head(MAX_SHOWN).to_dict(orient="records"):
            out.print(
                say(
                    "check_rejected",
                    lang,
                    file=name,
                    row=record["row"],
                    column=record["column"],
                    reason=escape(text(str(record["reason"]), lang)),
                ),
                highlight=False,
                soft_wrap=True,
            )


def _flag_contributions(territory, console, lang: str = "fr") -> None:
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
        say(
            "check_under_one",
            lang,
            household=r.household_id,
            row=r.row,
            paid=num(r.contribution_eur, 2, check_lang(lang)),
            minimum=num(r.minimum_eur, 2, check_lang(lang)),
        )
        for r in under.head(10).itertuples()
    )
    more = say("and_more", lang, count=len(under) - 10) if len(under) > 10 else ""
    console.print(
        say("check_under", lang, count=len(under), shown=shown, more=more), soft_wrap=True
    )


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres check``."""
    app.command("check")(check)
