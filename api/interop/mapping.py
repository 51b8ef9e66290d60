"""The mapping of a source's ids to ours: one CSV per source, kept in the territory folder.

``<territory>/interop/<source>_mapping.csv`` (``source`` is ``dfc`` or ``ofn``, never a value
read from data) has one row per thing the source names::

    kind,source_id,our_id,name,managed
    producer,https://…/enterprises/1c8f…,happy-acres-farm-3f2a9c1e,Happy Acres Farm,true
    product,https://…/supplied_products/10001,pomme,Apple,false
    site,https://…/enterprises/11000,S1,,false

``managed`` true: vivres created that row from the source and updates it on each import;
false (what a user writes): the row is ours and is left as it is — the source's id only
resolves to it. An empty ``our_id`` is a row still to map (``--suggest-mapping`` fills in a
proposal by name similarity for the user to check).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from core.errors import InputError, RowError
from core.safety import ID_RULE, is_id, short_repr, write_csv
from core.tables import read_raw

SOURCES = ("dfc", "ofn")
KINDS = ("producer", "product", "site")
COLUMNS = ("kind", "source_id", "our_id", "name", "managed")
MAX_SOURCE_ID = 2000
_NOT_ID = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One source id and the id it has in the territory (empty: not mapped yet)."""

    kind: str
    source_id: str
    our_id: str = ""
    name: str = ""
    managed: bool = False


def slug(source_id: str, name: str = "") -> str:
    """A deterministic id for ``source_id``: readable part from ``name`` (or the id's last
    segment) plus 8 hex digits of its SHA-1, so two sources never share an id by accident."""
    tail = name or re.split(r"[#/:]", source_id.rstrip("/#"))[-1]
    ascii_ = unicodedata.normalize("NFKD", tail).encode("ascii", "ignore").decode()
    base = _NOT_ID.sub("-", ascii_.lower()).strip("-")[:40].strip("-") or "x"
    digest = hashlib.sha1(source_id.encode("utf-8")).hexdigest()[:8]
    made = f"{base}-{digest}"
    assert is_id(made), made  # by construction: [a-z0-9-], starts with a letter or digit
    return made


def path_of(folder: Path, source: str) -> Path:
    """The mapping file of ``source`` in the territory ``folder``."""
    if source not in SOURCES:
        raise ValueError(source)
    return Path(folder) / "interop" / f"{source}_mapping.csv"


class Mapping:
    """Source ids → our ids for one source, read from and written to its mapping file."""

    def __init__(self, source: str, entries: list[Entry] | None = None):
        self.source = source
        self._entries: dict[tuple[str, str], Entry] = {}
        for entry in entries or ():
            self._entries[(entry.kind, entry.source_id)] = entry

    @classmethod
    def read(cls, folder: Path, source: str) -> Mapping:
        """Read the mapping file of ``source`` (an empty mapping when there is none)."""
        path = path_of(folder, source)
        if not path.is_file():
            return cls(source)
        name = f"interop/{path.name}"
        frame = read_raw(path, name=name)
        missing = [c for c in ("kind", "source_id", "our_id") if c not in frame.columns]
        if missing:
            raise InputError.of_file(name, "missing columns: " + ", ".join(missing))
        errors: list[RowError] = []
        entries = []
        for row in frame.to_dict("records"):
            line = int(row["row"])
            kind, our_id = row["kind"].strip(), row["our_id"].strip()
            if kind not in KINDS:
                errors.append(
                    RowError(
                        file=name,
                        row=line,
                        column="kind",
                        message="expected one of " + ", ".join(KINDS),
                        value=short_repr(kind),
                    )
                )
                continue
            if our_id and not is_id(our_id):
                errors.append(
                    RowError(
                        file=name,
                        row=line,
                        column="our_id",
                        message=f"expected {ID_RULE}",
                        value=short_repr(our_id),
                    )
                )
                continue
            managed = str(row.get("managed", "")).strip().lower() in ("true", "1", "yes", "oui")
            entries.append(
                Entry(
                    kind=kind,
                    source_id=row["source_id"].strip(),
                    our_id=our_id,
                    name=str(row.get("name", "")).strip(),
                    managed=managed,
                )
            )
        if errors:
            raise InputError(errors)
        return cls(source, entries)

    def get(self, kind: str, source_id: str) -> Entry | None:
        """The entry of ``source_id`` (None when the file does not list it)."""
        return self._entries.get((kind, source_id))

    def our_id(self, kind: str, source_id: str) -> str | None:
        """Our id for ``source_id`` (None when it is not mapped)."""
        entry = self.get(kind, source_id)
        return entry.our_id if entry is not None and entry.our_id else None

    def put(self, entry: Entry) -> None:
        """Add or replace an entry."""
        self._entries[(entry.kind, entry.source_id)] = entry

    def entries(self) -> list[Entry]:
        """Every entry, sorted by kind then source id."""
        return [self._entries[k] for k in sorted(self._entries)]

    def frame(self) -> pd.DataFrame:
        """The entries as the mapping file's rows."""
        rows = [
            {
                "kind": e.kind,
                "source_id": e.source_id,
                "our_id": e.our_id,
                "name": e.name,
                "managed": "true" if e.managed else "false",
            }
            for e in self.entries()
        ]
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def write(self, folder: Path) -> Path:
        """Write the mapping file (the ``interop/`` folder is made when missing)."""
        path = path_of(folder, self.source)
        path.parent.mkdir(exist_ok=True)
        write_csv(self.frame(), path, index=False)
        return path


def suggest(mapping: Mapping, candidates: dict[str, dict[str, str]], *, cutoff: float = 0.6) -> int:
    """Fill each unmapped entry's ``our_id`` with the closest name among ``candidates``.

    ``candidates`` maps a kind to ``{our_id: name}``. Names are compared case- and
    accent-insensitively (difflib's ratio, at least ``cutoff``). Return how many were filled;
    they stay unmanaged, for the user to check before the next import.
    """
    filled = 0
    for entry in mapping.entries():
        if entry.our_id or not entry.name:
            continue
        pool = candidates.get(entry.kind, {})
        by_name = {_fold(n): our for our, n in pool.items() if n}
        best = difflib.get_close_matches(_fold(entry.name), list(by_name), n=1, cutoff=cutoff)
        if best:
            mapping.put(replace(entry, our_id=by_name[best[0]], managed=False))
            filled += 1
    return filled


def _fold(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NOT_ID.sub(" ", ascii_.lower()).split())
