"""Order lines in kilos (``core.units``): the one conversion every package uses."""

from __future__ import annotations

import math

import pandas as pd

from core.territory import load_territory
from core.units import kg_per_order_unit, order_kg

PRODUCTS = pd.DataFrame(
    {"product_id": ["salade", "carotte"], "unit": ["piece", "kg"], "kg_per_unit": [0.4, 1.0]}
)


def test_lines_in_kg_stay_and_catalogue_units_convert():
    orders = pd.DataFrame(
        {
            "product_id": ["salade", "salade", "carotte", "inconnu"],
            "unit": ["piece", "kg", "kg", "piece"],
            "quantity": [10, 3.5, 7, 2],
        }
    )
    kg = order_kg(orders, PRODUCTS)
    assert kg.iloc[:3].tolist() == [4.0, 3.5, 7.0]
    assert math.isnan(kg.iloc[3])  # not in the catalogue: no guess
    assert kg_per_order_unit(orders, PRODUCTS.set_index("product_id")).iloc[:3].tolist() == [
        0.4,
        1.0,
        1.0,
    ]
    assert kg.index.equals(orders.index)


def test_tiny_orders_total_by_hand(tiny_dir):
    territory = load_territory(tiny_dir)
    orders, products = territory.orders, territory.products.set_index("product_id")
    by_hand = sum(
        q if u == "kg" else q * products.at[p, "kg_per_unit"]
        for p, u, q in orders[["product_id", "unit", "quantity"]].itertuples(index=False)
    )
    assert math.isclose(order_kg(orders, territory.products).sum(), by_hand)
