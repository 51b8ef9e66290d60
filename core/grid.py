"""Weighted criteria grids: a caisse scores shops (conventionnement), a territory scores farms
(quality, locality, accessibility…). One scoring rule for both.

Score of a subject = Σ weight × points / max_points over the grid's criteria, as a percentage
of Σ weight (a criterion not assessed counts 0 points). An eliminatory criterion under its
``min_points`` refuses the subject whatever the score. The latest assessment of each criterion
holds (by ``assessed_on``, then file order).
"""

from __future__ import annotations

import pandas as pd

from core.errors import InputError

CRITERION_COLUMNS = ["criterion_id", "label", "weight", "max_points", "eliminatory", "min_points"]


def latest_assessments(assessments: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per ``keys`` (subject and criterion): the latest assessment."""
    frame = assessments.copy()
    frame["_order"] = range(len(frame))
    if "assessed_on" in frame.columns:
        frame["_when"] = pd.to_datetime(frame["assessed_on"], errors="coerce")
    else:
        frame["_when"] = pd.NaT
    frame = frame.sort_values(["_when", "_order"], kind="stable", na_position="first")
    latest = frame.drop_duplicates(keys, keep="last")
    return latest.drop(columns=["_order", "_when"])


def points_table(criteria: pd.DataFrame, marks: pd.DataFrame, subject: str) -> pd.DataFrame:
    """Subjects × criteria: points (0 where not assessed) with each criterion's weight,
    max_points, eliminatory flag and min_points. ``marks`` are the latest assessments."""
    if criteria.empty:
        raise InputError("the grid has no criteria")
    subjects = sorted(set(marks[subject]))
    grid = pd.MultiIndex.from_product(
        [subjects, criteria["criterion_id"]], names=[subject, "criterion_id"]
    )
    points = marks.set_index([subject, "criterion_id"])["points"].reindex(grid, fill_value=0)
    return points.reset_index().merge(criteria[CRITERION_COLUMNS], on="criterion_id")


def score_pct(rows: pd.DataFrame) -> float:
    """The score of one subject's rows of :func:`points_table`."""
    total = float(rows["weight"].sum())
    if total <= 0:
        return 0.0
    return float(100 * (rows["weight"] * rows["points"] / rows["max_points"]).sum() / total)


def eliminated(rows: pd.DataFrame) -> pd.DataFrame:
    """The eliminatory criteria of one subject's rows under their minimum."""
    return rows.loc[rows["eliminatory"] & (rows["points"] < rows["min_points"])]


def scores(criteria: pd.DataFrame, assessments: pd.DataFrame, subject: str) -> pd.DataFrame:
    """``subject, score_pct, eliminated`` (labels of eliminatory criteria short, ``;``-joined)
    for every assessed subject."""
    marks = latest_assessments(assessments, [subject, "criterion_id"])
    table = points_table(criteria, marks, subject)
    rows = []
    for name, own in table.groupby(subject, sort=True):
        short = eliminated(own)
        rows.append((name, round(score_pct(own), 2), "; ".join(short["label"])))
    return pd.DataFrame(rows, columns=[subject, "score_pct", "eliminated"])
