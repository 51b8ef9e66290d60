"""The producer grid read by the planner: eligibility (a farm below the threshold, or short of
an eliminatory criterion, gets no contract) and the scores a preference weight uses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core import grid
from core.territory import Territory
from planner.params import PlanParams


def producer_scores(territory: Territory) -> pd.DataFrame | None:
    """``producer_id, score_pct, eliminated`` from the territory's producer grid (farms not
    assessed score 0), or None without a grid."""
    criteria = territory.producer_criteria
    if criteria is None or criteria.empty:
        return None
    marks = territory.producer_assessments
    if marks is None:
        marks = pd.DataFrame(columns=["producer_id", "criterion_id", "points"])
    found = grid.scores(criteria, marks, "producer_id").set_index("producer_id")
    ids = territory.producers["producer_id"]
    out = pd.DataFrame({"producer_id": ids.to_numpy()})
    out["score_pct"] = ids.map(found["score_pct"]).fillna(0.0).to_numpy()
    out["eliminated"] = ids.map(found["eliminated"]).fillna("").to_numpy()
    unassessed = ~ids.isin(found.index).to_numpy()
    out.loc[unassessed, "eliminated"] = "not assessed"
    return out


def apply_grid(territory: Territory, params: PlanParams) -> tuple[Territory, list[str], dict]:
    """The territory without the farms the grid excludes, what the plan's report says about
    it, and each remaining farm's score (0 to 1) for the preference weight."""
    scores = producer_scores(territory)
    if scores is None:
        return territory, [], {}
    by_farm = dict(zip(scores["producer_id"], scores["score_pct"] / 100, strict=True))
    notes = []
    threshold = params.min_producer_score_pct
    if threshold is not None:
        out = scores.loc[(scores["score_pct"] < threshold - 1e-9) | (scores["eliminated"] != "")]
        if len(out):
            shown = ", ".join(
                f"{r.producer_id} ({r.score_pct:.0f} %"
                + (f"; {r.eliminated})" if r.eliminated else ")")
                for r in out.head(8).itertuples()
            )
            more = f" and {len(out) - 8} more" if len(out) > 8 else ""
            notes.append(
                f"Producer grid: {len(out)} farm(s) below {threshold:.0f} % or short of an "
                f"eliminatory criterion get no contract: {shown}{more}."
            )
            keep = ~territory.producers["producer_id"].isin(set(out["producer_id"]))
            crops_keep = territory.producer_crops["producer_id"].isin(
                set(territory.producers.loc[keep, "producer_id"])
            )
            territory = dataclasses.replace(
                territory,
                producers=territory.producers.loc[keep],
                producer_crops=territory.producer_crops.loc[crops_keep],
            )
        else:
            notes.append(f"Producer grid: every farm reaches {threshold:.0f} %.")
    weight = params.weights.producer_score_eur_per_kg
    if weight > 0:
        mean = float(np.mean(list(by_farm.values()))) if by_farm else 0.0
        notes.append(
            f"Producer grid as a preference: {weight:g} € per kg × the farm's score (mean "
            f"{100 * mean:.0f} %) taken off its purchase cost in the plan's choice."
        )
    return territory, notes, by_farm
