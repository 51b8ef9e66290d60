"""``vivres federation generate``: N generated territories over real départements + a sweep."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from core.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "data"

federation_app = typer.Typer(
    help="Federations of generated territories (for sweeps and benchmarks).",
    no_args_is_help=True,
)


def data_module(name: str) -> ModuleType:
    """``data/<name>.py`` loaded as a module (the generators run from a source checkout)."""
    path = DATA / f"{name}.py"
    if not path.exists():
        raise InputError(f"{path.name} not found: the generator runs from a source checkout")
    spec = importlib.util.spec_from_file_location(f"vivres_data_{name}", path)
    if spec is None or spec.loader is None:
        raise InputError(f"{path.name} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@federation_app.command("generate")
def generate(
    departements: Annotated[
        str, typer.Option("--departements", help="Département numbers, e.g. 13,34,44,69.")
    ],
    territories: Annotated[
        int, typer.Option("--territories", help="How many territories (dealt in turn).", min=1)
    ],
    communes: Annotated[
        Path,
        typer.Option(
            "--communes",
            help="Folder of commune polygons communes-<dép>-*.geojson (nothing is downloaded).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder written (one folder per territory).")],
    scale: Annotated[
        float, typer.Option("--scale", help="Mean scale (1 = the sample's size).")
    ] = 1.0,
    spread: Annotated[
        float,
        typer.Option("--scale-spread", help="Each scale drawn in scale × [1 − s, 1 + s]."),
    ] = 0.4,
    seed: Annotated[int, typer.Option("--seed", help="Territory i gets seed + i.")] = 42,
    years: Annotated[int, typer.Option("--years", help="Years of order history (1 or 2).")] = 2,
) -> None:
    """Generate N territories around the cities of real départements, and a sweep file."""
    from api.cli import console

    module = data_module("federation")
    manifest = module.generate_federation(
        out,
        departements=[d.strip() for d in departements.split(",") if d.strip()],
        territories=territories,
        communes=communes,
        scale=scale,
        seed=seed,
        spread=spread,
        years=years,
    )
    for row in manifest.itertuples():
        console.print(
            f"{row.territory}: {row.hub_commune}, scale {row.scale:g}, seed {row.seed}, "
            f"{row.points_of_sale} points of sale, {row.farms} farms",
            highlight=False,
        )
    console.print(
        f"{len(manifest)} territories → {out}; run them: vivres sweep {out / 'sweep.yaml'}",
        highlight=False,
    )


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres federation``."""
    del bench_app
    app.add_typer(federation_app, name="federation")
