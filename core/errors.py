"""One error tree for the whole project.

Every layer raises these; only the edges (CLI, HTTP app) turn them into exit codes or
problem+json responses.
"""

from __future__ import annotations

from dataclasses import dataclass


class VivresError(Exception):
    """Base class of every error vivres raises on purpose."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem found in one cell of an input table."""

    file: str
    row: int | None  # line number in the file (header is line 1), None for file-level problems
    column: str | None
    message: str
    value: object = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        text = f"{where}: {self.message}"
        if self.value is not None and self.value != "":
            shown = repr(self.value)
            if len(shown) > 80:  # a huge value must not make a huge message
                shown = shown[:80] + f"… ({len(shown)} characters)"
            text += f"; got {shown}"
        return text


class InputError(VivresError, ValueError):
    """Bad input data: names the file, row and column of each problem."""

    def __init__(self, errors: list[RowError] | str, *, max_shown: int = 10):
        if isinstance(errors, str):
            errors = [RowError(file="input", row=None, column=None, message=errors)]
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:max_shown])
        more = len(self.errors) - max_shown
        if more > 0:
            shown += f" (and {more} more problems)"
        super().__init__(shown)

    @classmethod
    def of_file(cls, file: str, message: str) -> InputError:
        """An error about a whole file (no row or column)."""
        return cls([RowError(file=file, row=None, column=None, message=message)])


class InputTooLarge(InputError):
    """An input over a configured cap (bytes once decompressed, rows, columns): HTTP 413."""


class SolverError(VivresError):
    """A solver failed for a reason that is not the user's input."""


class VivresWarning(UserWarning):
    """Something the user should know that does not stop the run."""


class FallbackWarning(VivresWarning):
    """A degraded method was used (e.g. straight-line distances instead of roads)."""
