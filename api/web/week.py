"""The hub's real week (a ``week`` job, as ``vivres week``): the form that runs it, and what
each shop gets of each product against its order — fair sharing of what is short, fill
rates per shop and product, the hub's storage use — printable on A4."""

from __future__ import annotations

import io

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.store import territories as store_t
from api.web.base import checked, not_found, queue_job, render, territory_user
from api.web.jobs_view import recent_jobs, territory_job
from api.web.messages import text_fr
from api.web.session import CSRF_FIELD, check_csrf
from api.web.stored import artifact_frame, artifact_frame_table, artifact_json, latest_jobs
from core.errors import InputError

router = APIRouter(include_in_schema=False)
STAFF = ("planner", "logistics")
SHARING_FR = {
    "maxmin": "partage équitable (le taux de service le plus bas, le plus haut possible)",
    "proportional": "au prorata des commandes",
}
SOURCE_FR = {
    "availability": "confirmé par les fermes",
    "plan": "récolte du plan de saison",
    "orders": "non confirmé (livré comme commandé)",
    "hub": "acheté par le pôle",
}
CLASS_FR = {"ambient": "sec", "fresh": "frais", "chilled": "réfrigéré", "frozen": "surgelé"}


# ----------------------------------------------------------------------------- the form


def order_weeks(request: Request, territory_id: str) -> list[dict]:
    """The weeks with stored orders (their Monday, ISO label, number of order lines), newest
    first; cached per territory version."""
    row = store_t.territory_row(request.app.state.store, territory_id)
    key = ("web-order-weeks", territory_id, row.created_at, row.version)
    hit = request.app.state.results.get(key)
    if hit is not None:
        return hit
    try:
        content = store_t.table_content(request.app.state.store, territory_id, "orders")
        dates = pd.read_csv(io.BytesIO(content), usecols=["date"])["date"]
    except (store_t.NotFound, ValueError):
        dates = pd.Series([], dtype=str)
    day = pd.to_datetime(dates, errors="coerce").dropna()
    monday = (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.normalize()
    counts = monday.value_counts().sort_index(ascending=False)
    confirmed = _confirming_farms(request, territory_id)
    weeks = [
        {
            "monday": m.date(),
            "label": f"{m.isocalendar().year}-W{m.isocalendar().week:02d}",
            "lines": int(n),
            "farms": confirmed.get(str(m.date()), 0),
        }
        for m, n in counts.items()
    ]
    request.app.state.results.put(key, weeks, 16 * 1024)
    return weeks


def _confirming_farms(request: Request, territory_id: str) -> dict[str, int]:
    """Per week (its Monday), how many farms confirmed their kilos (``availability.csv``)."""
    try:
        table = artifact_frame_table(request, territory_id, "availability")
    except store_t.NotFound:
        return {}
    sites = artifact_frame_table(request, territory_id, "sites")
    farms = set(sites.loc[sites["kind"] == "farm", "site_id"])
    table = table.loc[table["site_id"].isin(farms)]
    return {str(k): int(v) for k, v in table.groupby("week_start")["site_id"].nunique().items()}


def _form_context(request: Request, territory_id: str) -> dict:
    sites = artifact_frame_table(request, territory_id, "sites")
    products = artifact_frame_table(request, territory_id, "products")
    return {
        "farms": sites.loc[sites["kind"] == "farm", ["site_id", "name"]].to_dict("records"),
        "products": products[["product_id", "name"]].to_dict("records"),
        "territory_id": territory_id,
        "weeks": order_weeks(request, territory_id),
        "plans": [
            j for j in latest_jobs(request, territory_id, "plan", limit=20) if not j.scenario_id
        ],
        "past_weeks": latest_jobs(request, territory_id, "week", limit=20),
        "jobs": recent_jobs(request, territory_id, kind="week", limit=20),
        "sharing_fr": SHARING_FR,
    }


@router.get("/t/{territory_id}/semaine", response_class=HTMLResponse)
def week_form(request: Request, territory_id: str) -> HTMLResponse:
    """Run the real week: its Monday, how shortages are shared, where unconfirmed supply
    comes from, the fill rates carried from an earlier week."""
    user = territory_user(request, territory_id, *STAFF)
    return render(request, "week_form.html", user=user, **_form_context(request, territory_id))


FIELDS = (
    "week",
    "sharing",
    "plan_job_id",
    "carry_job_id",
    "whatif_farm",
    "whatif_product",
    "whatif_pct",
)


def _what_if_of(fields: dict[str, str]) -> dict:
    """The week's what-if (``WeekWhatIf``) from the form: a farm out, a product's supply at a
    share; empty: none."""
    what_if: dict = {}
    if fields["whatif_farm"]:
        what_if["farms"] = [fields["whatif_farm"]]
    text = fields["whatif_pct"].replace(",", ".").replace("\u202f", "").replace(" ", "")
    if text or fields["whatif_product"]:
        if not fields["whatif_product"]:
            raise InputError("Et si : choisissez le produit dont l'approvisionnement change")
        try:
            share = float(text) / 100
        except ValueError:
            raise InputError(
                f"Et si : « {fields['whatif_pct'][:20]} » n'est pas un pourcentage"
            ) from None
        if not 0 <= share <= 10:
            raise InputError("Et si : un pourcentage entre 0 et 1000")
        what_if["products"] = {fields["whatif_product"]: share}
    return what_if


@router.post("/t/{territory_id}/semaine")
async def week_run(request: Request, territory_id: str):
    """Check the week as ``POST /v1/territories/{t}/weeks`` does, queue it, follow it."""
    from api.http.territories import check_source
    from api.http.week import WeekRequest, check_week
    from api.week import week_label

    user = territory_user(request, territory_id, *STAFF)
    async with request.form(max_files=0, max_fields=12) as form:
        check_csrf(user, form.get(CSRF_FIELD))
        fields = {name: str(form.get(name, "") or "").strip()[:64] for name in FIELDS}

    def check() -> dict:
        request_fields: dict = {k: fields[k] for k in FIELDS[:4] if fields[k]}
        what_if = _what_if_of(fields)
        if what_if:
            request_fields["what_if"] = what_if
        body = WeekRequest.model_validate(request_fields)
        params = check_week(request.app.state.store, territory_id, body)
        # named as the API's callers name it (2025-W02), whichever way it was chosen
        params["week"] = week_label(pd.Timestamp(params["week_start"]))
        return params

    params, problems = checked(check)
    if problems:
        return render(
            request,
            "week_form.html",
            status_code=422,
            user=user,
            problems=problems,
            form=fields,
            **_form_context(request, territory_id),
        )

    def check_sources(p: dict) -> None:
        check_source(request, territory_id, p.get("plan_job_id"), "plan")
        check_source(request, territory_id, p.get("carry_job_id"), "week")

    return queue_job(request, user, territory_id, "week", params, check_sources)


# ----------------------------------------------------------------------------- the result


def _rate(num: float, den: float) -> float | None:
    return float(num) / float(den) if den and den > 1e-9 else None


def allocation_view(request: Request, territory_id: str, job) -> dict:
    """What the allocation page shows of a week job; cached per job."""
    cache = request.app.state.results
    hit = cache.get(("web-allocation", job.job_id))
    if hit is not None:
        return hit
    lines = artifact_frame(request, job.job_id, "allocation.csv")
    products = artifact_frame(request, job.job_id, "products.csv")
    shops = artifact_frame(request, job.job_id, "shops.csv")
    summary = artifact_json(request, job.job_id, "week.json") or {}
    if lines is None or products is None or shops is None:
        raise not_found("Cette semaine n'a pas de tableau d'allocation.")
    sites = artifact_frame_table(request, territory_id, "sites")
    catalogue = artifact_frame_table(request, territory_id, "products")
    site_name = dict(zip(sites["site_id"], sites["name"], strict=True))
    product_name = dict(zip(catalogue["product_id"], catalogue["name"], strict=True))
    lines = lines.fillna({"fleet_reason": ""})
    detail = []
    for site_id, part in lines.groupby("site_id", sort=True):
        rows = [
            {
                "product": product_name.get(r["product_id"], r["product_id"]),
                "storage_class": CLASS_FR.get(r["storage_class"], r["storage_class"]),
                "ordered_kg": r["ordered_kg"],
                "allocated_kg": r["allocated_kg"],
                "delivered_kg": r["delivered_kg"],
                "fill": _rate(r["allocated_kg"], r["ordered_kg"]),
                "why": _gap_reasons(r),
            }
            for r in part.sort_values("product_id").to_dict("records")
        ]
        detail.append({"site_id": site_id, "name": site_name.get(site_id, site_id), "rows": rows})
    product_rows = [
        {
            "name": product_name.get(r["product_id"], r["product_id"]),
            "source": SOURCE_FR.get(str(r.get("source")), str(r.get("source") or "")),
            "ordered_kg": r["ordered_kg"],
            "available_kg": r["available_kg"],
            "allocated_kg": r["allocated_kg"],
            "short_kg": r["short_kg"],
            "fill": _rate(r["allocated_kg"], r["ordered_kg"]),
        }
        for r in products.sort_values("product_id").to_dict("records")
    ]
    shop_rows = [
        {
            "name": site_name.get(r["site_id"], r["site_id"]),
            "ordered_kg": r["all_ordered_kg"],
            "allocated_kg": r["all_allocated_kg"],
            "delivered_kg": r["all_delivered_kg"],
            "fill": _rate(r["all_allocated_kg"], r["all_ordered_kg"]),
            "shared_fill": None if pd.isna(r.get("fill_rate")) else float(r["fill_rate"]),
            "delivered": _rate(r["all_delivered_kg"], r["all_ordered_kg"]),
        }
        for r in shops.sort_values("site_id").to_dict("records")
    ]
    what_if, what_if_shops = _what_if_view(request, job, site_name)
    view = {
        "what_if": what_if,
        "what_if_shops": what_if_shops,
        "what_if_label": _what_if_label(job, site_name, product_name),
        "summary": summary,
        "products": product_rows,
        "shops": shop_rows,
        "detail": detail,
        "storage": _storage_use(request, territory_id, lines, sites),
        "shared": [product_name.get(p, p) for p in summary.get("shared_products", [])],
    }
    cache.put(("web-allocation", job.job_id), view, 512 * 1024)
    return view


WHAT_IF_FR = (
    ("delivered_kg", "Livré", "\u00a0kg", 1.0),
    ("min_fill_rate", "Taux de service le plus bas", "\u00a0%", 100.0),
    ("short_supply_kg", "Manque d'approvisionnement", "\u00a0kg", 1.0),
    ("fleet_kg", "Non livré (tournées complètes)", "\u00a0kg", 1.0),
    ("routes_km", "Distance des tournées", "\u00a0km", 1.0),
    ("routes_cost_eur", "Coût des tournées", "\u00a0€", 1.0),
)


def _what_if_view(request: Request, job, site_name: dict) -> tuple[list, list]:
    """The week as it is beside its what-if (``what_if_compare.json`` / ``.csv``), if any."""
    figures = artifact_json(request, job.job_id, "what_if_compare.json")
    if not figures:
        return [], []
    rows = [
        (label, unit, figures[key]["base"] * scale, figures[key]["what_if"] * scale)
        for key, label, unit, scale in WHAT_IF_FR
        if key in figures
    ]
    shops = artifact_frame(request, job.job_id, "what_if_compare.csv")
    per_shop = []
    if shops is not None:
        per_shop = [
            {
                "name": site_name.get(r["site_id"], r["site_id"]),
                "base": r["allocated_kg_base"],
                "other": r["allocated_kg_what_if"],
                "change": r["allocated_change_kg"],
            }
            for r in shops.sort_values("site_id").to_dict("records")
        ]
    return rows, per_shop


def _what_if_label(job, site_name: dict, product_name: dict) -> str:
    what_if = job.params.get("what_if") or {}
    parts = [f"{site_name.get(f, f)} ne livre pas" for f in what_if.get("farms", [])]
    parts += [
        f"{product_name.get(p, p)} à {share * 100:.0f} %".replace(".", ",")
        for p, share in (what_if.get("products") or {}).items()
    ]
    return " ; ".join(parts)


def _gap_reasons(line: dict) -> str:
    reasons = []
    if line["short_supply_kg"] > 0.05:
        reasons.append("approvisionnement insuffisant")
    if line["storage_kg"] > 0.05:
        reasons.append("stockage du pôle plein")
    if line["fleet_kg"] > 0.05:
        why = str(line.get("fleet_reason") or "")
        reasons.append("tournées complètes" + (f" ({_fleet_reason_fr(why)})" if why else ""))
    return " ; ".join(reasons)


def _fleet_reason_fr(why: str) -> str:
    return ", ".join(text_fr(w) for w in why.split(","))


def _storage_use(
    request: Request, territory_id: str, lines: pd.DataFrame, sites: pd.DataFrame
) -> list[dict]:
    """Per storage class: the week's allocated kilos held at the hub against its capacity
    (``storage.csv``; no table: no capacity shown) and the kilos cut for lack of room."""
    try:
        storage = artifact_frame_table(request, territory_id, "storage")
    except store_t.NotFound:
        storage = None
    hub = sites.loc[sites["kind"] == "hub", "site_id"]
    capacity: dict[str, float] = {}
    if storage is not None and len(hub):
        own = storage.loc[storage["site_id"] == hub.iloc[0]]
        capacity = {
            c: float(kg) for c, kg in zip(own["storage_class"], own["capacity_kg"], strict=True)
        }
    held = lines.groupby("storage_class")[["allocated_kg", "storage_kg"]].sum()
    return [
        {
            "storage_class": CLASS_FR.get(c, c),
            "allocated_kg": float(held.at[c, "allocated_kg"]),
            "capacity_kg": capacity.get(c),
            "use": _rate(held.at[c, "allocated_kg"], capacity.get(c, 0.0)),
            "cut_kg": float(held.at[c, "storage_kg"]),
        }
        for c in held.index
    ]


@router.get("/t/{territory_id}/semaine/{job_id}", response_class=HTMLResponse)
def week_allocation(request: Request, territory_id: str, job_id: str) -> Response:
    """What each shop gets of each product against its order, fill rates, storage use."""
    user = territory_user(request, territory_id, *STAFF)
    job = territory_job(request, territory_id, job_id, "week")
    if job.status != "succeeded":
        return RedirectResponse(f"/t/{territory_id}/travaux/{job_id}", status_code=303)
    try:
        view = allocation_view(request, territory_id, job)
    except (KeyError, InputError):
        raise not_found("Cette semaine n'a pas de tableau d'allocation lisible.") from None
    return render(
        request,
        "week_allocation.html",
        user=user,
        territory_id=territory_id,
        job=job,
        view=view,
        sharing_fr=SHARING_FR,
    )
