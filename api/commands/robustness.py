"""``vivres bench robustness``: decompression and column bombs against ``vivres serve``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.commands import bench_module


def bench_robustness(
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the figures to this JSON file.", dir_okay=False),
    ] = None,
) -> None:
    """Send a gzip bomb, a zip of 15 M lines and a 20,000-column CSV to a fresh server; print
    status, seconds to refusal and server RSS peak of each (bar: 4xx in < 5 s, < 1 GB)."""
    from api.cli import console

    figures = bench_module("robustness_bench").run(console=console)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2))
        console.print(f"figures written to [bold]{json_path}[/]")
    if not all(f["meets_bar"] for f in figures["bombs"].values()):
        raise typer.Exit(1)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres bench robustness``."""
    bench_app.command("robustness")(bench_robustness)
