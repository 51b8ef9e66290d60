"""The split of the pooled cost between the organisations: Shapley (exact or sampled), the
core check, and the simple keys side by side (per kg, per stop, per km driven for them,
Equal Profit Method). Every split is rounded to the cent and adds up to the pooled cost."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from core.schema import STORAGE_CLASSES
from routing import coalitions as game

#: Figures compared between the pooled week and the sum of stand-alone weeks.
PARTS = (
    "km",
    "driver_h",
    "vehicles",
    "vehicle_days",
    "route_eur",
    "fixed_eur",
    "outsourced_kg",
    "outsourced_eur",
    "co2_kg",
)


def _summed(extras: list[dict], key: str, players: Sequence[str]) -> dict[str, float]:
    return {o: float(sum(e[key].get(o, 0.0) for e in extras)) for o in players}


def split_table(
    players: list[str],
    cost: dict[frozenset[str], float],
    table: pd.DataFrame,
    extras: list[dict],
    orders: list[tuple[str, ...]],
    exact: bool,
) -> tuple[pd.DataFrame, dict]:
    """One row per organisation (stand-alone, Shapley, keys) and the summary figures."""
    grand = frozenset(players)
    pooled = cost[grand]
    alone = {o: cost[frozenset([o])] for o in players}
    if exact:
        shapley = game.shapley(players, cost)
        half_width: dict[str, float] = {}
    else:
        sampled = game.shapley_sampled(orders, cost)
        shapley, half_width = sampled.value, sampled.half_width
    eps, _ = game.least_core(players, cost)
    core_empty = eps > game.CORE_TOL_EUR
    shapley_c = game.to_cents(shapley, pooled)
    blockers = game.blocking(players, cost, shapley_c)
    epm = game.to_cents(game.equal_profit(players, cost, slack=max(eps, 0.0)), pooled)
    kg, stops = _summed(extras, "kg", players), _summed(extras, "stops", players)
    km_for = _summed(extras, "km_for", players)
    keys = {
        "per_kg_eur": game.to_cents(game.proportional(kg, pooled), pooled),
        "per_stop_eur": game.to_cents(game.proportional(stops, pooled), pooled),
        "per_km_eur": game.to_cents(game.proportional(km_for, pooled), pooled),
        "epm_eur": epm,
    }
    rows = []
    for o in players:
        row = {
            "organisation_id": o,
            "standalone_eur": round(alone[o], 2),
            "shapley_eur": shapley_c[o],
            "shapley_half_width_eur": round(half_width.get(o, 0.0), 2),
            "saving_eur": round(alone[o] - shapley_c[o], 2),
            "saving_pct": round(100 * (alone[o] - shapley_c[o]) / alone[o], 2)
            if alone[o] > 0
            else 0.0,
            **{k: v[o] for k, v in keys.items()},
            "kg_delivered": round(kg[o], 1),
            "shops_served": int(stops[o] / max(len(extras), 1)),
            "pooled_km_for_them": round(km_for[o], 1),
        }
        for cls in STORAGE_CLASSES:  # a week's goods held at once, mean over the weeks
            row[f"storage_{cls}_kg"] = round(
                sum(x["storage_kg"][o].get(cls, 0.0) for x in extras) / len(extras), 1
            )
        rows.append(row)
    split = pd.DataFrame(rows).fillna(0.0)
    by = table.set_index("coalition")
    pooled_row = by.loc["+".join(sorted(players))]
    alone_rows = by.loc[["+".join([o]) for o in players]]
    standalone = float(sum(alone.values()))
    summary = {
        "pooled_eur": round(pooled, 2),
        "standalone_eur": round(standalone, 2),
        "saving_eur": round(standalone - pooled, 2),
        "saving_pct": round(100 * (standalone - pooled) / standalone, 2) if standalone else 0.0,
        "saving_parts": {
            p: {
                "standalone": round(float(alone_rows[p].sum()), 2),
                "pooled": round(float(pooled_row[p]), 2),
            }
            for p in PARTS
        },
        "shapley": {o: shapley_c[o] for o in players},
        "shapley_method": "exact" if exact else f"sampled ({len(orders)} orders, 95 % CI)",
        "shapley_sum_eur": round(sum(shapley_c.values()), 2),
        "in_core": not blockers,
        "core_empty": bool(core_empty),
        "least_core_eps_eur": round(eps, 2),
        "blocking": [
            {"coalition": "+".join(sorted(s)), "pays_more_than_alone_eur": round(x, 2)}
            for s, x in blockers[:10]
        ],
        "core_checked_on": "every coalition" if exact else "the sampled coalitions only",
    }
    return split, summary
