"""The one CSV writer and the one CSV reader of vivres.

Two kinds of CSV leave vivres:

* **user CSVs**, the tables a person opens in a spreadsheet (route sheets, plan tables, demand
  tables, contracts, caisse tables, comparisons): UTF-8 with a BOM, and in French (the
  default) ``;`` between fields and a decimal comma, so French Excel and LibreOffice open them
  as they are; ``lang="en"`` gives ``,`` and ``.``. Floats are rounded (3 decimals unless told)
  and each user CSV gets an ``.xlsx`` twin holding the same values.
* **machine CSVs**, the files programs read (``fill_history.csv``, the week's data tables, the
  routes' ``stops.csv``/``schedule.csv``, territory exports): always ``,`` and ``.``, UTF-8
  without BOM, English keys.

:func:`read_csv_any` reads either kind back: it strips a BOM, skips leading ``#`` comment lines
and takes ``;`` + decimal comma when the header is split by ``;``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import IO, Any, Literal, get_args

import pandas as pd

from core.safety import neutralise_csv

#: Language of the files users read: French by default, ``--lang en`` for English.
Lang = Literal["fr", "en"]
LANGS: tuple[str, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "fr"
BOM = "\ufeff"
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def check_lang(value: str) -> Lang:
    """``value`` as a :data:`Lang`; raise ``ValueError`` naming the choices otherwise."""
    if value not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {value!r}")
    return value  # type: ignore[return-value]


def separator(lang: Lang) -> tuple[str, str]:
    """The field separator and decimal mark of a user CSV in ``lang``."""
    return (";", ",") if lang == "fr" else (",", ".")


def _rounded(frame: pd.DataFrame, digits: int | None) -> pd.DataFrame:
    if digits is None:
        return frame
    floats = frame.select_dtypes("floating").columns
    if not len(floats):
        return frame
    out = frame.copy()
    out[floats] = out[floats].round(digits) + 0.0  # + 0.0: no "-0,0"
    return out


def write_user_csv(
    frame: pd.DataFrame,
    path: Path | str,
    *,
    lang: Lang = DEFAULT_LANG,
    digits: int | None = 3,
    twin: bool = True,
) -> list[Path]:
    """Write a CSV people open (see the module docstring) and its ``.xlsx`` twin.

    Returns the written paths (the CSV, then the twin).
    """
    from core.excel import xlsx_twin

    path = Path(path)
    table = _rounded(frame, digits)
    sep, decimal = separator(lang)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(BOM)
        neutralise_csv(table).to_csv(fh, index=False, sep=sep, decimal=decimal)
    return [path, xlsx_twin(table, path)] if twin else [path]


def write_machine_csv(
    frame: pd.DataFrame, path_or_buffer: Path | str | IO[str], **kwargs: Any
) -> None:
    """Write a CSV programs read: ``,`` and ``.``, UTF-8, formula-looking text neutralised."""
    kwargs.setdefault("index", False)
    neutralise_csv(frame).to_csv(path_or_buffer, **kwargs)


def read_csv_any(source: Path | str | bytes | IO[str] | IO[bytes], **kwargs: Any) -> pd.DataFrame:
    """Read a CSV vivres wrote, whichever its dialect (BOM, ``;``/``,``, decimal mark).

    Leading ``#`` lines are skipped. Keyword arguments go to :func:`pandas.read_csv`; with
    ``dtype=str`` the French decimal comma of number-looking cells becomes a point, so the
    text reads the same in both dialects.
    """
    if isinstance(source, bytes):
        raw = source
    elif isinstance(source, str | Path):
        raw = Path(source).read_bytes()
    else:
        data = source.read()
        raw = data.encode("utf-8") if isinstance(data, str) else data
    text = raw.decode("utf-8-sig").lstrip(BOM)
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    if not lines:
        return pd.DataFrame()
    header = lines[0]
    french = header.count(";") > header.count(",")
    sep, decimal = (";", ",") if french else (",", ".")
    frame = pd.read_csv(io.StringIO("".join(lines)), sep=sep, decimal=decimal, **kwargs)
    if french:
        for name in frame.columns:
            if frame[name].dtype == object:
                column = frame[name]
                mask = column.map(lambda v: isinstance(v, str) and bool(_DECIMAL_COMMA.match(v)))
                if mask.any():
                    frame[name] = column.where(~mask, column.str.replace(",", ".", regex=False))
    return frame
