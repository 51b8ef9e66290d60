"""The hub's real week over HTTP: a ``week`` job (as ``vivres week``) and its files.

``POST /v1/territories/{territory_id}/weeks`` checks the request against the territory's
stored sites and products (an order for an unknown shop or product, a date outside the week,
a week without orders: 422 naming the JSON field) and queues the job; the runner
(``api.jobs.runners.run_week``) calls the same ``api.week`` functions as the command line.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from api import params as door
from api.http.deps import READ_RESULTS, Caller, get_store, require
from api.http.problems import responses
from api.http.results import file_routes
from api.http.schemas import JobOut, OutputLang, Strict
from api.store import territories as store_t
from core.errors import InputError, RowError
from core.schema import POINT_OF_SALE_KINDS, UNITS

router = APIRouter(prefix="/v1", tags=["week"])
R = responses(401, 403, 404, 409, 422)
TerritoryId = Annotated[str, Path(min_length=1, max_length=64)]
JobId = Annotated[str, Path(min_length=1, max_length=36, description="id of a finished job")]


class WeekOrder(Strict):
    """One order line of the week (the columns of orders.csv)."""

    date: str = Field(..., min_length=10, max_length=10, description="YYYY-MM-DD")
    site_id: str = Field(..., min_length=1, max_length=64)
    product_id: str = Field(..., min_length=1, max_length=64)
    quantity: float = Field(..., ge=0, le=100_000)
    unit: str = Field(..., min_length=1, max_length=16, description=", ".join(UNITS))
    unit_price_eur: float | None = Field(None, ge=0, le=10_000)


class WeekWhatIf(Strict):
    """A change of the week's supply, solved beside the week as it is."""

    farms: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=200, description="farms (site or producer ids) out"
    )
    products: dict[str, float] = Field(
        default_factory=dict,
        max_length=200,
        description="product → share of its supply (0.6 = 60 %)",
    )


class WeekRequest(Strict):
    """Route one delivery week from its orders (as ``vivres week``)."""

    week: str = Field(
        ..., min_length=7, max_length=10, description="ISO week (2025-W50) or a date in it"
    )
    orders: list[WeekOrder] = Field(
        default_factory=list,
        max_length=50_000,
        description="this week's orders (default: the territory's orders dated in the week)",
    )
    sharing: str = Field("maxmin", max_length=16, description="maxmin or proportional")
    plan_job_id: str | None = Field(
        None, max_length=36, description="supply of unconfirmed products from this plan's harvest"
    )
    carry_job_id: str | None = Field(
        None, max_length=36, description="carry the fill rates of this earlier week job"
    )
    time_limit_s: float | None = Field(None, ge=0.5, le=3600, description="routing cap (s)")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, strict=True)
    knobs: dict[str, Any] = Field(
        default_factory=dict, max_length=64, description="routing.RouteParams fields"
    )
    what_if: WeekWhatIf | None = Field(
        None, description="also solve the week with this change (what_if/ + what_if_compare)"
    )
    lang: OutputLang = "fr"


def _body_error(column: str, message: str, value: object = None) -> InputError:
    return InputError(
        [RowError(file="body", row=None, column=column, message=message, value=value)]
    )


def _stored(store, territory_id: str, table: str, **read) -> pd.DataFrame | None:
    try:
        content = store_t.table_content(store, territory_id, table)
    except store_t.NotFound:
        return None
    return pd.read_csv(io.BytesIO(content), **read)


def check_week(store, territory_id: str, body: WeekRequest) -> dict:
    """The job's options, once every field is known to be usable (422 otherwise)."""
    from api import week as wk

    store_t.territory_row(store, territory_id)  # unknown territory: 404
    try:
        monday = wk.parse_week(body.week, field_name="week")
    except InputError:
        raise _body_error("week", "expected an ISO week (2025-W50) or a date", body.week) from None
    try:
        door.share_params(method=body.sharing)
    except InputError:
        raise _body_error("sharing", "must be maxmin or proportional", body.sharing) from None
    params = body.model_dump(exclude_none=True)
    try:
        door.route_params_of(params)
    except InputError as exc:
        raise _body_error("knobs", str(exc)) from None
    end = monday + pd.Timedelta(days=7)
    if body.what_if is not None:
        _check_what_if(store, territory_id, body.what_if)
    if body.orders:
        sites = _stored(store, territory_id, "sites", dtype=str, keep_default_na=False)
        products = _stored(store, territory_id, "products", dtype=str, keep_default_na=False)
        shops = set(sites.loc[sites["kind"].isin(POINT_OF_SALE_KINDS), "site_id"])
        known = set(products["product_id"])
        errors = []
        for i, line in enumerate(body.orders):
            try:
                day = pd.Timestamp(line.date)
            except ValueError:
                day = None
            checks = (
                ("site_id", line.site_id in shops, "must be a point of sale of the territory"),
                ("product_id", line.product_id in known, "must be a product of the catalogue"),
                ("unit", line.unit in UNITS, f"must be one of {', '.join(UNITS)}"),
                ("date", day is not None and monday <= day < end, "must be in the week"),
            )
            errors += [
                RowError(
                    file="body",
                    row=None,
                    column=f"orders[{i}].{name}",
                    message=message,
                    value=getattr(line, name),
                )
                for name, ok, message in checks
                if not ok
            ]
        if errors:
            raise InputError(errors[:100])
    else:
        dates = _stored(store, territory_id, "orders", usecols=["date"])
        day = pd.to_datetime(dates["date"], errors="coerce") if dates is not None else None
        if day is None or not ((day >= monday) & (day < end)).any():
            raise _body_error("week", f"no order in week {wk.week_label(monday)}", body.week)
    params["week_start"] = str(monday.date())
    return params


def _check_what_if(store, territory_id: str, what_if: WeekWhatIf) -> None:
    sites = _stored(store, territory_id, "sites", dtype=str, keep_default_na=False)
    producers = _stored(store, territory_id, "producers", dtype=str, keep_default_na=False)
    products = _stored(store, territory_id, "products", dtype=str, keep_default_na=False)
    farms = set(sites.loc[sites["kind"] == "farm", "site_id"]) | set(producers["producer_id"])
    errors = [
        RowError(
            file="body",
            row=None,
            column=f"what_if.farms[{i}]",
            message="must be a farm or producer of the territory",
            value=farm,
        )
        for i, farm in enumerate(what_if.farms)
        if farm not in farms
    ]
    for product, share in what_if.products.items():
        if product not in set(products["product_id"]):
            errors.append(
                RowError(
                    file="body",
                    row=None,
                    column=f"what_if.products.{product[:64]}",
                    message="must be a product of the catalogue",
                )
            )
        elif not 0 <= share <= 10:
            errors.append(
                RowError(
                    file="body",
                    row=None,
                    column=f"what_if.products.{product}",
                    message="a share between 0 and 10",
                    value=share,
                )
            )
    if errors:
        raise InputError(errors[:100])


@router.post(
    "/territories/{territory_id}/weeks", response_model=JobOut, status_code=202, responses=R
)
def solve_week(
    request: Request, caller: Caller, territory_id: TerritoryId, body: WeekRequest
) -> JobOut:
    """Queue a delivery week: fair sharing of what is short, routes, sheets (planner,
    logistics); returns the job at once."""
    from api import jobs
    from api.http.territories import check_source

    require(caller, "planner", "logistics")
    store = get_store(request)
    params = check_week(store, territory_id, body)
    check_source(request, territory_id, params.get("plan_job_id"), "plan")
    try:
        check_source(request, territory_id, params.get("carry_job_id"), "week")
    except InputError as exc:  # it names the field after the kind: week_job_id
        first = exc.errors[0]
        raise _body_error("carry_job_id", first.message) from None
    job = jobs.submit(store, territory_id, "week", params)
    return JobOut.model_validate(job)


@router.get("/weeks/{job_id}", response_model=JobOut, responses=R)
async def week_result(request: Request, caller: Caller, job_id: JobId) -> Response:
    """A finished week: kilos delivered and reported per reason, fill rates (planner,
    logistics)."""
    from api.http.results import _summary, finished

    require(caller, *READ_RESULTS)
    return _summary(request, finished(request, job_id, "week"))


# names of the week's stored files (allocation, sheets in feuilles/, routes/) and one of them
file_routes(router, "week", "weeks", "week", "delivery week")
