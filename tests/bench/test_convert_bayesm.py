"""benchmarks/convert_bayesm.py on frames shaped like bayesm's (the real data is not shipped)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import demand
from benchmarks.convert_bayesm import convert_oj, convert_tuna
from core.territory import load_territory


def test_orange_juice_becomes_a_territory_dated_in_the_1990s(tmp_path):
    rows = []
    for store in (2, 5):
        for brand in (1, 2):
            for week in range(40, 50):
                row = {"store": store, "brand": brand, "week": week}
                row["logmove"] = np.log(64 * (100 + week))
                row |= {f"price{b}": 0.04 for b in range(1, 12)}
                row["deal"] = int(week == 45)
                rows.append(row)
    yx = pd.DataFrame(rows)
    assert convert_oj({"orangeJuice": {"yx": yx}}, tmp_path / "oj") == 40
    territory = load_territory(tmp_path / "oj")
    orders = territory.orders
    assert orders["date"].min() == pd.Timestamp("1990-06-14")  # week 40: 1989-09-14 + 39 weeks
    assert orders["quantity"].max() == 149  # cartons of 64 oz
    assert orders["unit_price_eur"].iloc[0] == 2.56
    built = demand.build_weekly_demand(territory)
    assert built.rejects.empty
    assert built.weekly.groupby(["site_id", "product_id"]).ngroups == 4


def test_tuna_becomes_one_chain_of_seven_brands(tmp_path):
    weeks = np.arange(1, 11)
    tuna = pd.DataFrame({"WEEK": weeks})
    for b in range(1, 8):
        tuna[f"MOVE{b}"] = 240 * b
        tuna[f"NSALE{b}"] = np.where(weeks == 5, 0.8, 0.0)
        tuna[f"LPRICE{b}"] = np.log(0.5)
    assert convert_tuna({"tuna": tuna}, tmp_path / "tuna") == 70
    territory = load_territory(tmp_path / "tuna")
    assert set(territory.orders["site_id"]) == {"dom_chain"}
    assert territory.orders["date"].min() == pd.Timestamp("1989-09-14")
    assert (territory.orders["promo"] == "oui").sum() == 7
