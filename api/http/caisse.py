"""The caisses communes of a territory over HTTP (planner): balance, contributions, grid,
the credit file, sizing. The same pipeline stage as ``vivres caisse``."""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from api.http.deps import Caller, Rows, get_store, require
from api.http.frames import page
from api.http.problems import responses
from api.http.schemas import RowsPage, Strict
from api.http.territories import TerritoryId
from api.store import territories as store_t
from core.errors import InputError
from core.safety import neutralise_csv

router = APIRouter(prefix="/v1", tags=["caisse"])
R = responses(401, 403, 404, 422)

CaisseTable = Literal["balance", "contributions", "solidarity", "grid"]


def _tables_of(territory) -> list:
    """The tables a territory holds."""
    import dataclasses

    return [getattr(territory, f.name) for f in dataclasses.fields(territory)]


def _stage(request: Request, territory_id: str):
    """The territory's caisse stage, computed once per stored version (cached)."""
    from api import pipeline

    store = get_store(request)
    row = store_t.territory_row(store, territory_id)
    key = ("caisse", territory_id, row.created_at, row.version)
    cache = request.app.state.results
    stage = cache.get(key)
    if stage is None:
        with store_t.checked_out(store, territory_id) as (folder, _):
            stage = pipeline.run_caisse(pipeline.load(folder, strict=False))
        # the stage keeps its territory too (credits and what-ifs read it): count its tables
        held = [stage.balance, stage.contributions, stage.grid]
        held += [f for f in _tables_of(stage.territory) if isinstance(f, pd.DataFrame)]
        size = sum(f.size for f in held)
        cache.put(key, stage, 64 * size + 4096)
    return stage


@router.get("/territories/{territory_id}/caisse/{table}", response_model=RowsPage, responses=R)
def caisse_table(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    table: CaisseTable,
    rows: Rows,
    caisse_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    """A caisse table of the territory (planner): ``balance`` (cash month by month, per caisse),
    ``contributions`` (against the minimum, by band of means), ``solidarity`` (allocations −
    contributions by band), ``grid`` (the conventionnement verdicts and why)."""
    require(caller, "planner")
    stage = _stage(request, territory_id)
    frame = getattr(stage, table)
    if table == "contributions":
        frame = frame.drop(columns="row")
    return page(frame, {"caisse_id": caisse_id}, rows)


@router.get(
    "/territories/{territory_id}/caisse-credits",
    response_class=Response,
    responses={**R, 200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def caisse_credits(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    caisse_id: Annotated[str, Query(min_length=1, max_length=64)],
    month: Annotated[
        str, Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, 1900-2099")
    ],
) -> Response:
    """The payment operator's credit file for one caisse and month, as CSV (planner)."""
    from demand.caisses import credit_file, members_of

    require(caller, "planner")
    stage = _stage(request, territory_id)
    households = stage.territory.households
    if households is None:
        raise InputError("this territory has no households.csv")
    members = members_of(households, stage.caisses, caisse_id)
    table = credit_file(stage.caisses[caisse_id], members, pd.Timestamp(f"{month}-01"))
    body = neutralise_csv(table).to_csv(index=False)
    return Response(body, media_type="text/csv; charset=utf-8")


class ApproveOut(Strict):
    """What would make a shop approvable by a caisse: the fewest added points."""

    caisse_id: str
    site_id: str
    approvable: bool
    raise_points: list[dict]


@router.get("/territories/{territory_id}/caisse-approve", response_model=ApproveOut, responses=R)
def caisse_approve(
    request: Request,
    caller: Caller,
    territory_id: TerritoryId,
    caisse_id: Annotated[str, Query(min_length=1, max_length=64)],
    site_id: Annotated[str, Query(min_length=1, max_length=64)],
) -> ApproveOut:
    """The criteria a shop must raise, and to how many points, to be approved (planner)."""
    from demand.grid import to_approve

    require(caller, "planner")
    stage = _stage(request, territory_id)
    if caisse_id not in stage.caisses:
        raise InputError(f"unknown caisse {caisse_id!r}; known: {', '.join(sorted(stage.caisses))}")
    territory = stage.territory
    if territory.caisse_criteria is None or territory.shop_assessments is None:
        raise InputError("this territory has no grid (caisse_criteria.csv, shop_assessments.csv)")
    plan = to_approve(
        territory.caisse_criteria,
        territory.shop_assessments,
        caisse_id,
        site_id,
        stage.caisses[caisse_id].approval_threshold_pct,
    )
    return ApproveOut(
        caisse_id=caisse_id,
        site_id=site_id,
        approvable=plan.empty,
        raise_points=[
            {k: (int(v) if k.endswith("points") else v) for k, v in r.items()}
            for r in plan.to_dict(orient="records")
        ],
    )


class SizeRequest(Strict):
    """How many people a budget of allocations carries."""

    budget_eur: float = Field(ge=0, le=1e12)
    rule: str = Field(min_length=1, max_length=50, description="'100/person' or '100+50'")
    months: int = Field(ge=1, le=600)
    territory_id: str | None = Field(
        default=None,
        max_length=64,
        description="a territory whose households give the mix of sizes",
    )


class SizeOut(Strict):
    people: int
    households: int | None
    months: int
    budget_eur: float
    allocation_eur_per_month: float
    rule: str


@router.post("/caisse/size", response_model=SizeOut, responses=R)
def caisse_size(request: Request, caller: Caller, body: SizeRequest) -> SizeOut:
    """Sizing (planner): people (and households of the territory's mix) a budget carries."""
    from api.http.access import ensure_territory
    from demand.caisse import parse_rule
    from demand.caisses import size_for_budget

    require(caller, "planner")
    sizes = None
    if body.territory_id is not None:
        ensure_territory(caller, body.territory_id)  # outside the key's scope: 404
        store = get_store(request)
        with store_t.checked_out(store, body.territory_id) as (folder, _):
            from api import pipeline

            households = pipeline.load(folder, strict=False).households
        if households is None:
            raise InputError("this territory has no households.csv: no mix of sizes")
        sizes = households["size"]
    sized = size_for_budget(body.budget_eur, parse_rule(body.rule), body.months, sizes)
    return SizeOut(**sized.as_dict())
