"""``vivres contracts``: freeze a producer's contract from a plan, list contracts, diff versions.

Frozen contracts live in the territory's ``contracts.csv`` (one row per line and version); every
later ``vivres plan`` and what-if keeps the latest version of each, bed for bed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from api.commands import LangOpt
from core.csvio import check_lang, read_csv_any, write_machine_csv, write_user_csv
from core.errors import InputError
from core.safety import is_id, short_repr
from core.schema import CONTRACTS
from core.tables import find_table_file
from core.territory import SAMPLE_DIR, load_territory

contracts_app = typer.Typer(
    help="Frozen (signed) contracts: later plans keep them bed for bed.", no_args_is_help=True
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False)
]

PLAN_COLUMNS = ("producer_id", "crop_id", "plant_date", "beds")


def read_plan_table(path: Path) -> pd.DataFrame:
    """A plan's ``plan.csv`` (``vivres plan --out``), or the folder holding it."""
    path = path / "plan.csv" if path.is_dir() else path
    if not path.exists():
        raise InputError(f"{path}: no plan table (run `vivres plan --out FOLDER` first)")
    plan = read_csv_any(path, dtype={"producer_id": str, "crop_id": str})
    missing = [c for c in PLAN_COLUMNS if c not in plan.columns]
    if missing:
        raise InputError(f"{path}: not a plan table (missing column(s) {', '.join(missing)})")
    dates = pd.to_datetime(plan["plant_date"], format="%Y-%m-%d", errors="coerce")
    bad = dates.isna() | pd.to_numeric(plan["beds"], errors="coerce").isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise InputError(f"{path} row {row}: plant_date must be YYYY-MM-DD and beds a number")
    return plan.assign(plant_date=dates.dt.date, beds=plan["beds"].astype(int))


def _contracts_file(data: Path) -> Path:
    found = find_table_file(data, CONTRACTS)
    if found is not None and found.suffix != ".csv":
        raise InputError(
            f"{found}: contracts are appended to a .csv file; save it as contracts.csv first"
        )
    return data / "contracts.csv"


def freeze(
    plan_path: Annotated[
        Path,
        typer.Option(
            "--plan",
            help="The plan to freeze from: its folder (vivres plan --out) or its plan.csv.",
        ),
    ],
    producer: Annotated[
        str, typer.Option("--producer", help="The producer whose lines are frozen.")
    ],
    data: DataOpt = SAMPLE_DIR,
    crops: Annotated[
        list[str] | None,
        typer.Option(
            "--crop", help="Freeze only these crops (repeat the option); default: the whole farm."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Freeze only plantings up to this date (YYYY-MM-DD), e.g. the weeks "
            "already planted.",
        ),
    ] = None,
    contract: Annotated[
        str | None,
        typer.Option(
            "--contract",
            help="Contract id (default: the producer id); freezing again adds a version.",
        ),
    ] = None,
) -> None:
    """Freeze a producer's lines of a plan as a new contract version in contracts.csv."""
    import planner
    from api.cli import console

    until_date = None
    if until is not None:
        try:
            until_date = date.fromisoformat(until)
        except ValueError:
            raise InputError(f"--until: expected a date YYYY-MM-DD; got {until!r}") from None
    if contract is not None and not is_id(contract):
        raise InputError(
            f"--contract: expected an id (letters, digits, _ . -; at most 64); got "
            f"{short_repr(contract)!r}"
        )
    territory = load_territory(data, activity=False)
    if producer not in set(territory.producers["producer_id"]):
        raise InputError(f"--producer: {producer!r} is not a producer of {data}")
    plan = read_plan_table(plan_path)
    rows = planner.freeze(
        plan,
        territory.contracts,
        producer_id=producer,
        contract_id=contract,
        crops=tuple(crops or ()),
        until=until_date,
    )
    path = _contracts_file(Path(data))
    write_machine_csv(planner.commitments.with_version(territory.contracts, rows), path)
    load_territory(data, activity=False)  # what was written must load
    first = rows.iloc[0]
    console.print(
        f"contract [bold]{first['contract_id']}[/] version {first['version']}: "
        f"{len(rows)} lines, {int(rows['beds'].sum())} beds of {producer} frozen "
        f"(scope {first['scope']}) in {path}"
    )


def list_contracts(data: DataOpt = SAMPLE_DIR) -> None:
    """List the contracts and their versions (the latest one holds)."""
    from api.cli import console

    territory = load_territory(data, activity=False)
    if territory.contracts is None or territory.contracts.empty:
        console.print(f"no frozen contract in {data}")
        return
    table = Table(title=f"Contracts of {data}", title_justify="left")
    for column in (
        "contract",
        "producer",
        "version",
        "frozen on",
        "scope",
        "lines",
        "beds",
        "holds",
    ):
        table.add_column(column)
    contracts = territory.contracts
    latest = contracts.groupby("contract_id")["version"].max()
    for (cid, version), rows in contracts.groupby(["contract_id", "version"], sort=True):
        first = rows.iloc[0]
        table.add_row(
            cid,
            first["producer_id"],
            str(version),
            pd.Timestamp(first["frozen_on"]).date().isoformat(),
            first["scope"],
            str(len(rows)),
            str(int(rows["beds"].sum())),
            "yes" if version == latest[cid] else "",
        )
    console.print(table)


def diff(
    contract: Annotated[str, typer.Argument(help="Contract id.")],
    data: DataOpt = SAMPLE_DIR,
    old: Annotated[
        int | None,
        typer.Option("--from", help="Older version (default: the one before the latest)."),
    ] = None,
    new: Annotated[
        int | None, typer.Option("--to", help="Newer version (default: the latest).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the diff as CSV (+ .xlsx).", dir_okay=False),
    ] = None,
    lang: LangOpt = "fr",
) -> None:
    """Lines of two versions of a contract side by side, with the change in beds."""
    import planner
    from api.cli import console

    territory = load_territory(data, activity=False)
    if territory.contracts is None:
        raise InputError(f"{data} has no contracts.csv")
    table = planner.contract_diff(territory.contracts, contract, old, new)
    shown = Table(title=f"Contract {contract}", title_justify="left")
    for column in table.columns:
        shown.add_column(str(column))
    for row in table.itertuples(index=False):
        changed = row[-1] != 0
        shown.add_row(*[str(v) for v in row], style="bold" if changed else None)
    console.print(shown)
    console.print(f"{int((table['change'] != 0).sum())} of {len(table)} lines change")
    if out is not None:
        write_user_csv(table, out, lang=check_lang(lang))


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres contracts``."""
    contracts_app.command("freeze")(freeze)
    contracts_app.command("list")(list_contracts)
    contracts_app.command("diff")(diff)
    app.add_typer(contracts_app, name="contracts")
