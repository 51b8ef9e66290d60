"""The season plan as a MILP: integer beds per planting option, no assignment binaries.

Decisions and their blocks of columns (see :class:`Blocks`):

- ``beds[o]`` — whole beds planted for option o = (farm, crop, planting week); integer, and
  semi-integer (0 or at least ``min_beds``) where the crop has a minimum planting size;
- ``harvest[p, t]`` — kilos of product p harvested in week t (follows from the beds and the crop
  calendar); ``stock[p, t]`` — kilos kept at the end of week t; ``short[p, t]`` — demand not
  served; ``waste[p, t]`` — kilos discarded (unsold or past shelf life);
- ``land[f, l, t]`` and ``labour[f, t]`` — occupancy, bounded by the farm's land and hours;
- ``supply[p]``, ``excess[f, p]`` — a major product's season harvest and the part of one farm's
  share above the resilience cap; ``floor_gap[f]`` — the farm's fair revenue floor not reached.

Rows: harvest definition, weekly balance ``stock[t] = stock[t-1] + harvest[t] − (demand[t] −
short[t]) − waste[t]``, shelf life ``stock[t] ≤ Σ harvest of the last L weeks`` (FIFO: what is
in store is at most the last L weeks' harvest), land and labour occupancy in running-total form
(``occ[t] = occ[t−1] + planted at t − freed at t``, anchored once at week 0, so each bed
variable appears in two rows rather than in one row per occupied week), rotation per farm, land
type and family, resilience share caps, revenue floors and the optional purchase budget.

The model is built as sparse arrays (numpy/scipy) and handed to HiGHS as such; the PuLP model
(:func:`to_pulp`) is made from the same arrays, one ``LpAffineExpression`` per row from its term
list, for CBC or for writing an ``.lp``/``.mps`` file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.schema import LAND_TYPES
from core.territory import Territory
from planner.arrays import INTEGER, SEMI_INTEGER, ArrayModel, Block, Builder
from planner.commitments import base_beds
from planner.eligibility import apply_grid
from planner.inputs import PlanInputs, prepare_inputs
from planner.params import PlanParams
from planner.storage import add_storage_rows

log = logging.getLogger(__name__)

_ROTATION_LAND = ("open_field", "greenhouse")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanProblem:
    """A season plan ready to solve: the inputs and the MILP built from them."""

    inputs: PlanInputs
    model: ArrayModel
    params: PlanParams
    major_products: tuple[int, ...]  # positions p of the products under the resilience cap
    rotation: pd.DataFrame  # (f, land_type, family, cap_m2_weeks) of each rotation row
    build_s: float
    territory_name: str = ""
    budget_eur: float | None = None
    stats: dict = field(default_factory=dict)
    base_beds: np.ndarray | None = None  # a what-if's base plan on this model's options
    notes: tuple[str, ...] = ()  # what the report says about the inputs (the producer grid)


def build_plan_problem(
    territory: Territory,
    hub_demand: pd.DataFrame | None = None,
    *,
    params: PlanParams | None = None,
    base_plan: pd.DataFrame | None = None,
    spared_farms: Collection[str] = (),
) -> PlanProblem:
    """Build the season plan's MILP for a territory and its hub demand.

    Parameters
    ----------
    territory
        The validated territory (farms, crops, calendars, products).
    hub_demand
        Hub-level weekly demand (``week_start, product_id, kg``), e.g. the demand forecast's
        hub table; ``None`` uses the last year of orders.
    params
        Model rules and weights (defaults when omitted).
    base_plan
        A what-if's base plan (its ``plan`` table): each of its beds kept earns
        ``Weights.stability_eur_per_bed`` (the stability term). Frozen contracts come from the
        territory's ``contracts`` table and are always kept.
    spared_farms
        Farms of a what-if the change cannot reach: their base beds weigh
        ``Weights.stability_spared_factor`` times more in the stability term.
    """
    params = params or PlanParams()
    started = time.perf_counter()
    territory, notes, scores = apply_grid(territory, params)
    inputs = prepare_inputs(territory, hub_demand, params)
    base = (
        None
        if base_plan is None
        else base_beds(inputs.options, inputs.week_start, inputs.cyclic, base_plan)
    )
    score_f = inputs.farms["producer_id"].map(scores).fillna(0.0).to_numpy(float)
    keep_eur = None
    if base is not None:
        spared = inputs.options["producer_id"].isin(set(spared_farms)).to_numpy()
        w = params.weights
        keep_eur = w.stability_eur_per_bed * np.where(spared, w.stability_spared_factor, 1.0)
    model, major, rotation = _formulate(inputs, params, base, score_f, keep_eur)
    build_s = time.perf_counter() - started
    log.info(
        "plan model: %d columns (%d integer), %d rows, %d nonzeros, built in %.2f s",
        model.num_cols,
        model.num_int,
        model.num_rows,
        model.matrix.nnz,
        build_s,
    )
    return PlanProblem(
        inputs=inputs,
        model=model,
        params=params,
        major_products=major,
        rotation=rotation,
        build_s=build_s,
        territory_name=str(territory.folder.name),
        budget_eur=params.budget_eur,
        base_beds=base,
        notes=tuple(notes),
        stats={
            "options": len(inputs.options),
            "cols": model.num_cols,
            "int_vars": model.num_int,
            "rows": model.num_rows,
            "nonzeros": int(model.matrix.nnz),
            "frozen_options": int(inputs.frozen.fixed.sum()),
            "frozen_beds": int(np.nan_to_num(inputs.frozen.beds).sum()),
            "hub_name": str(territory.hub["name"]),
            "crop_names": dict(
                zip(territory.crops["crop_id"], territory.crops["name"], strict=True)
            ),
        },
    )


def _occupancy(
    b: Builder,
    name: str,
    groups: np.ndarray,
    num_groups: int,
    beds: Block,
    options: pd.DataFrame,
    rate: np.ndarray,
    capacity: np.ndarray,
    num_weeks: int,
    cyclic: bool,
) -> None:
    """Rows ``occ[g, t] = occ[g, t-1] + rate·beds started at t − rate·beds freed at t``.

    ``groups`` gives each option's group (farm × land type, or farm); the row of week 0 is the
    anchor: it sums every option occupying week 0 (including plantings wrapped from the end of
    the year), so the running total is exact rather than defined up to a constant.
    """
    occ = b.add_cols(name, (num_groups, num_weeks), upper=np.repeat(capacity, num_weeks))
    rows = b.add_rows(name, (num_groups, num_weeks), lower=0.0, upper=0.0)
    g_all = np.arange(num_groups)
    t_all = np.arange(num_weeks)
    gg, tt = np.meshgrid(g_all, t_all, indexing="ij")
    b.add_entries(rows.index(gg, tt), occ.index(gg, tt), 1.0)
    gg1, tt1 = gg[:, 1:], tt[:, 1:]
    b.add_entries(rows.index(gg1, tt1), occ.index(gg1, tt1 - 1), -1.0)
    plant = options["plant_t"].to_numpy(int)
    dur = options["dur"].to_numpy(int)
    o = np.arange(len(options))
    if cyclic:
        covers0 = ((0 - plant) % num_weeks) < dur
        end = (plant + dur) % num_weeks
        has_end = dur < num_weeks
    else:
        covers0 = plant == 0
        end = plant + dur
        has_end = end < num_weeks
    b.add_entries(rows.index(groups[covers0], 0), beds.index(o[covers0]), -rate[covers0])
    starts = plant > 0
    b.add_entries(rows.index(groups[starts], plant[starts]), beds.index(o[starts]), -rate[starts])
    ends = has_end & (end > 0)
    b.add_entries(rows.index(groups[ends], end[ends]), beds.index(o[ends]), rate[ends])


def _formulate(
    inputs: PlanInputs,
    params: PlanParams,
    base: np.ndarray | None = None,
    score_f: np.ndarray | None = None,
    keep_eur: np.ndarray | None = None,
) -> tuple[ArrayModel, tuple[int, ...], pd.DataFrame]:
    w = params.weights
    opts = inputs.options
    num_p, num_t = inputs.demand_kg.shape
    num_f = len(inputs.farms)
    num_o = len(opts)
    price = inputs.products["fair_price_eur_per_kg"].to_numpy(float)
    shelf = inputs.products["shelf_weeks"].to_numpy(int)
    km = inputs.farms["km_to_hub"].to_numpy(float)
    o_f = opts["f"].to_numpy(int)
    o_p = opts["p"].to_numpy(int)
    kg_per_bed = opts["kg_per_bed"].to_numpy(float)
    o_price = price[o_p] if num_o else np.zeros(0)
    b = Builder()

    # ---- columns
    min_beds = opts["min_beds"].to_numpy(float)
    fixed = inputs.frozen.fixed  # frozen contracts: lower = upper = the signed beds
    semi = (min_beds > 1) & ~fixed
    beds = b.add_cols(
        "beds",
        (num_o,),
        lower=np.where(fixed, inputs.frozen.beds, np.where(semi, min_beds, 0.0)),
        upper=np.where(fixed, inputs.frozen.beds, opts["max_beds"].to_numpy(float)),
        cost=(
            w.purchase * o_price
            + w.transport_eur_per_kg_km * km[o_f]
            - w.producer_score_eur_per_kg * (score_f[o_f] if score_f is not None else 0.0)
        )
        * kg_per_bed,
        kind=np.where(semi, SEMI_INTEGER, INTEGER).astype(float),
    )
    grown = np.zeros(num_p, dtype=bool)
    grown[o_p] = True
    harvest = b.add_cols(
        "harvest", (num_p, num_t), upper=np.where(grown[:, None], np.inf, 0.0) * np.ones((1, num_t))
    )
    stock = b.add_cols(
        "stock",
        (num_p, num_t),
        upper=np.where((shelf > 0) & grown, np.inf, 0.0)[:, None] * np.ones((1, num_t)),
    )
    demand = inputs.demand_kg
    short = b.add_cols(
        "short",
        (num_p, num_t),
        upper=demand,
        cost=(w.shortfall * price)[:, None] * np.ones((1, num_t)),
    )
    waste = b.add_cols(
        "waste",
        (num_p, num_t),
        upper=np.where(grown, np.inf, 0.0)[:, None] * np.ones((1, num_t)),
        cost=(w.waste * price)[:, None] * np.ones((1, num_t)),
    )
    pp, tt = np.meshgrid(np.arange(num_p), np.arange(num_t), indexing="ij")

    # ---- harvest definition: harvest[p,t] − Σ kg·beds = 0
    rows = b.add_rows("harvest", (num_p, num_t), lower=0.0, upper=0.0)
    b.add_entries(rows.index(pp, tt), harvest.index(pp, tt), 1.0)
    b.add_entries(
        rows.index(o_p[inputs.harvest_o], inputs.harvest_t),
        beds.index(inputs.harvest_o),
        -inputs.harvest_kg_per_bed,
    )

    # ---- balance: stock[t] − stock[t−1] − harvest[t] − short[t] + waste[t] = −demand[t]
    rows = b.add_rows("balance", (num_p, num_t), lower=-demand, upper=-demand)
    r = rows.index(pp, tt)
    b.add_entries(r, stock.index(pp, tt), 1.0)
    b.add_entries(r, harvest.index(pp, tt), -1.0)
    b.add_entries(r, short.index(pp, tt), -1.0)
    b.add_entries(r, waste.index(pp, tt), 1.0)
    if inputs.cyclic:
        b.add_entries(r, stock.index(pp, (tt - 1) % num_t), -1.0)
    else:
        b.add_entries(r[:, 1:], stock.index(pp[:, 1:], tt[:, 1:] - 1), -1.0)

    # ---- shelf life: stock[t] ≤ Σ_{k<L} harvest[t−k]
    keep = grown & (shelf > 0)
    kp = np.flatnonzero(keep)
    rows = b.add_rows("shelf", (len(kp), num_t), upper=0.0)
    for i, p in enumerate(kp):
        b.add_entries(rows.index(i, np.arange(num_t)), stock.index(p, np.arange(num_t)), 1.0)
        length = int(min(shelf[p], num_t))
        lag = np.arange(length)
        ti, ki = np.meshgrid(np.arange(num_t), lag, indexing="ij")
        src = ti - ki
        ok = np.ones_like(src, dtype=bool) if inputs.cyclic else src >= 0
        b.add_entries(rows.index(i, ti[ok]), harvest.index(p, src[ok] % num_t), -1.0)

    add_storage_rows(b, inputs, stock)  # the hub's capacity per storage class (storage.csv)

    # ---- land per farm and land type, labour per farm (running totals)
    land_type = opts["land_type"].map({lt: i for i, lt in enumerate(LAND_TYPES)}).to_numpy(int)
    land_m2 = inputs.farms[[f"{lt}_m2" for lt in LAND_TYPES]].to_numpy(float)
    pairs, land_group = np.unique(o_f * len(LAND_TYPES) + land_type, return_inverse=True)
    _occupancy(
        b,
        "land",
        land_group,
        len(pairs),
        beds,
        opts,
        opts["bed_m2"].to_numpy(float),
        land_m2.ravel()[pairs],
        num_t,
        inputs.cyclic,
    )
    farms_used, labour_group = np.unique(o_f, return_inverse=True)
    _occupancy(
        b,
        "labour",
        labour_group,
        len(farms_used),
        beds,
        opts,
        opts["labour_h_per_bed_week"].to_numpy(float),
        inputs.farms["labour_h_per_week"].to_numpy(float)[farms_used],
        num_t,
        inputs.cyclic,
    )

    # ---- rotation: m²·weeks of one family ≤ share × land × weeks (per farm and land type)
    plant = opts["plant_t"].to_numpy(int)
    weeks_held = opts["dur"].to_numpy(int)
    if not inputs.cyclic:
        weeks_held = np.minimum(weeks_held, num_t - plant)
    rot = opts.assign(o=np.arange(num_o), m2_weeks=opts["bed_m2"] * weeks_held)
    rot = rot.loc[rot["land_type"].isin(_ROTATION_LAND)]
    keys = rot[["f", "land_type", "family"]].drop_duplicates().reset_index(drop=True)
    keys["cap_m2_weeks"] = (
        params.rotation_share
        * num_t
        * land_m2[
            keys["f"].to_numpy(int),
            keys["land_type"].map({lt: i for i, lt in enumerate(LAND_TYPES)}).to_numpy(int),
        ]
    )
    rot = rot.merge(keys.reset_index(names="k"), on=["f", "land_type", "family"])
    rows = b.add_rows("rotation", (len(keys),), upper=keys["cap_m2_weeks"].to_numpy(float))
    b.add_entries(
        rows.index(rot["k"].to_numpy(int)),
        beds.index(rot["o"].to_numpy(int)),
        rot["m2_weeks"].to_numpy(float),
    )

    # ---- resilience: one farm's season harvest of a major product ≤ share × all farms'
    season_kg = demand.sum(axis=1)
    order = np.argsort(-season_kg)
    cum = np.cumsum(season_kg[order]) / max(season_kg.sum(), 1e-9)
    major_all = order[: int(np.searchsorted(cum, params.major_share) + 1)]
    growers = pd.DataFrame({"f": o_f, "p": o_p}).drop_duplicates()
    num_growers = growers.groupby("p")["f"].nunique()
    major = np.array(sorted(p for p in major_all if num_growers.get(p, 0) >= 2), dtype=int)
    supply = b.add_cols("supply", (len(major),))
    rows = b.add_rows("supply", (len(major),), lower=0.0, upper=0.0)
    m_of = {p: i for i, p in enumerate(major)}
    b.add_entries(rows.index(np.arange(len(major))), supply.index(np.arange(len(major))), 1.0)
    in_major = np.isin(o_p, major)
    om = np.flatnonzero(in_major)
    m_idx = np.array([m_of[p] for p in o_p[om]], dtype=int)
    b.add_entries(rows.index(m_idx), beds.index(om), -kg_per_bed[om])
    fp = growers.loc[growers["p"].isin(major)].sort_values(["p", "f"]).reset_index(drop=True)
    fp_of = {(f, p): i for i, (f, p) in enumerate(zip(fp["f"], fp["p"], strict=True))}
    excess = b.add_cols("excess", (len(fp),), cost=w.concentration * price[fp["p"].to_numpy(int)])
    rows = b.add_rows("share", (len(fp),), upper=0.0)
    k = np.arange(len(fp))
    b.add_entries(
        rows.index(k),
        supply.index(np.array([m_of[p] for p in fp["p"]], dtype=int)),
        -params.resilience_share,
    )
    b.add_entries(rows.index(k), excess.index(k), -1.0)
    fp_idx = np.array([fp_of[(f, p)] for f, p in zip(o_f[om], o_p[om], strict=True)], dtype=int)
    b.add_entries(rows.index(fp_idx), beds.index(om), kg_per_bed[om])

    # ---- revenue floors: Σ fair revenue + floor_gap ≥ floor
    floor = inputs.farms["min_revenue_eur"].to_numpy(float)
    floor_gap = b.add_cols("floor_gap", (num_f,), upper=floor, cost=w.floor)
    rows = b.add_rows("floor", (num_f,), lower=floor)
    b.add_entries(rows.index(np.arange(num_f)), floor_gap.index(np.arange(num_f)), 1.0)
    b.add_entries(rows.index(o_f), beds.index(np.arange(num_o)), o_price * kg_per_bed)

    # ---- stability (a what-if from a base plan): kept[o] ≤ beds[o], kept[o] ≤ base[o], each
    # kept bed −λ; a constant column adds λ·Σ base, so the objective is the plan's cost plus
    # λ per base bed given up
    # (λ per option: spared farms weigh more, see ``build_plan_problem``)
    if base is not None and keep_eur is not None and w.stability_eur_per_bed > 0 and base.sum() > 0:
        ob = np.flatnonzero(base > 0)
        kept = b.add_cols("kept", (len(ob),), upper=base[ob], cost=-keep_eur[ob])
        rows = b.add_rows("keep", (len(ob),), upper=0.0)
        k = np.arange(len(ob))
        b.add_entries(rows.index(k), kept.index(k), 1.0)
        b.add_entries(rows.index(k), beds.index(ob), -1.0)
        b.add_cols(
            "kept_offset",
            (1,),
            lower=1.0,
            upper=1.0,
            cost=float(keep_eur[ob] @ base[ob]),
        )

    # ---- purchase budget
    if params.budget_eur is not None:
        rows = b.add_rows("budget", (), upper=params.budget_eur)
        b.add_entries(
            np.full(num_o, rows.start), beds.index(np.arange(num_o)), o_price * kg_per_bed
        )
    return b.build(), tuple(int(p) for p in major), keys
