"""What-ifs of a delivery week: a farm delivers nothing, a product comes at a share of its
supply; the new allocation and routes side by side with the base week.

``supply_change(territory, farms=…, products=…)`` returns the ``supply → supply`` callable that
``api.week.run_week`` takes as ``supply_change``; :func:`compare` puts two weeks side by side
per shop, and :func:`compare_summary` their headline figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from core.csvio import DEFAULT_LANG, Lang, write_user_csv
from core.errors import InputError
from core.territory import Territory


def parse_product_share(text: str) -> tuple[str, float]:
    """``carotte=0.6`` or ``carotte=60%`` → (``carotte``, 0.6)."""
    product, sep, value = str(text).partition("=")
    try:
        share = float(value.strip().rstrip("%").replace(",", "."))
    except ValueError:
        share = -1.0
    if value.strip().endswith("%"):
        share /= 100
    if not sep or not product.strip() or not 0 <= share <= 10:
        raise InputError(
            f"--what-if-product {text!r}: expected PRODUCT=SHARE (0.6 or 60%), share 0–10"
        )
    return product.strip(), share


def supply_change(
    territory: Territory,
    *,
    farms: Iterable[str] = (),
    products: Iterable[tuple[str, float]] = (),
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A change of the week's supply: ``farms`` (site or producer ids) deliver nothing; each
    ``(product, share)`` comes at that share of its supply (a product bought in becomes limited
    to that share of its orders)."""
    site_of = dict(
        zip(territory.producers["producer_id"], territory.producers["site_id"], strict=True)
    )
    kinds = territory.sites.set_index("site_id")["kind"]
    out_sites = set()
    for farm in farms:
        site = site_of.get(farm, farm)
        if kinds.get(site) != "farm":
            raise InputError(f"--what-if-farm {farm!r}: not a farm or producer of the territory")
        out_sites.add(site)
    shares = dict(products)
    unknown = sorted(set(shares) - set(territory.products["product_id"]))
    if unknown:
        raise InputError(f"--what-if-product {unknown[0]!r}: not a product of the catalogue")

    def change(supply: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
        supply = supply.copy()
        supply.loc[supply["site_id"].isin(out_sites), "kg"] = 0.0
        ordered = orders.groupby("product_id")["ordered_kg"].sum()
        for product, share in shares.items():
            rows = supply["product_id"] == product
            bought = rows & (supply["source"] == "hub")
            supply.loc[rows & ~bought, "kg"] *= share
            supply.loc[bought, "kg"] = float(ordered.get(product, 0.0)) * share
            supply.loc[bought, "source"] = "what-if"
        return supply

    return change


def compare(base, other) -> pd.DataFrame:
    """Per shop: ordered, allocated and delivered kilos in the base and in the what-if."""
    cols = ["ordered_kg", "allocated_kg", "delivered_kg"]
    a = base.lines.groupby("site_id")[cols].sum()
    b = other.lines.groupby("site_id")[cols].sum()
    table = a.join(b, lsuffix="_base", rsuffix="_what_if", how="outer").fillna(0.0)
    table["allocated_change_kg"] = table["allocated_kg_what_if"] - table["allocated_kg_base"]
    table["delivered_change_kg"] = table["delivered_kg_what_if"] - table["delivered_kg_base"]
    return table.reset_index()


def compare_summary(base, other) -> dict:
    """The two weeks' headline figures and the differences."""
    keys = ("delivered_kg", "min_fill_rate", "gini", "undistributed_kg")
    out: dict = {}
    for key in keys:
        out[key] = {"base": base.summary[key], "what_if": other.summary[key]}
    for key in ("short_supply", "storage", "fleet"):
        out[f"{key}_kg"] = {
            "base": base.summary["reported_kg"][key],
            "what_if": other.summary["reported_kg"][key],
        }
    for key in ("km", "cost_eur", "unserved"):
        out[f"routes_{key}"] = {
            "base": base.summary["routes"][key],
            "what_if": other.summary["routes"][key],
        }
    return out


def write_what_if(
    base, other, territory: Territory, out: Path, *, lang: Lang = DEFAULT_LANG
) -> tuple[list[Path], dict]:
    """Write the what-if week in ``out/what_if/`` and ``what_if_compare.csv`` / ``.json``."""
    from api.week_outputs import write_week

    out = Path(out)
    files = write_week(other, territory, out / "what_if", lang=lang)
    files += write_user_csv(compare(base, other), out / "what_if_compare.csv", lang=lang)
    figures = compare_summary(base, other)
    (out / "what_if_compare.json").write_text(json.dumps(figures, indent=2))
    return [*files, out / "what_if_compare.json"], figures
