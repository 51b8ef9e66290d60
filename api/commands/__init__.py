"""CLI command groups; each module exposes register(app, bench_app)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from core.errors import InputError

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def bench_module(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` loaded as a module (the benchmarks run from a source checkout,
    they are not part of the installed package)."""
    path = BENCHMARKS / f"{name}.py"
    if not path.exists():
        raise InputError(f"{path.name} not found: the benchmark runs from a source checkout")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"{path.name} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lang(value: str) -> str:
    from api.params import output_lang  # the HTTP jobs' ``lang`` goes through it too

    try:
        return output_lang(value)
    except InputError as err:
        raise typer.BadParameter("; ".join(e.message for e in err.errors)) from None


#: ``--lang fr|en`` of every command that writes files people open.
LangOpt = Annotated[
    str,
    typer.Option(
        "--lang",
        help="Language of the files and sheets people read: fr (default; CSVs with ';' and "
        "decimal comma) or en (CSVs with ',' and '.'). JSON and machine CSVs keep English keys.",
        callback=_lang,
    ),
]
