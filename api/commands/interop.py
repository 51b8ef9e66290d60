"""``vivres import dfc|ofn`` and ``vivres export dfc``: other platforms' data in and out."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from core.errors import InputError
from core.territory import SAMPLE_DIR

import_app = typer.Typer(
    help="Import a Data Food Consortium catalogue/orders (JSON-LD) or Open Food Network "
    "orders (API v0) into a territory, through its checks.",
    no_args_is_help=True,
)
export_app = typer.Typer(help="Export what vivres decides as DFC JSON-LD.", no_args_is_help=True)

DataOpt = Annotated[
    Path, typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False)
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Change nothing; print what would change.")
]
JsonOpt = Annotated[
    Path | None,
    typer.Option("--json", help="Write the import report (JSON) to this file.", dir_okay=False),
]
SuggestOpt = Annotated[
    bool,
    typer.Option(
        "--suggest-mapping",
        help="Only fill the mapping file (interop/<source>_mapping.csv) with proposals by name "
        "for what is not mapped yet; import nothing.",
    ),
]
MAX_FILE_BYTES = 20 * 1024 * 1024


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InputError.of_file(path.name, "file not found")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError.of_file(path.name, f"over {MAX_FILE_BYTES:,} bytes")
    return path.read_bytes()


def _report(report: dict[str, Any], json_out: Path | None) -> None:
    from api.cli import console

    text = json.dumps(report, ensure_ascii=False, indent=1, default=str)
    if json_out is not None:
        json_out.write_text(text + "\n", encoding="utf-8")
    counts = ", ".join(
        f"{k} {report[k]}" for k in ("producers", "products", "orders") if k in report
    )
    if counts:
        console.print(f"found: {counts}", highlight=False)
    for row in report.get("unmapped", []):
        console.print(
            f"  not mapped: {row['type']} {row['@id']}: {row['why']}",
            highlight=False,
            soft_wrap=True,
        )
    for kind, count in report.get("unknown_types", {}).items():
        console.print(f"  unknown type {kind}: {count}", highlight=False)
    for note in report.get("notes", []):
        console.print(f"  note: {note}", highlight=False, soft_wrap=True)
    if "suggested" in report:
        console.print(
            f"{report['suggested']} proposals written to {report['mapping_file']}; "
            f"{len(report['still_unmapped'])} still to map",
            highlight=False,
        )
    elif report.get("dry_run"):
        console.print(
            "dry run, nothing written; would change: "
            + (", ".join(report["would_change"]) or "nothing"),
            highlight=False,
        )
    else:
        console.print(
            "changed: " + (", ".join(report["changed_files"]) or "nothing"), highlight=False
        )


@import_app.command("dfc")
def import_dfc_command(
    source: Annotated[
        str, typer.Argument(metavar="FILE_OR_URL", help="DFC JSON-LD file or https:// address.")
    ],
    data: DataOpt = SAMPLE_DIR,
    token_env: Annotated[
        str, typer.Option("--token-env", help="Environment variable holding a bearer token (URL).")
    ] = "DFC_TOKEN",
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = None,
    suggest: SuggestOpt = False,
) -> None:
    """Import DFC JSON-LD: organisations → producers and farm sites, supplied products →
    products, offers in a sale session → availability, orders → orders.csv."""
    from api.interop import import_dfc, suggest_mapping
    from api.interop.dfc import fetch

    if source.startswith(("https://", "http://")):
        payload, name = fetch(source, os.environ.get(token_env) or None), "DFC document"
    else:
        payload, name = _read(Path(source)), Path(source).name
    if suggest:
        report = suggest_mapping(payload, data, source="dfc", name=name)
    else:
        report = import_dfc(payload, data, name=name, dry_run=dry_run)
    _report(report, json_out)


@import_app.command("ofn")
def import_ofn_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="Saved API v0 orders response (JSON); or use --url.", dir_okay=False),
    ] = None,
    data: DataOpt = SAMPLE_DIR,
    url: Annotated[
        str | None, typer.Option("--url", help="OFN instance, e.g. https://openfoodfrance.org")
    ] = None,
    token_env: Annotated[
        str, typer.Option("--token-env", help="Environment variable holding the API key.")
    ] = "OFN_TOKEN",
    distributor: Annotated[
        str | None, typer.Option("--distributor", help="OFN enterprise id of the shop.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only orders completed after this date.")
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = None,
    suggest: SuggestOpt = False,
) -> None:
    """Import Open Food Network orders (complete ones, upserted by order number)."""
    from api.interop import import_ofn, suggest_mapping
    from api.interop.ofn import fetch

    after = None
    if since is not None:
        try:
            after = pd.Timestamp(since)
        except ValueError:
            raise InputError.of_file("--since", f"not a date: {since!r}") from None
    if (file is None) == (url is None):
        raise InputError.of_file("vivres import ofn", "give a saved response FILE or --url")
    if url is not None:
        token = os.environ.get(token_env, "")
        if not token or distributor is None:
            raise InputError.of_file(
                "--url", f"needs --distributor and the API key in ${token_env}"
            )
        payload, name = fetch(url, token, distributor=distributor, since=after), "OFN API"
    else:
        assert file is not None
        payload, name = _read(file), file.name
    if suggest:
        report = suggest_mapping(payload, data, source="ofn", name=name)
    else:
        report = import_ofn(
            payload, data, name=name, distributor=distributor, since=after, dry_run=dry_run
        )
    _report(report, json_out)


@export_app.command("dfc")
def export_dfc_command(
    out: Annotated[Path, typer.Option("--out", help="JSON-LD file to write.", dir_okay=False)],
    data: DataOpt = SAMPLE_DIR,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="A plan's output folder (its harvest.csv).", file_okay=False),
    ] = None,
    week: Annotated[
        Path | None,
        typer.Option("--week", help="A week's output folder (its pickups.csv).", file_okay=False),
    ] = None,
    week_start: Annotated[
        str | None, typer.Option("--week-start", help="Monday of that week (YYYY-MM-DD).")
    ] = None,
    base: Annotated[
        str, typer.Option("--base", help="Base of the exported @ids (the hub's address).")
    ] = "https://vivres.invalid/territory",
) -> None:
    """Export each producer's planned kilos per week as DFC offers in weekly sale sessions,
    and the week's farm pickups as DFC orders."""
    from api.cli import console
    from api.interop import export_plan_dfc

    if plan is None and week is None:
        raise InputError.of_file("vivres export dfc", "give --plan and/or --week")
    monday = None
    if week is not None:
        try:
            monday = pd.Timestamp(week_start) if week_start else None
        except ValueError:
            raise InputError.of_file("--week-start", f"not a date: {week_start!r}") from None
    document = export_plan_dfc(
        data,
        base=base,
        harvest_csv=plan / "harvest.csv" if plan is not None else None,
        pickups_csv=week / "pickups.csv" if week is not None else None,
        week_start=monday,
    )
    out.write_bytes(document)
    console.print(f"wrote {out} ({len(document):,} bytes)", highlight=False)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres import`` and ``vivres export``."""
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
