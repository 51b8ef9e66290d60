"""A producer confirms or changes what its farm will supply in a delivery week: the rows of the
territory's ``availability.csv`` for its own farm and that week (phone-friendly form).

Only the producer's own rows are written (another producer's page answers 404); the rest of
the table is kept as it is. The whole table is stored through the API's ``put_table`` (the
same checks as an upload); a bad value is shown beside its field and nothing is stored. The
next week job reads the stored table like any other.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
from datetime import date, timedelta

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.store import territories as store_t
from api.web.base import PageError, not_found, producer_user, render
from api.web.messages import errors_fr
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import artifact_frame, artifact_frame_table, latest_jobs
from core.errors import VivresError
from core.safety import ID_PATTERN

router = APIRouter(include_in_schema=False)
_ID = re.compile(ID_PATTERN)
MAX_KG = 1e7
MAX_ATTEMPTS = 5
COLUMNS = ["week_start", "site_id", "product_id", "kg"]
#: one writer at a time per process (the table is read, changed and stored whole)
_WRITING = threading.Lock()


def default_monday(today: date) -> date:
    """The delivery week a producer confirms: this week's Monday, next week's from Saturday."""
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7) if today.weekday() >= 5 else monday


def _monday_of(text: str | None) -> date:
    if not text:
        return default_monday(date.today())
    try:
        day = date.fromisoformat(text)
    except ValueError:
        message = f"Semaine : une date AAAA-MM-JJ (un lundi) ; reçu « {text[:20]} »."
        raise PageError(422, message) from None
    if day.weekday() != 0:
        raise PageError(422, "Semaine : la date doit être un lundi.")
    return day


def _farm_of(request: Request, territory_id: str, producer_id: str) -> dict:
    if not _ID.match(producer_id):
        raise not_found()
    producers = artifact_frame_table(request, territory_id, "producers")
    row = producers.loc[producers["producer_id"] == producer_id]
    if row.empty:
        raise not_found()
    return row.iloc[0].to_dict()


def _stored(request: Request, territory_id: str) -> tuple[pd.DataFrame, str]:
    """The stored table and the sha256 of its bytes (``""``: no table yet)."""
    try:
        content = store_t.table_content(request.app.state.store, territory_id, "availability")
    except store_t.NotFound:
        return pd.DataFrame(columns=COLUMNS), ""
    table = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)[COLUMNS]
    return table, hashlib.sha256(content).hexdigest()


def _products_of(request: Request, territory_id: str, producer_id: str, kept: set[str]) -> list:
    """The products the producer grows (producer_crops → crops), and any it already
    confirmed, as (product_id, name, unit) in catalogue order."""
    crops = artifact_frame_table(request, territory_id, "crops")
    grows = artifact_frame_table(request, territory_id, "producer_crops")
    catalogue = artifact_frame_table(request, territory_id, "products")
    own = set(grows.loc[grows["producer_id"].isin([producer_id, "*"]), "crop_id"])
    ids = set(crops.loc[crops["crop_id"].isin(own), "product_id"]) | kept
    return [
        {"product_id": p, "name": n}
        for p, n in zip(catalogue["product_id"], catalogue["name"], strict=True)
        if p in ids
    ]


def _planned(request: Request, territory_id: str, producer_id: str, monday: date) -> dict:
    """The kilos the newest plan expects of the producer that week, per product."""
    plans = [j for j in latest_jobs(request, territory_id, "plan", limit=5) if not j.scenario_id]
    if not plans:
        return {}
    table = artifact_frame(request, plans[0].job_id, f"contracts/{producer_id}.csv")
    if table is None or "section" not in table:
        return {}
    part = table.loc[(table["section"] == "delivery") & (table["week_start"] == str(monday))]
    return {str(k): float(v) for k, v in part.groupby("product_id")["kg"].sum().items()}


def _context(request: Request, territory_id: str, producer_id: str, monday: date) -> dict:
    farm = _farm_of(request, territory_id, producer_id)
    stored, _ = _stored(request, territory_id)
    this_week = stored["week_start"] == str(monday)
    mine = stored.loc[(stored["site_id"] == farm["site_id"]) & this_week]
    confirmed = dict(zip(mine["product_id"], mine["kg"], strict=True))
    planned = _planned(request, territory_id, producer_id, monday)
    products = _products_of(request, territory_id, producer_id, set(confirmed))
    for p in products:
        p["confirmed"] = confirmed.get(p["product_id"])
        p["planned_kg"] = planned.get(p["product_id"])
    return {
        "territory_id": territory_id,
        "producer_id": producer_id,
        "farm": farm,
        "monday": monday,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "products": products,
        "num_confirmed": len(confirmed),
    }


@router.get(
    "/t/{territory_id}/producteurs/{producer_id}/disponibilites", response_class=HTMLResponse
)
def availability_form(
    request: Request, territory_id: str, producer_id: str, semaine: str | None = None
) -> HTMLResponse:
    """The week's products with the kilos confirmed (or, to confirm, the plan's)."""
    user = producer_user(request, territory_id, producer_id)
    context = _context(request, territory_id, producer_id, _monday_of(semaine))
    values = {
        p["product_id"]: _shown(p["confirmed"] if p["confirmed"] is not None else p["planned_kg"])
        for p in context["products"]
    }
    return render(request, "availability.html", user=user, values=values, **context)


def _shown(kg) -> str:
    if kg is None or kg == "":
        return ""
    text = f"{float(kg):.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def parse_kg(text: str) -> float | None:
    """A form's kilos: French or English decimals, spaces allowed; empty → None; raise
    ValueError with the French reason."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError("n'est pas un nombre") from None
    if not math.isfinite(value):
        raise ValueError("n'est pas un nombre")
    if value < 0:
        raise ValueError("doit être positif ou nul")
    if value > MAX_KG:
        raise ValueError(f"au plus {MAX_KG:,.0f} kg".replace(",", "\u202f"))
    return value


@router.post(
    "/t/{territory_id}/producteurs/{producer_id}/disponibilites", response_class=HTMLResponse
)
async def availability_save(request: Request, territory_id: str, producer_id: str) -> HTMLResponse:
    """Store the farm's rows of the week (empty field: no row, the product is not
    confirmed); any bad value → the form again with its errors, nothing stored."""
    from fastapi.concurrency import run_in_threadpool

    user = producer_user(request, territory_id, producer_id)
    async with request.form(max_files=0, max_fields=400) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    monday = _monday_of(fields.get("semaine"))
    context = _context(request, territory_id, producer_id, monday)
    known = {p["product_id"]: p["name"] for p in context["products"]}
    values = {p: fields.get(f"kg_{p}", "")[:32] for p in known}
    errors: dict[str, str] = {}
    rows = []
    for name in fields:
        if name.startswith("kg_") and name[3:] not in known:
            raise not_found("Ce produit n'est pas proposé par cette ferme.")
    for product_id, text in values.items():
        try:
            kg = parse_kg(text)
        except ValueError as exc:
            errors[product_id] = f"« {text.strip()[:20]} » {exc}"
            continue
        if kg is not None:
            rows.append((str(monday), context["farm"]["site_id"], product_id, kg))
    problems: list[str] = []
    if not errors:
        try:
            await run_in_threadpool(_store, request, territory_id, context["farm"], monday, rows)
        except (VivresError, store_t.NotFound) as exc:
            problems = errors_fr(exc)
    if errors or problems:
        return render(
            request,
            "availability.html",
            status_code=422,
            user=user,
            values=values,
            errors=errors,
            problems=problems,
            **context,
        )
    context = _context(request, territory_id, producer_id, monday)
    return render(
        request,
        "availability.html",
        user=user,
        values=values,
        saved=len(rows),
        **context,
    )


def _store(request: Request, territory_id: str, farm: dict, monday: date, rows: list) -> None:
    """Replace the farm's rows of the week in the stored table (the other rows kept): read,
    change, store if nobody stored the table in between (another process, another farm),
    else again from the new table."""
    for _attempt in range(MAX_ATTEMPTS):
        with _WRITING:
            stored, sha = _stored(request, territory_id)
            others = stored.loc[
                ~((stored["site_id"] == farm["site_id"]) & (stored["week_start"] == str(monday)))
            ]
            mine = pd.DataFrame(rows, columns=COLUMNS).astype({"kg": str})
            table = pd.concat([others, mine], ignore_index=True).sort_values(
                ["week_start", "site_id", "product_id"], kind="mergesort"
            )
            upload = store_t.Upload(
                table="availability",
                content=table.to_csv(index=False).encode("utf-8"),
                format="csv",
            )
            try:
                store_t.put_table(request.app.state.store, territory_id, upload, if_sha256=sha)
                return
            except store_t.Changed:
                continue
    raise PageError(409, "Le tableau des disponibilités change sans cesse : réessayez.")
