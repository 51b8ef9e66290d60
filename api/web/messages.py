"""French text of a failed job's stored error, inside the pages. The translation of every
message (checks, progress, the planner's explanation) is ``core.i18n``'s, shared with the CLI
and the reports; it is re-exported here for the pages."""

from __future__ import annotations

import re

from core.errors import RowError
from core.i18n import (  # noqa: F401  (moved to core.i18n; re-exported for the pages)
    error_fr,
    errors_fr,
    row_error_fr,
    text_fr,
)

_ERROR_KINDS = {
    "InputError": "Données refusées",
    "SolverError": "Le calcul n'a pas abouti",
    "VivresError": "Erreur",
    "NotFound": "Introuvable",
}


#: the parts of a job's stored error (``InputError: file row 3, column 'x': message; got 'v'``)
_ROW_PART = re.compile(
    r"^(?P<file>[^:;]+?)(?: row (?P<row>\d+))?(?:, column '(?P<column>[^']*)')?: "
    r"(?P<message>.+?)(?:; got (?P<value>.+))?$"
)


def job_error_fr(error: str | None) -> str:
    """A failed job's error (as the worker stores it) in French; an internal error stays as
    it is behind a French sentence."""
    if not error:
        return ""
    kind, _, rest = error.partition(": ")
    if kind not in _ERROR_KINDS:
        if error.startswith("internal error"):
            return f"Erreur interne du calcul (à signaler) : {error}"
        return text_fr(error)
    parts = []
    for part in re.split(r"; (?=[\w./-]+(?: row \d+)?(?:, column '[^']*')?: )", rest):
        found = _ROW_PART.match(part)
        if found is None or found["file"] in ("input",):
            parts.append(text_fr(found["message"] if found else part))
            continue
        value = found["value"]
        parts.append(
            row_error_fr(
                RowError(
                    file=found["file"],
                    row=int(found["row"]) if found["row"] else None,
                    column=found["column"],
                    message=found["message"],
                    value=value.strip("'\"") if value else None,
                )
            )
        )
    return f"{_ERROR_KINDS[kind]} : " + " ; ".join(parts)
