"""Units of the catalogue: order lines in kilos.

Shops order in the catalogue unit of a product (``products.unit``: piece, bunch, …) or in
kilos; ``products.kg_per_unit`` converts the first to the second. Every package that needs an
order line's kilos converts here.
"""

from __future__ import annotations

import pandas as pd

KG = "kg"


def kg_per_order_unit(orders: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Kilos in one unit of each order line: 1 for lines in kg, else the product's
    ``kg_per_unit`` (NaN for a product missing from the catalogue).

    ``products`` is the catalogue, indexed by ``product_id`` or with that column; ``orders``
    has ``product_id`` and ``unit`` (lower case, as the territory reader leaves them).
    """
    per_unit = orders["product_id"].map(_indexed(products)["kg_per_unit"]).astype(float)
    return per_unit.where(orders["unit"] != KG, 1.0)


def order_kg(orders: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Kilos of each order line: ``quantity`` for lines in kg, else ``quantity × kg_per_unit``
    (NaN for a product missing from the catalogue)."""
    per_unit = orders["product_id"].map(_indexed(products)["kg_per_unit"])
    return orders["quantity"].where(orders["unit"] == KG, orders["quantity"] * per_unit)


def _indexed(products: pd.DataFrame) -> pd.DataFrame:
    return products if products.index.name == "product_id" else products.set_index("product_id")
