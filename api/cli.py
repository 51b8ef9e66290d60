"""The ``vivres`` command line: a thin Typer layer over the pipeline and the packages.

Errors are mapped once, here: bad input exits 2 with a one-line message naming the file, row
and column (a file or folder the system refuses to read or write, too: ``--out`` under a file,
a sheet open in Excel); a solver failure exits 3; anything else exits 1 (a bug: please report
it).
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.messages import usage_text
from core.errors import InputError, SolverError, VivresError
from core.i18n import error_lines
from core.territory import SAMPLE_DIR

console = Console()
err_console = Console(stderr=True)

EXIT_INPUT = 2
EXIT_SOLVER = 3
EXIT_INTERNAL = 1

app = typer.Typer(
    name="vivres",
    help="Supply planning and shared-truck logistics for mutualised solidarity food hubs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Run the speed and quality benchmarks (figures printed and in JSON).", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")

DataOption = Annotated[
    Path,
    typer.Option(
        "--data", help="Territory folder (same file layout as data/sample).", file_okay=False
    ),
]
DEFAULT_DATA = SAMPLE_DIR


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _register_optional_commands() -> None:
    """Attach the command groups of the packages that have landed."""
    import importlib

    commands = (
        "territory",
        "demo",
        "demand",
        "caisse",
        "plan",
        "contracts",
        "routes",
        "week",
        "mutual",
        "serve",
        "keys",
        "robustness",
        "sweep",
        "federation",
        "interop",
    )
    for module_name in (f"api.commands.{name}" for name in commands):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(app, bench_app)


_register_optional_commands()


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """``name`` from click and from the copy of click that typer vendors (typer ≥ 0.22 raises
    its own ``typer._click`` classes): a usage error is caught whichever raised it."""
    import importlib

    found = []
    for module_name in ("click.exceptions", "typer._click.exceptions"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, name):
            found.append(getattr(module, name))
    return tuple(found)


CLICK_EXIT = _click_classes("Exit")
CLICK_ABORT = _click_classes("Abort")
CLICK_ERROR = _click_classes("ClickException")


def _usage_line(exc: BaseException, lang: str) -> str:
    """One line for a usage error: the message and where to read the help."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "vivres"
    return usage_text(message, where, lang)


def _argv_lang(argv: list[str]) -> str:
    """The language asked on the command line (``--lang en`` / ``--lang=en`` anywhere in
    it), French otherwise: errors are said before (or without) the command parsing it."""
    for i, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        if value in ("fr", "en"):
            return value
    return "fr"


def _error_line(exc: VivresError, lang: str) -> str:
    """An error's problems on one line, in ``lang`` (the translation the web uses)."""
    return " ; ".join(error_lines(exc, lang)) if lang == "fr" else str(exc)


def _os_error_line(exc: OSError, lang: str) -> str:
    """A file the system refused, on one line: which file, the system's reason and, when it was
    refused access, the usual cause."""
    where = exc.filename if exc.filename is not None else "?"
    reason = exc.strerror or type(exc).__name__
    if lang == "fr":
        line = f"impossible d'utiliser « {where} » : {reason}"
        hint = " (est-il ouvert dans un autre programme, Excel par exemple ?)"
    else:
        line = f"cannot use {where}: {reason}"
        hint = " (is it open in another program, Excel say?)"
    return line + (hint if isinstance(exc, PermissionError) else "")


@functools.cache
def _command():
    """The click command of ``app``, built once per process (tests call ``main`` hundreds of
    times; building it takes ~40 ms)."""
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and map errors to exit codes; return the exit code."""
    command = _command()
    lang = _argv_lang(sys.argv[1:] if argv is None else list(argv))
    error = "erreur " if lang == "fr" else "error"  # French puts a space before the colon
    try:
        # outside standalone mode click returns an Exit's code (typer.Exit(code=2)) as the
        # command's value
        returned = command.main(args=argv, prog_name="vivres", standalone_mode=False)
        if isinstance(returned, int) and not isinstance(returned, bool):
            return returned
    except CLICK_EXIT as exc:
        return int(getattr(exc, "exit_code", 0))
    except CLICK_ABORT:
        err_console.print("interrompu" if lang == "fr" else "aborted")
        return 130
    except CLICK_ERROR as exc:
        err_console.print(
            f"[bold red]{error}:[/] {_usage_line(exc, lang)}", highlight=False, soft_wrap=True
        )
        return EXIT_INPUT
    except InputError as exc:
        err_console.print(
            f"[bold red]{error}:[/] {_error_line(exc, lang)}", highlight=False, soft_wrap=True
        )
        return EXIT_INPUT
    except SolverError as exc:
        kind = "échec du calcul " if lang == "fr" else "solver error"
        err_console.print(
            f"[bold red]{kind}:[/] {_error_line(exc, lang)}", highlight=False, soft_wrap=True
        )
        return EXIT_SOLVER
    except VivresError as exc:
        err_console.print(
            f"[bold red]{error}:[/] {_error_line(exc, lang)}", highlight=False, soft_wrap=True
        )
        return EXIT_INTERNAL
    except OSError as exc:
        err_console.print(
            f"[bold red]{error}:[/] {_os_error_line(exc, lang)}", highlight=False, soft_wrap=True
        )
        return EXIT_INPUT
    return 0


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # python -m api.cli (the benchmarks run it so)
    entry_point()
