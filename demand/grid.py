"""The conventionnement grid: a caisse scores shops on weighted criteria, approves those at or
above its threshold with no eliminatory criterion short, and says why a shop falls short and
what would make it approvable.

Score of a shop = Σ weight × points / max_points over the caisse's criteria, as a percentage of
Σ weight (a criterion not assessed counts 0 points). The latest assessment of each criterion
holds (by ``assessed_on``, then file order).
"""

from __future__ import annotations

import pandas as pd

from core import grid
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
    return grid.latest_assessments(assessments, ["caisse_id", "site_id", "criterion_id"])


def _points_table(
    criteria: pd.DataFrame, assessments: pd.DataFrame, caisse_id: str
) -> pd.DataFrame:
    """Shops × criteria of one caisse (:func:`core.grid.points_table`)."""
    crit = criteria.loc[criteria["caisse_id"] == caisse_id]
    if crit.empty:
        raise InputError(f"caisse {caisse_id}: no criteria in caisse_criteria.csv")
    marks = latest_assessments(assessments.loc[assessments["caisse_id"] == caisse_id])
    return grid.points_table(crit, marks, "site_id")


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
        dated = latest_assessments(assessments.loc[assessments["caisse_id"] == caisse_id])
        last = (
            pd.to_datetime(dated.get("assessed_on"), errors="coerce")
            .groupby(dated["site_id"])
            .max()
        )
        for site_id, shop in table.groupby("site_id", sort=True):
            score = grid.score_pct(shop)
            eliminated = grid.eliminated(shop)
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
    per_point = (shop["weight"] / shop["max_points"]).sort_values(ascending=False, kind="stable")

    def score() -> float:
        return grid.score_pct(shop.assign(points=needed))

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


def approved_for_households(
    payments: pd.DataFrame,
    household_caisse: pd.Series,
    sites: pd.DataFrame,
    criteria: pd.DataFrame | None,
    assessments: pd.DataFrame | None,
    thresholds: dict[str, float],
) -> pd.Series:
    """Per payment (``household_id``, ``site_id``): is the shop approved by the household's own
    caisse? Where that caisse assessed shops on its grid, only its verdicts count (a shop
    another caisse approved does not); otherwise ``sites.conventionne`` as given.

    ``household_caisse``: caisse id by household id.
    """
    given = sites.set_index("site_id")["conventionne"].astype(bool)
    fallback = payments["site_id"].map(given).fillna(False).astype(bool)
    if criteria is None or assessments is None or assessments.empty:
        return fallback
    found = verdicts(criteria, assessments, thresholds)
    graded = set(found["caisse_id"])
    passed = found.loc[found["approved"]]
    approved = set(zip(passed["caisse_id"], passed["site_id"], strict=True))
    caisse = payments["household_id"].map(household_caisse)
    by_grid = pd.Series(
        [(c, s) in approved for c, s in zip(caisse, payments["site_id"], strict=True)],
        index=payments.index,
    )
    return by_grid.where(caisse.isin(graded), fallback)
