"""A territory's tables kept in the database; uploads validated by ``core`` before they apply.

Every upload is validated against the rest of the territory with the same readers as the
command line (``core.territory``), so the API's rejects name the same file, row and column.
An upload applies in one transaction, or not at all: a file with a rejected row changes
nothing unless the caller asked to keep the valid rows (``keep_valid``), and then only the
valid rows are stored.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.limits import Budget
from api.store.db import Store
from api.store.models import TerritoryFile, TerritoryRow, utcnow
from api.store.uploads import Upload, csv_of_valid, write_upload
from core.errors import InputError, RowError
from core.schema import ACTIVITY_TABLES
from core.territory import load_territory, read_activity

ACTIVITY = tuple(t.name for t in ACTIVITY_TABLES)
TERRITORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_REJECTS_SHOWN = 1000


class Changed(RuntimeError):
    """A table changed since the caller read it (``put_table(..., if_sha256=...)``)."""


class NotFound(LookupError):
    """The named territory, table, job or result does not exist."""


def get_or_not_found(session, model, key, message: str):
    """``session.get(model, key)``; raise NotFound(message) when there is no such row."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(message)
    return row


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadReport:
    """What an upload did: rows received, accepted and rejected (with reasons)."""

    territory_id: str
    version: int
    applied: bool
    tables: dict[str, int] = field(default_factory=dict)  # rows now stored per changed table
    received_rows: int = 0
    accepted_rows: int = 0
    rejects: list[dict] = field(default_factory=list)
    num_rejected: int = 0


def check_territory_id(territory_id: str) -> str:
    """Raise InputError unless the id is a short slug (letters, digits, ``_.-``)."""
    if not TERRITORY_ID.match(territory_id):
        raise InputError(
            [
                RowError(
                    file="path",
                    row=None,
                    column="territory_id",
                    message="must be 1-64 letters, digits, '_', '.' or '-', "
                    "starting with a letter or digit",
                    value=territory_id,
                )
            ]
        )
    return territory_id


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _reject_records(rejects: dict[str, pd.DataFrame], files: dict[str, str]) -> list[dict]:
    out = []
    for table, frame in rejects.items():
        fields = [c for c in frame.columns if c not in ("row", "column", "reason")]
        for rec in frame.head(MAX_REJECTS_SHOWN - len(out)).to_dict(orient="records"):
            out.append(
                {
                    "file": files.get(table, f"{table}.csv"),
                    "row": int(rec["row"]),
                    "column": rec["column"],
                    "reason": rec["reason"],
                    "values": {k: str(rec[k]) for k in fields},
                }
            )
    return out


# ----------------------------------------------------------------------------- reading


def territory_row(store: Store, territory_id: str) -> TerritoryRow:
    """The territory's row; raise NotFound."""
    with store.sessions() as session:
        return get_or_not_found(
            session, TerritoryRow, territory_id, f"no territory {territory_id!r}"
        )


def list_territories(
    store: Store, *, limit: int, offset: int, within: frozenset[str] | None = None
) -> tuple[list[TerritoryRow], int]:
    """A page of territories (by id) and the total count; only those ``within`` a key's
    scope when given."""
    from sqlalchemy import func

    query = select(TerritoryRow)
    if within is not None:
        query = query.where(TerritoryRow.territory_id.in_(sorted(within)))
    with store.sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(
            session.scalars(query.order_by(TerritoryRow.territory_id).limit(limit).offset(offset))
        )
    return rows, int(total or 0)


def table_stats(store: Store, territory_id: str) -> dict[str, dict]:
    """Per stored table: rows, sha256, upload time."""
    with store.sessions() as session:
        rows = session.execute(
            select(
                TerritoryFile.table_name,
                TerritoryFile.num_rows,
                TerritoryFile.sha256,
                TerritoryFile.uploaded_at,
            ).where(TerritoryFile.territory_id == territory_id)
        )
        return {
            r.table_name: {"rows": r.num_rows, "sha256": r.sha256, "uploaded_at": r.uploaded_at}
            for r in rows
        }


def table_content(store: Store, territory_id: str, table: str) -> bytes:
    """The stored CSV of one table; raise NotFound."""
    with store.sessions() as session:
        row = session.get(TerritoryFile, (territory_id, table))
        if row is None:
            territory_row(store, territory_id)
            raise NotFound(f"territory {territory_id!r} has no {table} table")
        return row.content


def write_files(store: Store, territory_id: str, folder: Path) -> int:
    """Write every stored table of a territory into ``folder``; return its version."""
    with store.sessions() as session:
        territory = get_or_not_found(
            session, TerritoryRow, territory_id, f"no territory {territory_id!r}"
        )
        for row in session.scalars(
            select(TerritoryFile).where(TerritoryFile.territory_id == territory_id)
        ):
            (folder / f"{row.table_name}.csv").write_bytes(row.content)
        return territory.version


@contextmanager
def checked_out(store: Store, territory_id: str) -> Iterator[tuple[Path, int]]:
    """A temporary folder holding the territory's files, and the version they are."""
    folder = Path(tempfile.mkdtemp(prefix=f"vivres-{territory_id}-"))
    try:
        yield folder, write_files(store, territory_id, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ----------------------------------------------------------------------------- writing


def _store_tables(
    store: Store,
    territory_id: str,
    tables: dict[str, tuple[bytes, int]],
    *,
    name: str | None = None,
    replace_all: bool = False,
    append: dict[str, bytes] | None = None,
    if_sha256: dict[str, str] | None = None,
) -> tuple[int, dict[str, int]]:
    """Write tables in one transaction (creating the territory); return (version, rows)."""
    for attempt in range(3):
        try:
            return _store_tables_once(
                store,
                territory_id,
                tables,
                name=name,
                replace_all=replace_all,
                append=append,
                if_sha256=if_sha256,
            )
        except IntegrityError:
            # another request created the same territory between our update and insert
            # (PostgreSQL: UniqueViolation): the row exists now, so the retry bumps it
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store_tables_once(
    store: Store,
    territory_id: str,
    tables: dict[str, tuple[bytes, int]],
    *,
    name: str | None,
    replace_all: bool,
    append: dict[str, bytes] | None,
    if_sha256: dict[str, str] | None = None,
) -> tuple[int, dict[str, int]]:
    now = utcnow()
    counts: dict[str, int] = {}
    with store.session() as session:
        # bump the version first: takes the write lock before any read-modify-write
        bumped = session.execute(
            update(TerritoryRow)
            .where(TerritoryRow.territory_id == territory_id)
            .values(version=TerritoryRow.version + 1, updated_at=now)
        )
        if bumped.rowcount == 0:
            session.add(
                TerritoryRow(
                    territory_id=territory_id,
                    name=name or territory_id,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            session.flush()
        elif name:
            session.get(TerritoryRow, territory_id).name = name
        for table, expected in (if_sha256 or {}).items():  # under the write lock taken above
            row = session.get(TerritoryFile, (territory_id, table))
            if (row.sha256 if row is not None else "") != expected:
                raise Changed(f"{table} changed since it was read")
        if replace_all:
            for row in session.scalars(
                select(TerritoryFile).where(TerritoryFile.territory_id == territory_id)
            ):
                if row.table_name not in tables:
                    session.delete(row)
        for table, (content, num_rows) in tables.items():
            row = session.get(TerritoryFile, (territory_id, table))
            if append and table in append and row is not None:
                content, num_rows = _appended(row.content, append[table])
            if row is None:
                row = TerritoryFile(territory_id=territory_id, table_name=table)
                session.add(row)
            row.content, row.num_rows, row.sha256, row.uploaded_at = (
                content,
                num_rows,
                _sha(content),
                now,
            )
            counts[table] = num_rows
        session.flush()
        version = session.get(TerritoryRow, territory_id).version
    return version, counts


def _appended(existing: bytes, new: bytes) -> tuple[bytes, int]:
    old = pd.read_csv(io.BytesIO(existing), dtype=str, keep_default_na=False)
    add = pd.read_csv(io.BytesIO(new), dtype=str, keep_default_na=False)
    both = pd.concat([old, add], ignore_index=True).fillna("")
    return both.to_csv(index=False).encode(), len(both)


def put_territory(
    store: Store,
    territory_id: str,
    uploads: list[Upload],
    *,
    name: str | None = None,
    keep_valid: bool = False,
) -> UploadReport:
    """Create or replace a whole territory from its tables (every master table required)."""
    check_territory_id(territory_id)
    with tempfile.TemporaryDirectory(prefix="vivres-upload-") as tmp:
        folder = Path(tmp)
        budget = Budget()
        paths = {u.table: write_upload(folder, u, budget) for u in uploads}
        territory = load_territory(folder, strict=not keep_valid)
        tables = {}
        for table, path in paths.items():
            rejected = territory.rejects.get(table)
            valid = None if rejected is None else set(getattr(territory, table)["row"])
            tables[table] = csv_of_valid(path, valid)
        files = {t: p.name for t, p in paths.items()}
        rejects = _reject_records(territory.rejects, files)
    version, counts = _store_tables(store, territory_id, tables, name=name, replace_all=True)
    num_rejected = sum(len(r) for r in territory.rejects.values())
    return UploadReport(
        territory_id=territory_id,
        version=version,
        applied=True,
        tables=counts,
        received_rows=sum(counts.values()) + num_rejected,
        accepted_rows=sum(counts.values()),
        rejects=rejects,
        num_rejected=num_rejected,
    )


def put_table(
    store: Store,
    territory_id: str,
    upload: Upload,
    *,
    keep_valid: bool = False,
    append: bool = False,
    if_sha256: str | None = None,
) -> UploadReport:
    """Replace (or, for orders and caisse transactions, append to) one table of a territory.

    The whole territory is validated with the new table in place, so a product removed while
    orders still name it is reported on the orders' rows, and nothing changes. With
    ``if_sha256`` (the sha256 of the table the caller read, ``""``: it had none), a table
    changed since raises ``Changed`` and nothing is stored (read-modify-write across
    processes).
    """
    if append and upload.table not in ACTIVITY:
        raise InputError(
            f"only {' and '.join(ACTIVITY)} can be appended to; {upload.table} is replaced whole"
        )
    with checked_out(store, territory_id) as (folder, _version):
        path = write_upload(folder, upload)
        if upload.table in ACTIVITY:
            master = load_territory(folder, activity=False)
            result = read_activity(path, upload.table, master)
            rejects = {upload.table: result.rejects} if len(result.rejects) else {}
            if result.errors and not keep_valid:
                raise InputError(list(result.errors))
            valid_rows = set(result.valid["row"]) if len(result.rejects) else None
        else:
            territory = load_territory(folder, strict=not keep_valid)
            rejects = territory.rejects
            valid_rows = None
            if upload.table in rejects:
                valid_rows = set(getattr(territory, upload.table)["row"])
        content, num_rows = csv_of_valid(path, valid_rows)
        files = {upload.table: path.name}
        records = _reject_records({k: v for k, v in rejects.items() if k == upload.table}, files)
        num_rejected = sum(len(v) for k, v in rejects.items() if k == upload.table)
    tables = {upload.table: (content, num_rows)}
    version, counts = _store_tables(
        store,
        territory_id,
        tables,
        append={upload.table: content} if append else None,
        if_sha256=None if if_sha256 is None else {upload.table: if_sha256},
    )
    return UploadReport(
        territory_id=territory_id,
        version=version,
        applied=True,
        tables=counts,
        received_rows=num_rows + num_rejected,
        accepted_rows=num_rows,
        rejects=records,
        num_rejected=num_rejected,
    )


def delete_territory(store: Store, territory_id: str) -> None:
    """Delete a territory with its files, jobs, results and scenarios."""
    from sqlalchemy import delete

    from api.store.models import Artifact, Job, JobLog, Scenario

    with store.session() as session:
        if session.get(TerritoryRow, territory_id) is None:
            raise NotFound(f"no territory {territory_id!r}")
        job_ids = select(Job.job_id).where(Job.territory_id == territory_id)
        session.execute(delete(Artifact).where(Artifact.job_id.in_(job_ids)))
        session.execute(delete(JobLog).where(JobLog.job_id.in_(job_ids)))
        session.execute(delete(Job).where(Job.territory_id == territory_id))
        session.execute(delete(Scenario).where(Scenario.territory_id == territory_id))
        session.execute(delete(TerritoryFile).where(TerritoryFile.territory_id == territory_id))
        session.execute(delete(TerritoryRow).where(TerritoryRow.territory_id == territory_id))
