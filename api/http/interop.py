"""``POST /v1/territories/{id}/imports/{dfc|ofn}``: other platforms' data into a stored territory.

The same import as ``vivres import dfc|ofn`` (:mod:`api.interop`), run on a checked-out copy
of the stored territory; the tables it changes, and the source's mapping and order ledger
(stored beside the tables as ``interop_<source>_mapping`` / ``interop_<source>_orders``), are
stored in one new version. Planner role; the key's territory scope applies (router included
with ``scoped``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api import interop
from api.http.bodies import unsupported
from api.http.deps import Caller, get_store, require
from api.http.problems import responses
from api.http.territories import TerritoryId
from api.interop.graph import MAX_BYTES
from api.interop.mapping import Mapping
from api.store import territories as store_t
from core.errors import InputError, InputTooLarge, RowError

router = APIRouter(prefix="/v1/territories", tags=["territories"])

MEDIA = ("application/ld+json", "application/json")
_STATE = ("mapping", "orders")


class ImportOut(BaseModel):
    """What an import found and changed."""

    territory_id: str
    version: int = Field(description="the territory's version after the import")
    report: dict[str, Any] = Field(
        description="producers/products/orders found, rows written per table, unmapped nodes "
        "(@id, type, why), unknown_types, notes, changed_files (would_change on a dry run)"
    )


def _run(store, territory_id: str, source: str, payload: bytes, dry_run: bool) -> ImportOut:
    with store_t.checked_out(store, territory_id) as (folder, version):
        (folder / "interop").mkdir()
        for state in _STATE:
            stored = folder / f"interop_{source}_{state}.csv"
            if stored.is_file():
                shutil.move(stored, folder / "interop" / f"{source}_{state}.csv")
        name = f"{source} upload"
        if source == "dfc":
            report = interop.import_dfc(payload, folder, name=name, dry_run=dry_run)
        else:
            report = interop.import_ofn(payload, folder, name=name, dry_run=dry_run)
        if dry_run or not report["changed_files"]:
            return ImportOut(territory_id=territory_id, version=version, report=report)
        tables = {}
        for rel in report["changed_files"]:
            content = (folder / rel).read_bytes()
            rows = max(content.count(b"\n") - 1, 0)
            tables[Path(rel).with_suffix("").as_posix().replace("/", "_")] = (content, rows)
    new_version, _ = store_t._store_tables(store, territory_id, tables)
    return ImportOut(territory_id=territory_id, version=new_version, report=report)


@router.post(
    "/{territory_id}/imports/{source}",
    response_model=ImportOut,
    responses=responses(401, 403, 404, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {m: {"schema": {"type": "object"}} for m in MEDIA},
        }
    },
)
async def import_source(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    source: Literal["dfc", "ofn"],
    dry_run: Annotated[bool, Query(description="change nothing; report what would change")] = False,
) -> ImportOut:
    """Import a DFC JSON-LD document or a saved OFN API v0 orders response (planner).

    Nodes that cannot be mapped are listed in the report (edit the mapping with
    ``vivres import … --suggest-mapping`` on a checked-out copy, or map them in the source);
    input that breaks the territory's rules is refused (422, naming file, row and column).
    """
    require(caller, "planner")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA:
        raise unsupported(media, MEDIA)
    payload = await request.body()
    if len(payload) > MAX_BYTES:
        raise InputTooLarge(
            [RowError(file=f"{source} upload", row=None, column=None, message="body too large")]
        )
    return await run_in_threadpool(_run, get_store(request), territory_id, source, payload, dry_run)


Source = Literal["dfc", "ofn"]
MAX_MAPPING_BYTES = 2 * 1024 * 1024


@router.get(
    "/{territory_id}/imports/{source}/mapping",
    response_class=Response,
    responses={
        **responses(401, 403, 404, 422),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
def get_mapping(
    request: Request, caller: Caller, territory_id: TerritoryId, source: Source
) -> Response:
    """The source's mapping (CSV: kind, source_id, our_id, name, managed) as the last import
    left it — rows with an empty ``our_id`` are still to map (planner)."""
    require(caller, "planner")
    content = store_t.table_content(get_store(request), territory_id, f"interop_{source}_mapping")
    return Response(content, media_type="text/csv")


@router.put(
    "/{territory_id}/imports/{source}/mapping",
    response_model=ImportOut,
    responses=responses(401, 403, 404, 413, 415, 422),
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def put_mapping(
    request: Request, caller: Caller, territory_id: TerritoryId, source: Source
) -> ImportOut:
    """Replace the source's mapping with the one the user edited (planner); checked as the
    command line reads it (kinds, ids) before it is stored."""
    require(caller, "planner")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "text/csv":
        raise unsupported(media, ("text/csv",))
    content = await request.body()
    if len(content) > MAX_MAPPING_BYTES:
        raise InputTooLarge(
            [RowError(file="mapping", row=None, column=None, message="body too large")]
        )
    return await run_in_threadpool(_put_mapping, get_store(request), territory_id, source, content)


def _put_mapping(store, territory_id: str, source: str, content: bytes) -> ImportOut:
    with store_t.checked_out(store, territory_id) as (folder, _version):
        (folder / "interop").mkdir()
        path = folder / "interop" / f"{source}_mapping.csv"
        path.write_bytes(content)
        mapping = Mapping.read(folder, source)
        if not mapping.entries():
            raise InputError.of_file(f"interop/{path.name}", "no mapping rows")
        mapping.write(folder)
        stored = path.read_bytes()
    rows = len(mapping.entries())
    version, _ = store_t._store_tables(
        store, territory_id, {f"interop_{source}_mapping": (stored, rows)}
    )
    report = {"source": source, "mapping_rows": rows}
    return ImportOut(territory_id=territory_id, version=version, report=report)
