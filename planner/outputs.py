"""Plan outputs (CSV, JSON, Markdown report, contracts) and the KPIs scenarios compare."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.csvio import DEFAULT_LANG, Lang, write_user_csv
from core.fmt import num
from core.i18n import text
from planner.contracts import write_contracts
from planner.formulation import PlanProblem
from planner.result import PlanResult
from planner.storage import stock_by_class

#: Supply from farms within this road distance of the hub counts as local.
LOCAL_KM = 50.0


def kpis(result: PlanResult, problem: PlanProblem) -> dict:
    """Headline figures of a plan (what ``vivres plan compare`` puts side by side)."""
    cov = result.coverage
    demand = float(cov["demand_kg"].sum())
    short = float(cov["short_kg"].sum())
    harvest = result.harvest
    total = float(harvest["kg"].sum())
    km = problem.inputs.farms.set_index("producer_id")["km_to_hub"]
    local = float(harvest.loc[harvest["producer_id"].map(km) <= LOCAL_KM, "kg"].sum())
    revenue = result.farms["revenue_eur"].to_numpy(float)
    plan = result.plan
    return {
        "status": result.status.value,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap_pct": None if result.gap is None else 100 * result.gap,
        "stopped_by": None if result.stopped_by is None else result.stopped_by.value,
        "coverage_pct": 100 * (1 - short / demand) if demand > 0 else 100.0,
        "demand_kg": demand,
        "shortfall_kg": short,
        "waste_kg": float(cov["waste_kg"].sum()),
        "harvest_kg": total,
        "purchase_cost_eur": float(plan["revenue_eur"].sum()),
        "revenue_farm_min_eur": float(revenue.min()) if len(revenue) else 0.0,
        "revenue_farm_median_eur": float(np.median(revenue)) if len(revenue) else 0.0,
        "farms_below_floor": int((result.farms["floor_gap_eur"] > 1.0).sum()),
        "floor_gap_eur": float(result.farms["floor_gap_eur"].sum()),
        "local_share_pct": 100 * local / total if total > 0 else 0.0,
        "farms_supplying": int(harvest["producer_id"].nunique()),
        "beds": int(plan["beds"].sum()),
        "fair_price_gap_eur": float(fair_price_gap(result, problem)["gap_eur"].sum()),
        "runtime_s": result.runtime_s,
        **_noise_prices(result, problem),
    }


def fair_price_gap(result: PlanResult, problem: PlanProblem) -> pd.DataFrame:
    """Per month and product: the kilos served, the fair producer price, the accessible shelf
    price and what paying farms fairly while selling at that price costs (``gap_eur``, the
    part of the fair price the shelf price does not cover; 0 where the shelf price is higher).
    """
    products = problem.inputs.products.set_index("product_id")
    cov = result.coverage
    served = cov.assign(month=pd.to_datetime(cov["week_start"]).dt.strftime("%Y-%m"))
    served = served.groupby(["month", "product_id"], as_index=False)["served_kg"].sum()
    served = served.loc[served["served_kg"] > 0]
    fair = served["product_id"].map(products["fair_price_eur_per_kg"]).astype(float)
    shelf = served["product_id"].map(products["shelf_eur_per_kg"]).astype(float)
    gap = (fair - shelf).clip(lower=0.0)
    return served.assign(
        fair_eur_per_kg=fair.round(3),
        shelf_eur_per_kg=shelf.round(3),
        gap_eur_per_kg=gap.round(3),
        gap_eur=(gap * served["served_kg"]).round(2),
    ).reset_index(drop=True)


def _noise_prices(result: PlanResult, problem: PlanProblem) -> dict:
    """The plan's optimality uncertainty in € (objective − bound) and the objective's cheapest
    € per shortfall and per waste kilo: what turns a KPI difference into euros."""
    m = problem.model
    uncertainty = None
    if result.objective is not None and result.best_bound is not None:
        uncertainty = max(result.objective - result.best_bound, 0.0)

    def cheapest(name: str) -> float | None:
        b = m.cols[name]
        cost, upper = m.cost[b.slice()], m.col_upper[b.slice()]
        live = cost[upper > 0]  # columns that can move
        return float(live.min()) if len(live) else None

    return {
        "uncertainty_eur": uncertainty,
        "short_eur_per_kg": cheapest("short"),
        "waste_eur_per_kg": cheapest("waste"),
    }


#: KPI -> how one unit of it is valued in the objective (None: compared to the relative gap).
_KPI_EUR = {
    "purchase_cost_eur": lambda k: 1.0,
    "revenue_farm_min_eur": lambda k: 1.0,
    "revenue_farm_median_eur": lambda k: 1.0,
    "floor_gap_eur": lambda k: 1.0,
    "shortfall_kg": lambda k: k.get("short_eur_per_kg"),
    "waste_kg": lambda k: k.get("waste_eur_per_kg"),
    "coverage_pct": lambda k: (
        None if k.get("short_eur_per_kg") is None else k["short_eur_per_kg"] * k["demand_kg"] / 100
    ),
}
#: KPIs compared: the ones a what-if is read on.
NOISE_KPIS = (
    "coverage_pct",
    "shortfall_kg",
    "waste_kg",
    "purchase_cost_eur",
    "revenue_farm_min_eur",
    "revenue_farm_median_eur",
    "floor_gap_eur",
    "farms_below_floor",
    "local_share_pct",
    "farms_supplying",
    "beds",
)


def within_noise(base: dict, other: dict) -> dict[str, bool | None]:
    """Per KPI: is the difference between two plans within the solvers' optimality uncertainty?

    Neither plan is proven optimal: each may cost up to ``objective − bound`` more than the
    best plan, so two plans whose KPIs differ by less than what that sum buys could both be
    answers to either question. A KPI valued in the objective (€, shortfall and waste kilos,
    coverage) is within noise when ``|Δ| × € per unit ≤ uncertainty(base) + uncertainty(other)``
    (a free unit is always within noise); the others when ``|Δ| ≤ (gap(base) + gap(other)) ×
    max(|base|, |other|)``. None: a plan without a bound, so the noise is unknown.
    """
    u_a, u_b = base.get("uncertainty_eur"), other.get("uncertainty_eur")
    g_a, g_b = base.get("gap_pct"), other.get("gap_pct")
    out: dict[str, bool | None] = {}
    for key in NOISE_KPIS:
        a, b = base.get(key), other.get(key)
        if a is None or b is None or u_a is None or u_b is None or g_a is None or g_b is None:
            out[key] = None
            continue
        delta = abs(float(b) - float(a))
        value = _KPI_EUR.get(key)
        if value is not None:
            prices = [value(base), value(other)]
            if any(p is None for p in prices):
                out[key] = None
                continue
            out[key] = bool(delta * min(prices) <= u_a + u_b + 1e-6)
        else:
            scale = max(abs(float(a)), abs(float(b)))
            out[key] = bool(delta <= (g_a + g_b) / 100 * scale + 1e-9)
    return out


_REPORT = {
    "fr": {
        "title": "# Plan de saison — {name}",
        "season": "Saison du {start} au {end} ({weeks} semaines{wrap}) ; demande tirée de : "
        "{source}.",
        "wrap": ", en boucle",
        "solver": "| solveur | statut | objectif (€) | meilleure borne (€) | écart | temps |",
        "model": "Modèle : {options} options de plantation, {cols} colonnes ({ints} entières), "
        "{rows} lignes, construit en {build} s.",
        "figures": "## Chiffres clés",
        "figure": "| chiffre | valeur |",
        "terms": "## Termes de l'objectif (€)",
        "term": "| terme | valeur |",
        "short": "## Ce qui manque, et pourquoi",
        "short_table": "| produit | semaines | du | au | kg manquants | kg demandés | raison |",
        "weights": "## Poids",
    },
    "en": {
        "title": "# Season plan — {name}",
        "season": "Season {start} → {end} ({weeks} weeks{wrap}); demand from the {source}.",
        "wrap": ", wrapping around",
        "solver": "| solver | status | objective (€) | best bound (€) | gap | time |",
        "model": "Model: {options} planting options, {cols} columns ({ints} integer), {rows} "
        "rows, built in {build} s.",
        "figures": "## Key figures",
        "figure": "| figure | value |",
        "terms": "## Objective terms (€)",
        "term": "| term | value |",
        "short": "## What is short or unmet, and why",
        "short_table": "| product | weeks | from | to | short kg | demand kg | reason |",
        "weights": "## Weights",
    },
}


def _report_md(result: PlanResult, problem: PlanProblem, figures: dict, lang: Lang) -> str:
    inputs = problem.inputs
    w = _REPORT[lang]

    def n(value: float | None, digits: int = 2) -> str:
        return "—" if value is None else num(value, digits, lang)

    gap = "—" if result.gap is None else f"{n(100 * result.gap, 3)} %"
    lines = [
        w["title"].format(name=problem.territory_name),
        "",
        w["season"].format(
            start=inputs.week_start[0].date(),
            end=inputs.week_start[-1].date(),
            weeks=inputs.num_weeks,
            wrap=w["wrap"] if inputs.cyclic else "",
            source=inputs.source,
        ),
        "",
        w["solver"],
        "|---|---|---:|---:|---:|---:|",
        f"| {result.solver} | {result.status.value} ({result.message}) | "
        f"{n(result.objective)} | {n(result.best_bound)} | {gap} | {n(result.runtime_s, 1)} s |",
        "",
        w["model"].format(
            options=problem.stats["options"],
            cols=problem.stats["cols"],
            ints=problem.stats["int_vars"],
            rows=problem.stats["rows"],
            build=n(problem.build_s, 2),
        ),
        "",
        w["figures"],
        "",
        w["figure"],
        "|---|---:|",
    ]
    for key, value in figures.items():
        shown = n(value) if isinstance(value, float) else value
        lines.append(f"| {key} | {shown} |")
    lines += ["", w["terms"], "", w["term"], "|---|---:|"]
    for key, value in result.objective_terms.items():
        lines.append(f"| {key} | {n(value)} |")
    lines += ["", w["short"], ""]
    lines += [f"- {text(line, lang)}" for line in result.explanation]
    if len(result.shortfalls):
        lines += ["", w["short_table"], "|---|---|---|---|---:|---:|---|"]
        for r in result.shortfalls.itertuples():
            lines.append(
                f"| {r.product_id} | {r.first_week}–{r.last_week} | {r.from_date} | "
                f"{r.to_date} | {n(r.short_kg, 0)} | {n(r.demand_kg, 0)} | {text(r.reason, lang)} |"
            )
    weights = problem.params.weights
    lines += [
        "",
        w["weights"],
        "",
        ", ".join(f"{k} = {getattr(weights, k)}" for k in weights.__dataclass_fields__),
        "",
    ]
    return "\n".join(lines)


def write_plan_outputs(
    result: PlanResult, problem: PlanProblem, out_dir: Path, *, lang: Lang = DEFAULT_LANG
) -> list[Path]:
    """Write every plan output to ``out_dir`` and return the paths.

    ``plan.csv`` (farm × crop × planting week → beds), ``harvest.csv`` (kg per farm, product
    and week: the routing's pickups), ``coverage.csv`` (supply vs demand per week and product),
    ``farms.csv`` (revenue vs floor and why), ``shortfalls.csv``, ``report.json`` and
    ``report.md`` (status, objective, bound, gap, KPIs, explanation), ``contracts/`` (one CSV
    and one printable HTML page per producer); with ``storage.csv`` in the territory,
    ``storage.csv`` (the stock per class and week, the capacity, full weeks).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    tables = {
        "plan": result.plan,
        "harvest": result.harvest,
        "coverage": result.coverage,
        "farms": result.farms,
        "shortfalls": result.shortfalls,
        "fair_price_gap": fair_price_gap(result, problem),
    }
    if problem.inputs.storage_kg:  # the stock per class and week against the capacity
        tables["storage"] = stock_by_class(result, problem)
    for name, frame in tables.items():
        files += write_user_csv(frame, out_dir / f"{name}.csv", lang=lang)
    figures = kpis(result, problem)
    report = {
        "status": result.status.value,
        "solver": result.solver,
        "message": result.message,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap": result.gap,
        "stopped_by": None if result.stopped_by is None else result.stopped_by.value,
        "plan_sha256": plan_hash(result),
        "runtime_s": result.runtime_s,
        "build_s": problem.build_s,
        "model": problem.stats,
        "kpis": figures,
        "objective_terms": result.objective_terms,
        "explanation": list(result.explanation),
        "unplanned_products": problem.inputs.unplanned.to_dict(orient="records"),
    }
    path = out_dir / "report.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    files.append(path)
    path = out_dir / "report.md"
    path.write_text(_report_md(result, problem, figures, lang), encoding="utf-8")
    files.append(path)
    weeks = problem.inputs.week_start
    files += write_contracts(
        result.plan,
        result.harvest,
        result.farms,
        out_dir / "contracts",
        season=f"{weeks[0].date()} – {weeks[-1].date()}",
        hub_name=str(problem.stats.get("hub_name", "le pôle logistique")),
        terms=problem.inputs.farms.set_index("producer_id"),
        lang=lang,
    )
    return files


def read_kpis(path: Path) -> dict:
    """KPIs of a plan folder written earlier (``report.json``)."""
    return json.loads((Path(path) / "report.json").read_text())["kpis"]


def beds_kept(
    base_plan: pd.DataFrame, other_plan: pd.DataFrame, affected: set[str] | None = None
) -> pd.DataFrame:
    """Per farm of the base plan: its base beds, the what-if's, and the share of its base beds
    (same crop and planting week) the what-if keeps (``kept_pct``); a farm gone from the
    what-if keeps 0 %. ``takes_over`` lists the crops it grows more of than in the base (it
    takes over what the change removed elsewhere). ``affected``: the farm is one the change can
    reach (``affected``, from ``Scenario.affected_farms``; ``None``: every farm)."""
    key = ["producer_id", "crop_id", "plant_week"]
    a = base_plan.groupby(key)["beds"].sum()
    b = other_plan.groupby(key)["beds"].sum().reindex(a.index, fill_value=0)
    kept = pd.concat([a, b, np.minimum(a, b)], axis=1, keys=["base_beds", "beds", "kept"])
    farms = kept.groupby(level="producer_id").sum()
    farms["beds"] = (
        other_plan.groupby("producer_id")["beds"].sum().reindex(farms.index, fill_value=0)
    )
    farms["kept_pct"] = 100 * farms["kept"] / farms["base_beds"]
    # crops a farm grows more of than in the base: it takes over what others give up
    crops = pd.concat(
        [
            base_plan.groupby(["producer_id", "crop_id"])["beds"].sum(),
            other_plan.groupby(["producer_id", "crop_id"])["beds"].sum(),
        ],
        axis=1,
        keys=["base", "other"],
    ).fillna(0)
    grew = crops.loc[crops["other"] > crops["base"]].reset_index()
    farms["takes_over"] = (
        grew.groupby("producer_id")["crop_id"]
        .agg(lambda c: ",".join(sorted(c)))
        .reindex(farms.index)
        .fillna("")
    )
    farms["affected"] = True if affected is None else farms.index.isin(affected)
    return farms.reset_index()


def kpi_table(runs: dict[str, dict]) -> pd.DataFrame:
    """KPIs of several runs side by side (rows = KPIs), with the change against the first."""
    frame = pd.DataFrame(runs)
    base = next(iter(runs))
    for name in list(runs)[1:]:
        a = pd.to_numeric(frame[base], errors="coerce")
        b = pd.to_numeric(frame[name], errors="coerce")
        frame[f"{name} − {base}"] = b - a
        noise = within_noise(runs[base], runs[name])
        frame[f"{name} within solver noise"] = [
            noise.get(k, "") if k in noise else "" for k in frame.index
        ]
    return frame


def plan_hash(result: PlanResult) -> str:
    """sha256 of the plan table as CSV: equal hashes, the same plan bed for bed."""
    import hashlib

    return hashlib.sha256(result.plan.to_csv(index=False).encode()).hexdigest()
