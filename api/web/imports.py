"""Import from other platforms, for hub planners: an Open Food Network orders export or a Data
Food Consortium (DFC) document, checked first ("what would change") then stored as a new
version of the territory — the same import as ``vivres import ofn|dfc`` and
``POST /v1/territories/{t}/imports/{source}``; and the source's correspondence table (their
ids → ours) downloaded, completed in a spreadsheet and uploaded again."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from api.store import territories as store_t
from api.web.base import not_found, render, territory_user
from api.web.messages import error_fr, text_fr
from api.web.session import CSRF_FIELD, check_csrf
from core.errors import InputTooLarge, RowError, VivresError

router = APIRouter(include_in_schema=False)
SOURCES = {
    "ofn": "Open Food Network (commandes enregistrées de l'API v0, .json)",
    "dfc": "Data Food Consortium (catalogue, commandes ou disponibilités, JSON-LD)",
}
TABLES_FR = {
    "orders": "commandes",
    "sites": "sites",
    "producers": "fermes",
    "products": "produits",
    "availability": "disponibilités",
    "producer_crops": "cultures des fermes",
}


def _source(source: str) -> str:
    if source not in SOURCES:
        raise not_found()
    return source


def _page(request: Request, user, territory_id: str, **context) -> HTMLResponse:
    status = context.pop("status_code", 200)
    return render(
        request,
        "imports.html",
        user=user,
        territory_id=territory_id,
        status_code=status,
        sources=SOURCES,
        tables_fr=TABLES_FR,
        **context,
    )


@router.get("/t/{territory_id}/import", response_class=HTMLResponse)
def import_form(request: Request, territory_id: str) -> HTMLResponse:
    user = territory_user(request, territory_id, "planner")
    return _page(request, user, territory_id)


async def _upload(request: Request, user, max_bytes: int) -> tuple[dict[str, str], bytes, str]:
    """The form's fields, its file's bytes (at most ``max_bytes``) and the file's name."""
    async with request.form(max_files=1, max_fields=6) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        fields = {k: str(v)[:16] for k, v in form.items() if not isinstance(v, UploadFile)}
        upload = form.get("file")
        content = b""
        if isinstance(upload, UploadFile):
            content = await upload.read(max_bytes + 1)
        name = (upload.filename or "fichier") if isinstance(upload, UploadFile) else "fichier"
    if len(content) > max_bytes:
        raise InputTooLarge(
            [RowError(file=name, row=None, column=None, message=f"over {max_bytes:,} bytes")]
        )
    return fields, content, name


@router.post("/t/{territory_id}/import", response_class=HTMLResponse)
async def import_run(request: Request, territory_id: str) -> HTMLResponse:
    """Check the file (``mode=check``: nothing stored) or import it (a new version)."""
    from api.http.interop import _run
    from api.interop.graph import MAX_BYTES

    user = territory_user(request, territory_id, "planner")
    try:
        fields, content, name = await _upload(request, user, MAX_BYTES)
    except VivresError as exc:
        return _page(request, user, territory_id, status_code=413, message=error_fr(exc))
    source = _source(fields.get("source", ""))
    dry_run = fields.get("mode", "check") != "import"
    context = {"form": fields, "filename": name}
    if not content:
        return _page(
            request,
            user,
            territory_id,
            status_code=422,
            message="Choisissez un fichier.",
            **context,
        )
    store = request.app.state.store
    try:
        done = await run_in_threadpool(_run, store, territory_id, source, content, dry_run)
    except (VivresError, store_t.NotFound) as exc:
        return _page(request, user, territory_id, status_code=422, message=error_fr(exc), **context)
    report = done.report
    unmapped = [
        {"id": u.get("@id", ""), "type": u.get("type", ""), "why": text_fr(u.get("why", ""))}
        for u in report.get("unmapped", [])
    ]
    return _page(
        request,
        user,
        territory_id,
        report=report,
        unmapped=unmapped,
        notes=[text_fr(n) for n in report.get("notes", [])],
        version=done.version,
        **context,
    )


@router.get("/t/{territory_id}/import/{source}/correspondances.csv")
def mapping_file(request: Request, territory_id: str, source: str) -> Response:
    """The source's correspondence table as the last import left it (rows with an empty
    ``our_id`` are still to fill in)."""
    territory_user(request, territory_id, "planner")
    source = _source(source)
    try:
        content = store_t.table_content(
            request.app.state.store, territory_id, f"interop_{source}_mapping"
        )
    except store_t.NotFound:
        raise not_found(
            "Pas encore de table de correspondance : importez d'abord un fichier de cette source."
        ) from None
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="correspondances_{source}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/t/{territory_id}/import/correspondances", response_class=HTMLResponse)
async def mapping_upload(request: Request, territory_id: str) -> HTMLResponse:
    """Store the completed correspondence table (checked as the command line reads it)."""
    from api.http.interop import MAX_MAPPING_BYTES, _put_mapping

    user = territory_user(request, territory_id, "planner")
    try:
        fields, content, name = await _upload(request, user, MAX_MAPPING_BYTES)
    except VivresError as exc:
        return _page(request, user, territory_id, status_code=413, message=error_fr(exc))
    source = _source(fields.get("source", ""))
    if not content:
        return _page(request, user, territory_id, status_code=422, message="Choisissez un fichier.")
    store = request.app.state.store
    try:
        done = await run_in_threadpool(_put_mapping, store, territory_id, source, content)
    except (VivresError, store_t.NotFound) as exc:
        message = error_fr(exc) if isinstance(exc, VivresError) else "Territoire inconnu."
        return _page(request, user, territory_id, status_code=422, message=message)
    rows = done.report["mapping_rows"]
    return _page(
        request,
        user,
        territory_id,
        saved=f"{name} : {rows} correspondance{'s' if rows > 1 else ''} enregistrée"
        f"{'s' if rows > 1 else ''} (version {done.version} des données). Relancez l'import.",
    )
