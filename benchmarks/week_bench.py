"""Delivery-week benchmark: a normal week and a shortage week of the sample, end to end.

``vivres bench week --json FILE [--out DIR]`` loads the territory, picks the latest week of
``availability.csv`` where nothing is short (``normal``) and the week where most products
get ≤ 70 % of their orders (``shortage``), and runs each through ``api.week.run_week``
(orders → kilos, supply, fair sharing, routes with the default routing params). In the
shortage week every shop weighs the same (``share_weight`` set to 1). Per week it writes::

    {"name", "week", "ordered_kg", "delivered_kg", "reported_kg": {reason: kg},
     "min_fill_rate", "lp_min_fill_rate", "gini", "seconds", ...}

``min_fill_rate`` is the minimum over shops of Σ allocated / Σ ordered over the week's short
products; ``lp_min_fill_rate`` is the optimum of an independent LP of the same max-min
problem (:func:`sharing.check.maxmin_fill_rate`, scipy's ``linprog``). ``seconds`` covers
the whole week including routes (bar: ≤ 60 s on 2 cores). With ``--out DIR`` it also writes
``DIR/<name>/allocation.csv`` (``site_id, product_id, ordered_kg, allocated_kg``) and
``DIR/<name>/supply.csv`` (``product_id, available_kg``).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import FallbackWarning, InputError
from core.safety import write_csv

SHORT_RATIO = 0.70


def pick_weeks(territory: Any) -> dict[str, pd.Timestamp]:
    """``normal``: the latest availability week with no product short; ``shortage``: the week
    with the most products at ≤ 70 % of their orders."""
    from api.week import available_kg, week_orders, week_supply

    avail = territory.availability
    if avail is None or avail.empty:
        raise InputError("bench week: the territory has no availability.csv")
    counts: dict[pd.Timestamp, int] = {}
    ordered_kg: dict[pd.Timestamp, float] = {}
    for monday in sorted(pd.to_datetime(avail["week_start"]).unique()):
        monday = pd.Timestamp(monday)
        try:
            orders = week_orders(territory, monday)
        except InputError:
            continue
        supply = available_kg(week_supply(territory, monday, orders))
        ordered = orders.groupby("product_id")["ordered_kg"].sum()
        ordered_kg[monday] = float(ordered.sum())
        counts[monday] = sum(
            1 for p, kg in supply.items() if p in ordered and kg <= SHORT_RATIO * ordered[p]
        )
    if not counts:
        raise InputError("bench week: no availability week has orders")
    normal = [w for w, n in counts.items() if n == 0]
    shortage = max(counts, key=lambda w: (counts[w], w))
    weeks = {"shortage": shortage}
    if normal:  # the busiest of them (not a half week of holidays)
        weeks = {"normal": max(normal, key=lambda w: (ordered_kg[w], w)), **weeks}
    return weeks


def run_one(territory: Any, name: str, monday: pd.Timestamp, out: Path | None) -> dict:
    """One week through the pipeline, with its figures."""
    import routing
    from api.week import run_week, week_label
    from routing.sharing.check import maxmin_fill_rate

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        stage = run_week(territory, monday, routing.RouteParams())
    seconds = time.perf_counter() - started
    lines = stage.lines
    supply = {
        p: kg
        for p, kg in stage.supply.loc[stage.supply["source"] != "hub"]
        .groupby("product_id")["kg"]
        .sum()
        .items()
    }
    ordered = lines.groupby("product_id")["ordered_kg"].sum()
    short = sorted(p for p, kg in supply.items() if p in ordered and kg < ordered[p] - 1e-9)
    part = lines.loc[lines["product_id"].isin(short)]
    per_shop = part.groupby("site_id")[["allocated_kg", "ordered_kg"]].sum()
    rates = per_shop["allocated_kg"] / per_shop["ordered_kg"]
    given = lines.groupby("product_id")["allocated_kg"].sum()
    s = stage.summary
    row = {
        "name": name,
        "week": week_label(monday),
        "ordered_kg": s["ordered_kg"],
        "delivered_kg": s["delivered_kg"],
        "reported_kg": s["reported_kg"],
        "unaccounted_kg": s["unaccounted_kg"],
        "min_fill_rate": round(float(rates.min()), 6) if len(rates) else 1.0,
        "lp_min_fill_rate": round(maxmin_fill_rate(lines, supply), 6),
        "gini": s["gini"],
        "seconds": round(seconds, 2),
        "short_products": len(short),
        "products_at_most_70pct": sum(
            1 for p in short if supply[p] <= SHORT_RATIO * ordered[p] + 1e-9
        ),
        "allocations_within_supply": bool(
            all(given.get(p, 0.0) <= kg + 1e-6 for p, kg in supply.items())
        ),
        "allocations_within_orders": bool(
            (lines["allocated_kg"] <= lines["ordered_kg"] + 1e-6).all()
        ),
        "routes_carry_the_allocations": abs(s["delivered_on_routes_kg"] - s["delivered_kg"]) < 0.01,
        "routes": s["routes"],
    }
    if out is not None:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(
            lines[["site_id", "product_id", "ordered_kg", "allocated_kg"]],
            folder / "allocation.csv",
            index=False,
        )
        write_csv(
            pd.DataFrame({"product_id": list(supply), "available_kg": list(supply.values())}),
            folder / "supply.csv",
            index=False,
        )
    return row


def run(*, data: Path, out: Path | None = None, console: Any = None) -> dict:
    """Both weeks; prints a table when ``console`` is given."""
    from core.territory import load_territory

    territory = load_territory(data, strict=False)
    weeks = pick_weeks(territory)
    rows = []
    for name, monday in weeks.items():
        t = territory
        if name == "shortage":  # every shop weighs the same in the benchmark's shortage week
            t = dataclasses.replace(territory, sites=territory.sites.assign(share_weight=1.0))
        rows.append(run_one(t, name, monday, out))
    if console is not None:
        from rich.table import Table

        table = Table(title="vivres bench week (kg; fill rates in %)")
        for col in (
            "week",
            "ordered",
            "delivered",
            "short",
            "storage",
            "fleet",
            "min fill",
            "LP",
            "Gini",
            "s",
        ):
            table.add_column(col, justify="right")
        for r in rows:
            rep = r["reported_kg"]
            table.add_row(
                f"{r['name'][:5]} {r['week'][2:]}",
                f"{r['ordered_kg']:,.0f}",
                f"{r['delivered_kg']:,.0f}",
                f"{rep['short_supply']:,.0f}",
                f"{rep['storage']:,.0f}",
                f"{rep['fleet']:,.0f}",
                f"{100 * r['min_fill_rate']:.2f}",
                f"{100 * r['lp_min_fill_rate']:.2f}",
                f"{r['gini']:.3f}",
                f"{r['seconds']:.1f}",
            )
        console.print(table)
    return {"weeks": rows}
