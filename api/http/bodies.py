"""Reading uploaded tables from a request: CSV, JSON rows, Excel, gzip, multipart or zip."""

from __future__ import annotations

import json

from fastapi import Request
from starlette.datastructures import UploadFile

from api.http.problems import ProblemError
from api.store.uploads import Upload, format_of, unzip_tables
from core.schema import TABLES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_MEDIA = ("text/csv", "application/json", "multipart/form-data", "application/gzip", XLSX)

_ROWS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]
        },
    },
    "maxItems": 1000000,
}

TABLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": _ROWS_SCHEMA},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "the table as .csv, .csv.gz, .xlsx or .json",
                        }
                    },
                }
            },
        },
    }
}

TERRITORY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {name: {"type": "string", "format": "binary"} for name in TABLES},
                }
            },
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {name: _ROWS_SCHEMA for name in TABLES},
                }
            },
        },
    }
}


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def unsupported(media: str, allowed: tuple[str, ...]) -> ProblemError:
    return ProblemError(
        415,
        "Unsupported Media Type",
        f"Content-Type {media or '(none)'!r} is not accepted here; send one of "
        + ", ".join(allowed),
        slug="unsupported-media-type",
    )


async def _field_bytes(value) -> tuple[bytes, str | None]:
    if isinstance(value, UploadFile):
        return await value.read(), value.filename
    return str(value).encode(), None


async def read_table_upload(request: Request, table: str) -> Upload:
    """The one table sent in the body."""
    media = _media(request)
    if media == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:
            value = form.get("file")
            if value is None:
                raise ProblemError(
                    422,
                    "Invalid request",
                    "multipart body needs a 'file' field",
                    slug="invalid-request",
                    errors=[{"field": "body.file", "message": "missing"}],
                )
            content, filename = await _field_bytes(value)
        return Upload(table=table, content=content, format=format_of(filename or f"{table}.csv"))
    if media in ("text/csv", "text/plain", "application/octet-stream"):
        return Upload(table=table, content=await request.body(), format="csv")
    if media == "application/json":
        return Upload(table=table, content=await request.body(), format="json")
    if media == "application/gzip":
        return Upload(table=table, content=await request.body(), format="csv.gz")
    if media == XLSX:
        return Upload(table=table, content=await request.body(), format="xlsx")
    raise unsupported(media, TABLE_MEDIA)


async def read_territory_upload(request: Request) -> list[Upload]:
    """Every table sent: multipart fields named by table, a zip of the folder, or JSON
    ``{"sites": [{...}, ...], "products": [...], ...}``."""
    media = _media(request)
    if media == "application/zip":
        return unzip_tables(await request.body())
    if media == "application/json":
        return _json_tables(await request.body())
    if media != "multipart/form-data":
        raise unsupported(media, ("multipart/form-data", "application/zip", "application/json"))
    uploads = []
    async with request.form(max_files=len(TABLES), max_fields=len(TABLES)) as form:
        unknown = [k for k in form if k not in TABLES]
        if unknown:
            raise ProblemError(
                422,
                "Invalid request",
                f"unknown table field(s): {', '.join(sorted(unknown))}",
                slug="invalid-request",
                errors=[
                    {
                        "field": f"body.{k}",
                        "message": "unknown table; expected one of " + ", ".join(TABLES),
                    }
                    for k in sorted(unknown)
                ],
            )
        for name, value in form.multi_items():
            content, filename = await _field_bytes(value)
            uploads.append(
                Upload(table=name, content=content, format=format_of(filename or f"{name}.csv"))
            )
    if not uploads:
        raise ProblemError(
            422,
            "Invalid request",
            "no table in the body (send sites, products, ... as multipart fields, or a zip)",
            slug="invalid-request",
        )
    return uploads


def _json_tables(body: bytes) -> list[Upload]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(
            422, "Invalid request", f"the body is not valid JSON ({exc})", slug="invalid-request"
        ) from None
    if not isinstance(doc, dict) or not doc:
        raise ProblemError(
            422,
            "Invalid request",
            'expected an object {"sites": [rows], ...}',
            slug="invalid-request",
        )
    unknown = sorted(k for k in doc if k not in TABLES)
    if unknown:
        raise ProblemError(
            422,
            "Invalid request",
            f"unknown table(s): {', '.join(unknown)}",
            slug="invalid-request",
            errors=[{"field": f"body.{k}", "message": "unknown table"} for k in unknown],
        )
    return [
        Upload(table=name, content=json.dumps(rows).encode(), format="json")
        for name, rows in doc.items()
    ]
