"""The conventionnement grid: a caisse scores shops on weighted criteria, approves those at or
above its threshold with no eliminatory criterion short, and says why a shop falls short and
what would make it approvable.

Score of a shop = Σ weight × points / max_points over the caisse's criteria, as a percentage of
Σ weight (a criterion not assessed counts 0 points). The latest assessment of each criterion
holds (by ``assessed_on``, then file order).
"""

from __future__ import annotations

import pandas as pd

from core.errors import InputError

VERDICT_COLUMNS = (
    "caisse_id",
    "site_id",
    "score_pct",
    "threshold_pct",
    "approved",
    "why",
    "assessed_on",
)


def latest_assessments(assessments: pd.DataFrame) -> pd.DataFrame:
    """One row per caisse, shop and criterion: the latest assessment."""
    frame = assessments.copy()
    frame["_order"] = range(len(frame))
    when = pd.to_datetime(frame.get("assessed_on"), errors="coerce")
    frame["_when"] = when if when is not None else pd.NaT
    frame = frame.sort_values(["_when", "_order"], kind="stable", na_position="first")
    latest = frame.drop_duplicates(["caisse_id", "site_id", "criterion_id"], keep="last")
    return latest.drop(columns=["_order", "_when"])


def _points_table(
    criteria: pd.DataFrame, assessments: pd.DataFrame, caisse_id: str
) -> pd.DataFrame:
    """Shops × criteria of one caisse: points (0 where not assessed), with each criterion's
    weight, max_points, eliminatory flag and min_points."""
    crit = criteria.loc[criteria["caisse_id"] == caisse_id]
    if crit.empty:
        raise InputError(f"caisse {caisse_id}: no criteria in caisse_criteria.csv")
    marks = latest_assessments(assessments.loc[assessments["caisse_id"] == caisse_id])
    shops = sorted(set(marks["site_id"]))
    grid = pd.MultiIndex.from_product(
        [shops, crit["criterion_id"]], names=["site_id", "criterion_id"]
    )
    points = marks.set_index(["site_id", "criterion_id"])["points"].reindex(grid, fill_value=0)
    return points.reset_index().merge(
        crit[["criterion_id", "label", "weight", "max_points", "eliminatory", "min_points"]],
        on="criterion_id",
    )


def verdicts(
    criteria: pd.DataFrame, assessments: pd.DataFrame, thresholds: dict[str, float]
) -> pd.DataFrame:
    """Score and verdict of every assessed shop for each caisse (``thresholds``: caisse id →
    score needed, %). ``why`` names the eliminatory criteria short of their minimum and, when
    the score is short, the criteria furthest from full marks."""
    rows = []
    for caisse_id, threshold in sorted(thresholds.items()):
        if assessments.loc[assessments["caisse_id"] == caisse_id].empty:
            continue
        table = _points_table(criteria, assessments, caisse_id)
        total_weight = float(criteria.loc[criteria["caisse_id"] == caisse_id, "weight"].sum())
        dated = latest_assessments(assessments.loc[assessments["caisse_id"] == caisse_id])
        last = (
            pd.to_datetime(dated.get("assessed_on"), errors="coerce")
            .groupby(dated["site_id"])
            .max()
        )
        for site_id, shop in table.groupby("site_id", sort=True):
            score = _score(shop, total_weight)
            eliminated = shop.loc[shop["eliminatory"] & (shop["points"] < shop["min_points"])]
            reasons = [
                f"{r.label}: {r.points}/{r.max_points} points, {r.min_points} needed (eliminatory)"
                for r in eliminated.itertuples()
            ]
            if score < threshold - 1e-9:
                gaps = (shop["weight"] * (1 - shop["points"] / shop["max_points"])).sort_values(
                    ascending=False, kind="stable"
                )
                short = shop.loc[gaps.index[gaps > 0][:3]]
                reasons.append(
                    f"score {score:.1f} % below {threshold:.0f} %; furthest from full marks: "
                    + ", ".join(f"{r.label} {r.points}/{r.max_points}" for r in short.itertuples())
                )
            when = last.get(site_id)
            rows.append(
                (
                    caisse_id,
                    site_id,
                    round(score, 2),
                    threshold,
                    not reasons,
                    "; ".join(reasons),
                    "" if when is None or pd.isna(when) else when.strftime("%Y-%m-%d"),
                )
            )
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def _score(shop: pd.DataFrame, total_weight: float) -> float:
    if total_weight <= 0:
        return 0.0
    earned = (shop["weight"] * shop["points"] / shop["max_points"]).sum()
    return float(100 * earned / total_weight)


def to_approve(
    criteria: pd.DataFrame,
    assessments: pd.DataFrame,
    caisse_id: str,
    site_id: str,
    threshold: float,
) -> pd.DataFrame:
    """What would make a shop approvable: the fewest added points, criterion by criterion.

    Eliminatory criteria are raised to their minimum first; then points go where each one
    adds most to the score (largest weight per point), until the score reaches the threshold.
    Returns ``criterion_id, label, points, needed_points`` for the criteria to raise (empty
    when the shop is already approvable).
    """
    table = _points_table(criteria, assessments, caisse_id)
    shop = table.loc[table["site_id"] == site_id].set_index("criterion_id")
    if shop.empty:
        raise InputError(f"shop {site_id} has no assessment for caisse {caisse_id}")
    needed = shop["points"].astype(int).copy()
    elim = shop["eliminatory"] & (needed < shop["min_points"])
    needed[elim] = shop.loc[elim, "min_points"].astype(int)
    total_weight = float(shop["weight"].sum())
    per_point = (shop["weight"] / shop["max_points"]).sort_values(ascending=False, kind="stable")

    def score() -> float:
        return _score(shop.assign(points=needed), total_weight)

    for criterion in per_point.index:
        while score() < threshold - 1e-9 and needed[criterion] < shop.at[criterion, "max_points"]:
            needed[criterion] += 1
    if score() < threshold - 1e-9:
        raise InputError(
            f"shop {site_id} cannot reach {threshold:.0f} % on caisse {caisse_id}'s grid even "
            "with full marks"
        )
    raised = needed > shop["points"]
    return pd.DataFrame(
        {
            "criterion_id": shop.index[raised],
            "label": shop.loc[raised, "label"].to_numpy(),
            "points": shop.loc[raised, "points"].astype(int).to_numpy(),
            "needed_points": needed[raised].to_numpy(),
        }
    )


def approved_sites(
    sites: pd.DataFrame,
    criteria: pd.DataFrame | None,
    assessments: pd.DataFrame | None,
    thresholds: dict[str, float],
) -> pd.DataFrame:
    """``sites`` with ``conventionne`` from the grid where a shop was assessed (approved by at
    least one caisse), as given elsewhere; the grid is what decides which payments count."""
    if criteria is None or assessments is None or assessments.empty:
        return sites
    found = verdicts(criteria, assessments, thresholds)
    by_site = found.groupby("site_id")["approved"].any()
    assessed = sites["site_id"].isin(by_site.index)
    approved = sites["site_id"].map(by_site).fillna(False).astype(bool)
    return sites.assign(conventionne=sites["conventionne"].where(~assessed, approved))
